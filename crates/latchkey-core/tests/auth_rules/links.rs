//! Link tokens (email verification and password reset): each works once, until it expires,
//! only for its own purpose and project; a newer reset link supersedes the older one; a reset
//! sets the password, verifies the address and ends every session.

use latchkey_core::CoreError;
use latchkey_core::auth::LinkStatus;
use latchkey_core::domain::LinkPurpose;
use latchkey_core::store::CoreStore;

use super::{PASSWORD, World, world};

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn verification_token(w: &World, email: &str) -> (latchkey_core::auth::Credentials, String) {
    let creds = w.sign_up(email).await;
    w.services.email_links.send_verification_email(w.project, creds.user.id).await.unwrap();
    (creds, w.mailed_token().await)
}

async fn reset_token(w: &World, email: &str) -> String {
    w.services.email_links.request_password_reset(w.project, email).await.unwrap();
    w.mailed_token().await
}

async fn status(w: &World, purpose: LinkPurpose, token: &str) -> LinkStatus {
    w.services.email_links.link_status(w.project, purpose, token).await.unwrap()
}

#[tokio::test]
async fn a_verification_link_works_once() {
    let w = world(|_| {}).await;
    let (creds, token) = verification_token(&w, "verify@example.com").await;
    let expires_at = w.now() + chrono::Duration::hours(24);
    assert_eq!(status(&w, LinkPurpose::VerifyEmail, &token).await, LinkStatus::Valid { expires_at });

    w.services.email_links.verify_email(w.project, &token).await.unwrap();
    assert!(w.store.get_user(w.project, creds.user.id).await.unwrap().unwrap().is_verified);
    let err = w.services.email_links.verify_email(w.project, &token).await.unwrap_err();
    assert!(matches!(err, CoreError::InvalidOrExpiredToken), "{err:?}");
    assert_eq!(status(&w, LinkPurpose::VerifyEmail, &token).await, LinkStatus::Used);
    let err = w.services.email_links.send_verification_email(w.project, creds.user.id).await.unwrap_err();
    assert!(matches!(err, CoreError::AlreadyVerified), "{err:?}");
}

#[tokio::test]
async fn a_link_expires() {
    let w = world(|_| {}).await;
    let (creds, token) = verification_token(&w, "late@example.com").await;
    w.advance(24 * 3600 - 1);
    assert!(matches!(status(&w, LinkPurpose::VerifyEmail, &token).await, LinkStatus::Valid { .. }));
    w.advance(1);
    assert_eq!(status(&w, LinkPurpose::VerifyEmail, &token).await, LinkStatus::Expired);
    let err = w.services.email_links.verify_email(w.project, &token).await.unwrap_err();
    assert!(matches!(err, CoreError::InvalidOrExpiredToken), "{err:?}");
    assert!(!w.store.get_user(w.project, creds.user.id).await.unwrap().unwrap().is_verified);

    let reset = reset_token(&w, "late@example.com").await;
    w.advance(3600);
    assert_eq!(status(&w, LinkPurpose::PasswordReset, &reset).await, LinkStatus::Expired);
    let err = w.services.email_links.reset_password(w.project, &reset, NEW_PASSWORD.into()).await.unwrap_err();
    assert!(matches!(err, CoreError::InvalidResetToken), "{err:?}");
}

#[tokio::test]
async fn a_link_works_only_for_its_purpose_and_project() {
    let w = world(|_| {}).await;
    let (creds, verify) = verification_token(&w, "purpose@example.com").await;
    let reset = reset_token(&w, "purpose@example.com").await;

    let err = w.services.email_links.reset_password(w.project, &verify, NEW_PASSWORD.into()).await.unwrap_err();
    assert!(matches!(err, CoreError::InvalidResetToken), "{err:?}");
    assert_eq!(status(&w, LinkPurpose::PasswordReset, &verify).await, LinkStatus::Invalid);
    let err = w.services.email_links.verify_email(w.project, &reset).await.unwrap_err();
    assert!(matches!(err, CoreError::InvalidOrExpiredToken), "{err:?}");
    assert_eq!(status(&w, LinkPurpose::VerifyEmail, &reset).await, LinkStatus::Invalid);

    let other = w.admin.projects.create_project("other", Default::default()).await.unwrap().id;
    assert_eq!(
        w.services.email_links.link_status(other, LinkPurpose::VerifyEmail, &verify).await.unwrap(),
        LinkStatus::Invalid
    );
    assert!(matches!(w.services.email_links.verify_email(other, &verify).await, Err(CoreError::InvalidOrExpiredToken)));

    // None of the refusals used them up.
    w.services.email_links.verify_email(w.project, &verify).await.unwrap();
    w.services.email_links.reset_password(w.project, &reset, NEW_PASSWORD.into()).await.unwrap();
    assert!(w.store.get_user(w.project, creds.user.id).await.unwrap().unwrap().is_verified);
}

#[tokio::test]
async fn a_reset_sets_the_password_once_and_ends_every_session() {
    let w = world(|_| {}).await;
    let creds = w.sign_up("reset@example.com").await;
    let token = reset_token(&w, "reset@example.com").await;

    w.services.email_links.reset_password(w.project, &token, NEW_PASSWORD.into()).await.unwrap();
    let err = w.refresh(&creds.tokens.refresh_token).await.unwrap_err();
    assert!(matches!(err, CoreError::RefreshTokenInvalid), "the earlier session ended: {err:?}");
    assert!(matches!(w.sign_in("reset@example.com", PASSWORD).await, Err(CoreError::InvalidCredentials)));
    let signed_in = w.sign_in("reset@example.com", NEW_PASSWORD).await.unwrap();
    assert!(signed_in.user.is_verified, "the link proved the address");

    assert_eq!(status(&w, LinkPurpose::PasswordReset, &token).await, LinkStatus::Used);
    let err =
        w.services.email_links.reset_password(w.project, &token, "yet another passphrase".into()).await.unwrap_err();
    assert!(matches!(err, CoreError::InvalidResetToken), "{err:?}");
    w.sign_in("reset@example.com", NEW_PASSWORD).await.unwrap();
}

#[tokio::test]
async fn a_newer_reset_link_supersedes_the_older() {
    let w = world(|_| {}).await;
    w.sign_up("twice@example.com").await;
    let older = reset_token(&w, "twice@example.com").await;
    let newer = reset_token(&w, "twice@example.com").await;

    assert_eq!(status(&w, LinkPurpose::PasswordReset, &older).await, LinkStatus::Superseded);
    let err = w.services.email_links.reset_password(w.project, &older, NEW_PASSWORD.into()).await.unwrap_err();
    assert!(matches!(err, CoreError::InvalidResetToken), "{err:?}");
    w.services.email_links.reset_password(w.project, &newer, NEW_PASSWORD.into()).await.unwrap();
    w.sign_in("twice@example.com", NEW_PASSWORD).await.unwrap();
}

#[tokio::test]
async fn garbage_tokens_are_invalid() {
    let w = world(|_| {}).await;
    for token in ["", "not-a-token", &"x".repeat(300)] {
        assert_eq!(status(&w, LinkPurpose::VerifyEmail, token).await, LinkStatus::Invalid);
        assert!(matches!(
            w.services.email_links.verify_email(w.project, token).await,
            Err(CoreError::InvalidOrExpiredToken)
        ));
    }
}
