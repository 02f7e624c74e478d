//! The sign-in lockout: more than `max_failed_sign_ins` counted attempts for one (project,
//! email) inside the fixed window are refused, even with the right password, until the window
//! ends; a success clears the count; other addresses are not affected.

use latchkey_core::CoreError;

use super::{PASSWORD, World, world};

const MAX: u32 = 3;
const WINDOW: i64 = 15 * 60;

async fn limited() -> World {
    world(|policy| {
        policy.max_failed_sign_ins = MAX;
        policy.failure_window_secs = WINDOW;
    })
    .await
}

async fn fail(w: &World, email: &str) {
    let err = w.sign_in(email, "wrong password").await.unwrap_err();
    assert!(matches!(err, CoreError::InvalidCredentials), "{err:?}");
}

fn retry_after(result: latchkey_core::Result<impl std::fmt::Debug>) -> u64 {
    match result {
        Err(CoreError::TooManyAttempts { retry_after_secs }) => retry_after_secs,
        other => panic!("expected a lockout, got {other:?}"),
    }
}

#[tokio::test]
async fn failures_lock_the_address_until_the_window_ends() {
    let w = limited().await;
    w.sign_up("locked@example.com").await;
    w.sign_up("bystander@example.com").await;
    for _ in 0..MAX {
        fail(&w, "locked@example.com").await;
    }
    assert_eq!(retry_after(w.sign_in("locked@example.com", PASSWORD).await), WINDOW as u64, "even the right password");

    // Another address of the same project is not locked.
    w.sign_in("bystander@example.com", PASSWORD).await.unwrap();

    // The window is fixed: refused attempts do not lengthen it.
    w.advance(WINDOW - 100);
    assert_eq!(retry_after(w.sign_in("locked@example.com", PASSWORD).await), 100);
    w.advance(100);
    let creds = w.sign_in("locked@example.com", PASSWORD).await.unwrap();
    assert_eq!(creds.user.email.as_deref(), Some("locked@example.com"), "a new window starts from zero");
}

#[tokio::test]
async fn unknown_addresses_are_counted_like_wrong_passwords() {
    let w = limited().await;
    for _ in 0..MAX {
        fail(&w, "nobody@example.com").await;
    }
    retry_after(w.sign_in("nobody@example.com", PASSWORD).await);
}

#[tokio::test]
async fn a_success_clears_the_count() {
    let w = limited().await;
    w.sign_up("clear@example.com").await;
    for _ in 0..MAX - 1 {
        fail(&w, "clear@example.com").await;
    }
    w.sign_in("clear@example.com", PASSWORD).await.unwrap();
    // Without the clear, the next failure would already be the lockout.
    for _ in 0..MAX {
        fail(&w, "clear@example.com").await;
    }
    retry_after(w.sign_in("clear@example.com", PASSWORD).await);
}

#[tokio::test]
async fn the_address_is_counted_after_normalisation() {
    let w = limited().await;
    w.sign_up("case@example.com").await;
    for email in ["CASE@example.com", " case@Example.com", "case@EXAMPLE.COM"] {
        fail(&w, email).await;
    }
    retry_after(w.sign_in("case@example.com", PASSWORD).await);
}
