//! Every call of the seed document, in order, through the Rust SDK, then local verification
//! of the access token.
//!
//! ```sh
//! LATCHKEY_URL=http://127.0.0.1:8787 LATCHKEY_PROJECT_ID=… LATCHKEY_API_KEY=lk_… \
//!   cargo run -p latchkey-client --example seed
//! ```
//!
//! RESET_TOKEN and VERIFICATION_TOKEN (from the emails' links) and SIGNED_JWT (an HS256 JWT
//! from your own auth system, signed with the project's signing secret) enable the calls
//! that need them.

use latchkey_client::{
    CheckUsernameAvailability, Client, Error, RequestNewAccessToken, RequestPasswordReset, ResetPassword,
    SendVerificationEmail, SignIn, SignOut, SignUp, VerifyEmail, VerifyExternalUser,
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let client = Client::connect(
        env("LATCHKEY_URL").unwrap_or_else(|| "http://127.0.0.1:8787".into()),
        env("LATCHKEY_PROJECT_ID").expect("set LATCHKEY_PROJECT_ID"),
        env("LATCHKEY_API_KEY").expect("set LATCHKEY_API_KEY"),
    )
    .await?;

    let availability =
        client.users().check_username_availability(CheckUsernameAvailability { username: "alice".into() }).await?;
    println!("alice available: {}", availability.available);

    if availability.available {
        let created = client
            .auth()
            .sign_up(SignUp {
                email: "user@example.com".into(),
                password: "s3cur3P@ss".into(),
                name: Some("Alice".into()),
                username: Some("alice".into()),
                ..Default::default()
            })
            .await?;
        println!("signed up {}", created.user.id);
    }

    let signed_in =
        client.auth().sign_in(SignIn { email: "user@example.com".into(), password: "s3cur3P@ss".into() }).await?;
    println!("signed in {}", signed_in.user.id);

    // What your server does on every request: verify locally against the cached JWKS.
    let claims = client.verify_access_token(&signed_in.access_token).await?;
    println!("token of user {} (session {}, role {})", claims.sub, claims.sid, claims.role);

    // The refresh token rotates: keep the new one.
    let refreshed = client
        .auth()
        .request_new_access_token(RequestNewAccessToken { refresh_token: signed_in.refresh_token })
        .await?;
    println!("new access token {}…", &refreshed.access_token[..16]);

    client.auth().sign_out(SignOut { refresh_token: refreshed.refresh_token }).await?;
    println!("signed out");

    if let Some(signed_jwt) = env("SIGNED_JWT") {
        let external = client.auth().verify_external_user(VerifyExternalUser { user_jwt: signed_jwt }).await?;
        println!("external user {} ({:?})", external.user.id, external.user.foreign_id);
    }

    match client.auth().send_verification_email(SendVerificationEmail { user_id: signed_in.user.id.clone() }).await {
        Ok(()) => println!("verification email sent"),
        Err(e) if e.code() == Some("auth/already-verified") => println!("already verified"),
        Err(e) => return Err(e),
    }
    if let Some(token) = env("VERIFICATION_TOKEN") {
        client.auth().verify_email(VerifyEmail { token }).await?;
        println!("email verified");
    }

    client.auth().request_password_reset(RequestPasswordReset { email: "user@example.com".into() }).await?;
    println!("password reset requested (check the inbox)");
    if let Some(token) = env("RESET_TOKEN") {
        client.auth().reset_password(ResetPassword { token, new_password: "newS3cur3P@ss".into() }).await?;
        println!("password reset");
    }

    // Errors carry the HTTP status and the API's code, message and field.
    let err = client
        .auth()
        .sign_in(SignIn { email: "user@example.com".into(), password: "wrong-password".into() })
        .await
        .expect_err("wrong password");
    println!("sign-in refused: {:?} {:?} {err}", err.status(), err.code());
    Ok(())
}
