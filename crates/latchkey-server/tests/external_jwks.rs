//! A project's JWKS URL: keys fetched from a loopback server, cached, refreshed on an unknown
//! `kid` at a bounded rate, and kept when the URL fails.

mod common;
mod external_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode as AxumStatus;
use axum::routing::get;
use common::{TestApp, assert_error};
use external_support::{KeyPair, claims, ed25519_pair, p256_pair, sign};
use latchkey_core::clock::Clock;
use latchkey_core::store::ExternalSettings;
use latchkey_server::jwks_fetch::HttpJwksFetcher;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Jwks {
    document: Arc<Mutex<Option<Value>>>,
    fetches: Arc<AtomicUsize>,
}

impl Jwks {
    fn serve(&self, keys: &[(&KeyPair, &str)]) {
        let keys: Vec<Value> = keys
            .iter()
            .map(|(pair, kid)| {
                let mut jwk = pair.public_jwk.clone();
                jwk["kid"] = json!(kid);
                jwk
            })
            .collect();
        *self.document.lock().unwrap() = Some(json!({ "keys": keys }));
    }

    fn fail(&self) {
        *self.document.lock().unwrap() = None;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

async fn jwks_handler(State(jwks): State<Jwks>) -> Result<axum::Json<Value>, AxumStatus> {
    jwks.fetches.fetch_add(1, Ordering::SeqCst);
    jwks.document.lock().unwrap().clone().map(axum::Json).ok_or(AxumStatus::INTERNAL_SERVER_ERROR)
}

async fn spawn_jwks(jwks: Jwks) -> String {
    let app = Router::new().route("/jwks.json", get(jwks_handler)).with_state(jwks);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/jwks.json")
}

async fn verify(app: &TestApp, pair: &KeyPair, kid: &str, sub: &str) -> (StatusCode, Value) {
    let c = claims(&app.project.to_string(), app.clock.now().timestamp(), sub, json!({}));
    app.post("/auth/verify-external-user", json!({ "userJwt": sign(pair.alg, Some(kid), &c, &pair.encoding) })).await
}

#[tokio::test]
async fn jwks_url_keys_verify_tokens_with_cache_and_bounded_refresh() {
    let app = TestApp::spawn().await;
    app.services.external_sign_in.install_jwks_fetcher(Arc::new(HttpJwksFetcher::new().unwrap()));
    let jwks = Jwks::default();
    let url = spawn_jwks(jwks.clone()).await;
    let first = ed25519_pair();
    let second = p256_pair();
    jwks.serve(&[(&first, "k1")]);

    let external = &app.admin.external;
    // Plain http is refused unless the host is loopback.
    let remote = ExternalSettings { jwks_url: Some("http://example.com/jwks.json".into()), ..Default::default() };
    assert!(external.update_settings(app.project, remote).await.is_err());
    let settings = ExternalSettings { jwks_url: Some(url), ..Default::default() };
    external.update_settings(app.project, settings).await.unwrap();

    let (status, body) = verify(&app, &first, "k1", "jwks-user").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["foreignId"], "jwks-user");
    assert_eq!(verify(&app, &first, "k1", "jwks-user").await.0, StatusCode::OK);
    assert_eq!(jwks.fetches(), 1, "the second token used the cache");

    // The customer rotates to a new key. An unknown kid refetches, but not more than once per 30 s.
    jwks.serve(&[(&second, "k2")]);
    assert_error(&verify(&app, &second, "k2", "jwks-user").await, StatusCode::FORBIDDEN, "auth/invalid-token");
    assert_eq!(jwks.fetches(), 1, "refresh is rate-limited");
    app.advance(31);
    assert_eq!(verify(&app, &second, "k2", "jwks-user").await.0, StatusCode::OK);
    assert_eq!(jwks.fetches(), 2);
    for kid in ["junk-1", "junk-2", "junk-3"] {
        assert_error(&verify(&app, &second, kid, "jwks-user").await, StatusCode::FORBIDDEN, "auth/invalid-token");
    }
    assert_eq!(jwks.fetches(), 2, "garbage kids cannot make Latchkey hammer the URL");
    // The old key left the document: refused.
    app.advance(31);
    assert_error(&verify(&app, &first, "k1", "jwks-user").await, StatusCode::FORBIDDEN, "auth/invalid-token");

    // The URL fails: the last good keys keep working.
    jwks.fail();
    app.advance(10 * 60);
    assert_eq!(verify(&app, &second, "k2", "jwks-user").await.0, StatusCode::OK);
    assert!(jwks.fetches() >= 3);
    // ...but not forever: a day after the last good fetch, the stale keys are dropped.
    app.advance(24 * 3600);
    assert_error(&verify(&app, &second, "k2", "jwks-user").await, StatusCode::FORBIDDEN, "auth/invalid-token");
    // The URL recovers: keys work again.
    jwks.serve(&[(&second, "k2")]);
    app.advance(31);
    assert_eq!(verify(&app, &second, "k2", "jwks-user").await.0, StatusCode::OK);
}
