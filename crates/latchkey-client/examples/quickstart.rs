//! The README's Rust quick start: sign up, verify the access token locally, refresh, and a
//! typed error. Run with LATCHKEY_URL, LATCHKEY_PROJECT_ID and LATCHKEY_API_KEY set:
//! `cargo run -p latchkey-client --example quickstart`.

use latchkey_client::{Client, Error, RequestNewAccessToken, SignIn, SignUp};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("set {name}"));
    let client = Client::connect(var("LATCHKEY_URL"), var("LATCHKEY_PROJECT_ID"), var("LATCHKEY_API_KEY")).await?;

    let created = client
        .auth()
        .sign_up(SignUp {
            email: "carol@example.com".into(),
            password: "s3cur3P@ss".into(),
            name: Some("Carol".into()),
            username: Some("carol".into()),
            ..Default::default()
        })
        .await?;
    let claims = client.verify_access_token(&created.access_token).await?; // local, JWKS cached
    println!("signed up {} (role {})", claims.sub, claims.role);

    let refreshed =
        client.auth().request_new_access_token(RequestNewAccessToken { refresh_token: created.refresh_token }).await?; // rotates: keep refreshed.refresh_token
    println!("refreshed; new refresh token received: {}", !refreshed.refresh_token.is_empty());

    let wrong = SignIn { email: "carol@example.com".into(), password: "wrong".into() };
    match client.auth().sign_in(wrong).await {
        Err(e) => println!("{:?} {:?}", e.status(), e.code()), // Some(401) Some("auth/invalid-credentials")
        Ok(_) => panic!("a wrong password signed in"),
    }
    Ok(())
}
