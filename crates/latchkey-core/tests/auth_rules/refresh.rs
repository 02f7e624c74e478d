//! Refresh rotation: each exchange mints the session's next generation; only the token just
//! replaced may be replayed, inside the grace window, and gets the same pair; any other replay
//! is reuse and ends the session; racing exchanges of one token mint one generation.

use latchkey_core::CoreError;
use latchkey_core::crypto::digest;
use latchkey_core::store::CoreStore;

use super::world;

#[tokio::test]
async fn an_exchange_mints_the_next_generation() {
    let w = world(|_| {}).await;
    let first = w.sign_up("rotate@example.com").await;
    let session = w.claims(&first.tokens.refresh_token).await.sid;
    assert_eq!(w.claims(&first.tokens.refresh_token).await.generation, 0);

    let second = w.refresh(&first.tokens.refresh_token).await.unwrap();
    assert_ne!(second.tokens.refresh_token, first.tokens.refresh_token, "a new refresh token");
    let claims = w.claims(&second.tokens.refresh_token).await;
    assert_eq!((claims.sid, claims.generation), (session, 1), "same session, next generation");
    assert_eq!(second.user.id, first.user.id);

    let stored = w.store.get_session(w.project, session).await.unwrap().unwrap();
    assert_eq!(stored.generation, 1);
    assert_eq!(stored.current_digest, digest(&second.tokens.refresh_token));
    assert_eq!(stored.previous_digest, Some(digest(&first.tokens.refresh_token)));

    // Long after the grace window the newest token still works, and mints generation 2.
    w.advance(3600);
    let third = w.refresh(&second.tokens.refresh_token).await.unwrap();
    assert_eq!(w.claims(&third.tokens.refresh_token).await.generation, 2);
}

#[tokio::test]
async fn a_replay_inside_the_grace_window_gets_the_same_pair() {
    let w = world(|_| {}).await;
    let first = w.sign_up("grace@example.com").await;
    let second = w.refresh(&first.tokens.refresh_token).await.unwrap();

    w.advance(w.policy.refresh_grace_secs);
    let replayed = w.refresh(&first.tokens.refresh_token).await.unwrap();
    assert_eq!(replayed.tokens, second.tokens, "the pair the first exchange minted, at the window's last second");
    let session = w.claims(&second.tokens.refresh_token).await.sid;
    let stored = w.store.get_session(w.project, session).await.unwrap().unwrap();
    assert_eq!((stored.generation, stored.revoked_at), (1, None), "no new generation, session alive");
    // The current token keeps working after the replay.
    w.refresh(&second.tokens.refresh_token).await.unwrap();
}

#[tokio::test]
async fn a_replay_after_the_grace_window_revokes_the_session() {
    let w = world(|_| {}).await;
    let first = w.sign_up("reuse@example.com").await;
    let second = w.refresh(&first.tokens.refresh_token).await.unwrap();
    let session = w.claims(&second.tokens.refresh_token).await.sid;

    w.advance(w.policy.refresh_grace_secs + 1);
    let err = w.refresh(&first.tokens.refresh_token).await.unwrap_err();
    assert!(matches!(err, CoreError::TokenReuseDetected), "{err:?}");
    let stored = w.store.get_session(w.project, session).await.unwrap().unwrap();
    assert_eq!(stored.revoked_at, Some(w.now()), "the whole session ends");
    // The thief's and the owner's tokens are both dead now.
    let err = w.refresh(&second.tokens.refresh_token).await.unwrap_err();
    assert!(matches!(err, CoreError::RefreshTokenInvalid), "{err:?}");
}

#[tokio::test]
async fn only_the_token_just_replaced_has_a_grace_window() {
    let w = world(|_| {}).await;
    let first = w.sign_up("older@example.com").await;
    let second = w.refresh(&first.tokens.refresh_token).await.unwrap();
    let third = w.refresh(&second.tokens.refresh_token).await.unwrap();

    // No time has passed, but generation 0 is two exchanges old.
    let err = w.refresh(&first.tokens.refresh_token).await.unwrap_err();
    assert!(matches!(err, CoreError::TokenReuseDetected), "{err:?}");
    assert!(matches!(w.refresh(&third.tokens.refresh_token).await, Err(CoreError::RefreshTokenInvalid)));
}

#[tokio::test]
async fn a_refresh_token_of_another_project_or_a_signed_out_session_is_refused() {
    let w = world(|_| {}).await;
    let creds = w.sign_up("scoped@example.com").await;
    let other = w.admin.projects.create_project("other", Default::default()).await.unwrap().id;
    let err = w.services.sessions.refresh(other, &creds.tokens.refresh_token).await.unwrap_err();
    assert!(matches!(err, CoreError::RefreshTokenProjectMismatch), "{err:?}");

    w.services.sessions.sign_out(w.project, &creds.tokens.refresh_token).await.unwrap();
    let err = w.refresh(&creds.tokens.refresh_token).await.unwrap_err();
    assert!(matches!(err, CoreError::RefreshTokenInvalid), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_exchanges_of_one_token_mint_one_generation() {
    let w = world(|_| {}).await;
    let first = w.sign_up("race@example.com").await;
    let session = w.claims(&first.tokens.refresh_token).await.sid;

    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let sessions = w.services.sessions.clone();
            let (project, token) = (w.project, first.tokens.refresh_token.clone());
            tokio::spawn(async move { sessions.refresh(project, &token).await })
        })
        .collect();
    let mut pairs = Vec::new();
    for task in tasks {
        pairs.push(task.await.unwrap().expect("every racer inside the grace window succeeds").tokens);
    }
    assert!(pairs.iter().all(|p| *p == pairs[0]), "every racer got the one new pair");
    let stored = w.store.get_session(w.project, session).await.unwrap().unwrap();
    assert_eq!(stored.generation, 1, "exactly one exchange rotated the session");
    assert_eq!(stored.current_digest, digest(&pairs[0].refresh_token));
}
