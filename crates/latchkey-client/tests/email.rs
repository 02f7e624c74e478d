//! The seed's email calls through the Rust SDK against the real server, with the reset and
//! verification tokens taken from real emails received over SMTP on loopback.

mod common;

use common::Server;
use common::smtp::Mailbox;
use latchkey_client::{
    Client, RequestNewAccessToken, RequestPasswordReset, ResetPassword, SendVerificationEmail, SignIn, SignUp,
    VerifyEmail,
};

async fn setup() -> (Mailbox, Server, Client, String) {
    let mailbox = Mailbox::start().await;
    let server = Server::start_with_mail(&mailbox).await;
    let client = server.client();
    let created = client
        .auth()
        .sign_up(SignUp {
            email: "user@example.com".into(),
            password: "s3cur3P@ss".into(),
            name: Some("Alice".into()),
            username: Some("alice".into()),
            ..Default::default()
        })
        .await
        .expect("sign up");
    (mailbox, server, client, created.user.id)
}

#[tokio::test]
async fn seed_send_verification_email_and_verify_email() {
    let (mailbox, _server, client, user_id) = setup().await;
    let before = mailbox.messages().len();
    let () = client.auth().send_verification_email(SendVerificationEmail { user_id: user_id.clone() }).await.unwrap();
    let verification_token = mailbox.wait_for("user@example.com", before).await.token();
    assert!(verification_token.len() >= 43, "at least 256 bits");

    let () = client.auth().verify_email(VerifyEmail { token: verification_token.clone() }).await.unwrap();
    let signed_in = client
        .auth()
        .sign_in(SignIn { email: "user@example.com".into(), password: "s3cur3P@ss".into() })
        .await
        .unwrap();
    assert!(signed_in.user.is_verified);

    let reused = client.auth().verify_email(VerifyEmail { token: verification_token }).await.unwrap_err();
    assert_eq!((reused.status(), reused.code()), (Some(400), Some("auth/invalid-or-expired-token")));
    let again = client.auth().send_verification_email(SendVerificationEmail { user_id }).await.unwrap_err();
    assert_eq!((again.status(), again.code()), (Some(409), Some("auth/already-verified")));
}

#[tokio::test]
async fn seed_request_password_reset_and_reset_password() {
    let (mailbox, _server, client, user_id) = setup().await;
    let old_session = client
        .auth()
        .sign_in(SignIn { email: "user@example.com".into(), password: "s3cur3P@ss".into() })
        .await
        .unwrap();
    let before = mailbox.messages().len();
    let () =
        client.auth().request_password_reset(RequestPasswordReset { email: "user@example.com".into() }).await.unwrap();
    let reset_token = mailbox.wait_for("user@example.com", before).await.token();

    let () = client
        .auth()
        .reset_password(ResetPassword { token: reset_token.clone(), new_password: "newS3cur3P@ss".into() })
        .await
        .unwrap();
    let signed_in = client
        .auth()
        .sign_in(SignIn { email: "user@example.com".into(), password: "newS3cur3P@ss".into() })
        .await
        .unwrap();
    assert_eq!(signed_in.user.id, user_id);
    let old = client.auth().sign_in(SignIn { email: "user@example.com".into(), password: "s3cur3P@ss".into() }).await;
    assert_eq!(old.unwrap_err().code(), Some("auth/invalid-credentials"));
    let revoked = client
        .auth()
        .request_new_access_token(RequestNewAccessToken { refresh_token: old_session.refresh_token })
        .await
        .unwrap_err();
    assert_eq!(revoked.status(), Some(403), "a reset ends every session");
    let reused = client
        .auth()
        .reset_password(ResetPassword { token: reset_token, new_password: "newS3cur3P@ss".into() })
        .await
        .unwrap_err();
    assert_eq!((reused.status(), reused.code()), (Some(400), Some("auth/invalid-reset-token")));

    // Unknown email: the same answer, and no email.
    let before = mailbox.messages().len();
    client.auth().request_password_reset(RequestPasswordReset { email: "nobody@example.com".into() }).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(mailbox.messages()[before..].iter().all(|m| !m.to.iter().any(|t| t == "nobody@example.com")));
}
