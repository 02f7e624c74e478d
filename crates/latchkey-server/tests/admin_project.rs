//! The project part of the admin API (issue 10): renaming, signing-key rotation with the JWKS
//! as the only thing a verifier trusts, the audit trail (filters, pages, an entry for every
//! admin action and security event), deletion, and the scope and isolation of each route.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{ISSUER, TestApp, assert_error};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use latchkey_core::clock::Clock;
use latchkey_core::domain::{ApiKeyScope, Project, ProjectId, ProjectSettings};
use latchkey_core::mail::{OutboxQueue, Prepared};
use latchkey_core::store::Claim;
use latchkey_core::tokens::SigningKey;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

/// An admin call on any project: status, body and headers.
async fn call(
    app: &TestApp,
    project: ProjectId,
    key: &str,
    method: Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value, HeaderMap) {
    let mut request = app.http.request(method, app.url(project, &format!("/admin{path}"))).bearer_auth(key);
    if !body.is_null() {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let headers = response.headers().clone();
    let (status, body) = common::read(response).await;
    (status, body, headers)
}

/// `call` on the app's project, without the headers.
async fn admin(app: &TestApp, key: &str, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
    let (status, body, _) = call(app, app.project, key, method, path, body).await;
    (status, body)
}

/// The project's JWKS, as a customer's server fetches (and caches) it.
async fn jwks(app: &TestApp, project: ProjectId) -> JwkSet {
    let response = app.http.get(app.url(project, "/.well-known/jwks.json")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    response.json().await.unwrap()
}

fn kids(set: &JwkSet) -> Vec<String> {
    set.keys.iter().filter_map(|k| k.common.key_id.clone()).collect()
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.expect("a kid")
}

/// What a customer's server does with nothing but a JWKS: the key by `kid`, EdDSA pinned,
/// `aud` and `iss` checked, `exp` judged by the test server's clock.
fn verify(token: &str, set: &JwkSet, project: ProjectId, now: DateTime<Utc>) -> Result<Value, String> {
    let kid = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?.kid.ok_or("no kid")?;
    let jwk = set.find(&kid).ok_or_else(|| format!("kid {kid} is not in the JWKS"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&[project.to_string()]);
    validation.set_issuer(&[ISSUER]);
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(|e| e.to_string())?.claims;
    match claims["exp"].as_i64() {
        Some(exp) if exp > now.timestamp() => Ok(claims),
        _ => Err("expired".into()),
    }
}

fn now(app: &TestApp) -> DateTime<Utc> {
    app.clock.now()
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    app.post("/auth/sign-in", json!({ "email": email, "password": password })).await
}

/// The app's audit trail through the API, newest first (one page of up to 1000).
async fn trail(app: &TestApp, key: &str, query: &str) -> Vec<Value> {
    let (status, body) = admin(app, key, Method::GET, &format!("/audit?limit=1000{query}"), Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["events"].as_array().unwrap().clone()
}

fn actions(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["action"].as_str().unwrap()).collect()
}

/// The database URL of the app (for walking its tables).
fn database_url(app: &TestApp) -> String {
    match &app.postgres {
        Some(db) => db.url().to_owned(),
        None => format!("sqlite://{}", app.dir.path().join("test.db").display()),
    }
}

#[tokio::test]
async fn the_project_is_renamed_at_once_with_its_record() {
    let app = TestApp::spawn().await;
    let key = app.admin_key_of(app.project).await;
    let page_url = app.url(app.project, "/auth/reset-password-page?token=nope");
    let page = app.http.get(&page_url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Test project"), "the hosted page shows the name (and caches it)");

    let (status, body, headers) =
        call(&app, app.project, &key, Method::PATCH, "/project", json!({ "name": "  Acme Login  " })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Acme Login", "trimmed");
    assert_eq!(body["id"], app.project.to_string());
    assert_eq!(admin(&app, &key, Method::GET, "/project", Value::Null).await.1["name"], "Acme Login");
    let page = app.http.get(&page_url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Acme Login"), "this node's cached project context was dropped");

    let events = trail(&app, &key, "&action=project.renamed").await;
    assert_eq!(events.len(), 1);
    let key_id = app.admin.projects.api_keys(app.project).await.unwrap().last().unwrap().id;
    assert_eq!(events[0]["actor"], format!("apiKey:{key_id}"));
    assert_eq!(events[0]["requestId"], headers["x-request-id"].to_str().unwrap(), "the request's id");
    assert_eq!(events[0]["details"], json!({ "fields": ["name"] }));
    assert!(!events[0].to_string().contains("Acme"), "names stay out of the trail");

    // Nothing to change: the project as it is, and no record.
    let (status, body) = admin(&app, &key, Method::PATCH, "/project", json!({})).await;
    assert_eq!((status, body["name"].as_str()), (StatusCode::OK, Some("Acme Login")));
    for bad in [json!({ "name": "   " }), json!({ "name": "x".repeat(101) }), json!({ "name": 5 })] {
        let refused = admin(&app, &key, Method::PATCH, "/project", bad).await;
        assert_error(&refused, StatusCode::BAD_REQUEST, "auth/invalid-body");
        assert_eq!(refused.1["field"], "name");
    }
    let longest = "é".repeat(100);
    assert_eq!(admin(&app, &key, Method::PATCH, "/project", json!({ "name": longest })).await.0, StatusCode::OK);
    assert_eq!(trail(&app, &key, "&action=project.renamed").await.len(), 2, "only the renames are recorded");
}

#[tokio::test]
async fn the_app_url_is_set_checked_normalised_and_cleared() {
    let app = TestApp::spawn().await;
    let key = app.admin_key_of(app.project).await;
    let (other, _) = app.another_project().await;
    let (status, body) = admin(&app, &key, Method::GET, "/project", Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.as_object().unwrap().contains_key("appUrl") && body["appUrl"].is_null(), "{body}");
    let page_url = app.url(app.project, "/auth/verify-email-link?token=nope");
    let page = || async { app.http.get(&page_url).send().await.unwrap().text().await.unwrap() };
    assert!(!page().await.contains(r#"id="back""#), "no app URL, no link");

    let (status, body) =
        admin(&app, &key, Method::PATCH, "/project", json!({ "appUrl": " https://Acme.Example/app#home " })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["appUrl"], "https://acme.example/app#home", "stored as a browser reads it");
    assert_eq!(body["name"], "Test project", "the rest untouched");
    assert_eq!(
        admin(&app, &key, Method::GET, "/project", Value::Null).await.1["appUrl"],
        "https://acme.example/app#home"
    );
    assert!(page().await.contains("Back to Test project"), "this node shows it at once");
    assert_eq!(app.admin.projects.project(other).await.unwrap().settings.app_url, None, "one project only");

    // Loopback http for development; a rename leaves the URL alone.
    let (status, body) =
        admin(&app, &key, Method::PATCH, "/project", json!({ "appUrl": "http://localhost:3000/" })).await;
    assert_eq!((status, body["appUrl"].as_str()), (StatusCode::OK, Some("http://localhost:3000/")));
    let (_, body) = admin(&app, &key, Method::PATCH, "/project", json!({ "name": "Acme" })).await;
    assert_eq!(body["appUrl"], "http://localhost:3000/");

    // Refused, naming the field, and nothing changes (not even a name sent along).
    let long = format!("https://acme.example/{}", "a".repeat(2040));
    for bad in [
        json!({ "appUrl": "javascript:alert(1)" }),
        json!({ "appUrl": "data:text/html,<script>alert(1)</script>" }),
        json!({ "appUrl": "http://acme.example/" }),
        json!({ "appUrl": "https://acme.example@evil.example/" }),
        json!({ "appUrl": "//evil.example/" }),
        json!({ "appUrl": "" }),
        json!({ "appUrl": long }),
        json!({ "appUrl": 5 }),
        json!({ "name": "Renamed", "appUrl": "ftp://acme.example/" }),
    ] {
        let refused = admin(&app, &key, Method::PATCH, "/project", bad.clone()).await;
        assert_error(&refused, StatusCode::BAD_REQUEST, "auth/invalid-body");
        assert_eq!(refused.1["field"], "appUrl", "{bad}: {}", refused.1);
    }
    let (_, body) = admin(&app, &key, Method::GET, "/project", Value::Null).await;
    assert_eq!((body["name"].as_str(), body["appUrl"].as_str()), (Some("Acme"), Some("http://localhost:3000/")));

    // null clears it; an absent field leaves it.
    let (_, body) = admin(&app, &key, Method::PATCH, "/project", json!({ "appUrl": null })).await;
    assert!(body["appUrl"].is_null(), "{body}");
    assert!(admin(&app, &key, Method::GET, "/project", Value::Null).await.1["appUrl"].is_null());
    assert!(!page().await.contains(r#"id="back""#), "the link is gone");
    assert_eq!(app.admin.projects.project(app.project).await.unwrap().settings.app_url, None);
}

#[tokio::test]
async fn every_project_route_is_scoped_to_an_admin_key_of_its_project() {
    let app = TestApp::spawn().await;
    let key = app.admin_key_of(app.project).await;
    let (other, _) = app.another_project().await;
    let other_key = app.admin_key_of(other).await;
    let routes = [
        (Method::PATCH, "/project", json!({ "name": "Hijacked" })),
        (Method::PATCH, "/project", json!({ "appUrl": "https://evil.example/" })),
        (Method::GET, "/signing-keys", Value::Null),
        (Method::POST, "/signing-keys/rotate?force=true", Value::Null),
        (Method::GET, "/audit", Value::Null),
    ];
    for (method, path, body) in &routes {
        let (status, body_, _) = call(&app, app.project, &app.api_key, method.clone(), path, body.clone()).await;
        assert_error(&(status, body_), StatusCode::FORBIDDEN, "auth/insufficient-scope");
        let (status, body_, _) = call(&app, app.project, &other_key, method.clone(), path, body.clone()).await;
        assert_error(&(status, body_), StatusCode::UNAUTHORIZED, "auth/invalid-api-key");
    }
    assert_eq!(app.admin.projects.project(app.project).await.unwrap().name, "Test project", "nothing changed");
    assert_eq!(app.admin.projects.project(app.project).await.unwrap().settings.app_url, None);
    let before = app.admin.signing_keys.list(app.project).await.unwrap();
    assert_eq!(before.len(), 2, "no rotation happened");

    // Each project's admin sees and changes only its own.
    call(&app, other, &other_key, Method::PATCH, "/project", json!({ "name": "Other renamed" })).await;
    let (status, _, _) =
        call(&app, other, &other_key, Method::POST, "/signing-keys/rotate?force=true", Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.admin.projects.project(app.project).await.unwrap().name, "Test project");
    assert_eq!(app.admin.signing_keys.list(app.project).await.unwrap(), before);
    let mine = trail(&app, &key, "").await;
    assert!(mine.iter().all(|e| e["action"] == "api-key.created"), "another project's records are not listed");
    let (_, theirs, _) = call(&app, other, &other_key, Method::GET, "/audit", Value::Null).await;
    assert_eq!(actions(theirs["events"].as_array().unwrap())[..2], ["signing-key.rotated", "project.renamed"]);
    let (_, listed, _) = call(&app, other, &other_key, Method::GET, "/signing-keys", Value::Null).await;
    let mine: Vec<&str> = before.iter().map(|k| k.kid.as_str()).collect();
    assert!(listed["keys"].as_array().unwrap().iter().all(|k| !mine.contains(&k["kid"].as_str().unwrap())));
}

#[tokio::test]
async fn tokens_before_and_after_a_rotation_verify_against_the_jwks_alone() {
    let app = TestApp::spawn().await;
    let key = app.admin_key_of(app.project).await;
    let before = app.sign_up("rotate@example.com").await["accessToken"].as_str().unwrap().to_owned();
    // A customer's server fetched the JWKS before the rotation and caches it for five minutes.
    let cached = jwks(&app, app.project).await;
    let (status, listed) = admin(&app, &key, Method::GET, "/signing-keys", Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let keys = listed["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{listed}");
    assert_eq!((keys[0]["active"].as_bool(), keys[1]["active"].as_bool()), (Some(false), Some(true)), "standby first");
    let (standby, old) = (keys[0]["kid"].as_str().unwrap().to_owned(), keys[1]["kid"].as_str().unwrap().to_owned());
    assert_eq!(kid_of(&before), old);
    assert_eq!(kids(&cached), [old.clone(), standby.clone()], "the standby is published before it signs");

    // The standby has been published for the JWKS max-age (5 min) and the cache TTL (30 s).
    app.advance(330);
    let rotated_at = now(&app);
    let (status, rotated) = admin(&app, &key, Method::POST, "/signing-keys/rotate", Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let keys = rotated["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3, "{rotated}");
    let new_standby = keys[0]["kid"].as_str().unwrap().to_owned();
    assert_eq!(keys[0]["active"], false);
    assert_eq!((keys[1]["kid"].as_str(), keys[1]["active"].as_bool()), (Some(standby.as_str()), Some(true)));
    assert_eq!(keys[2]["kid"], old.as_str());
    assert_eq!(keys[2]["active"], false);
    // Retired now; published for the access-token lifetime, the context cache (30 s) and a margin (5 min).
    let published_until = rotated_at + Duration::seconds(1800 + 30 + 300);
    assert_eq!(keys[2]["retiredAt"], rotated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    assert_eq!(keys[2]["publishedUntil"], published_until.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));

    // New tokens carry the promoted kid at once; the customer's cached JWKS already has it.
    let (status, signed_in) = sign_in(&app, "rotate@example.com", "s3cur3P@ss").await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    let after = signed_in["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(kid_of(&after), standby);
    verify(&after, &cached, app.project, now(&app)).expect("a JWKS cached before the rotation verifies new tokens");
    verify(&before, &cached, app.project, now(&app)).expect("and old ones");
    let fresh = jwks(&app, app.project).await;
    assert_eq!(kids(&fresh), [standby.clone(), new_standby.clone(), old.clone()], "the signer first");
    verify(&before, &fresh, app.project, now(&app)).expect("a token of the retired key verifies");
    verify(&after, &fresh, app.project, now(&app)).expect("a token of the new key verifies");

    // Until the old token has expired, every JWKS served keeps its key (it was minted 330 s
    // before the rotation and lives 30 minutes).
    app.advance(1800 - 330 - 1);
    let late = jwks(&app, app.project).await;
    verify(&before, &late, app.project, now(&app)).expect("the last second of the old token");
    app.advance((published_until - now(&app)).num_seconds() - 1);
    assert!(kids(&jwks(&app, app.project).await).contains(&old), "published until its end (exclusive)");
    app.advance(1);
    assert!(now(&app) >= published_until);
    let gone = jwks(&app, app.project).await;
    assert_eq!(kids(&gone), [standby.clone(), new_standby.clone()], "the retired key has left the JWKS");
    assert!(verify(&before, &gone, app.project, now(&app)).is_err());
    let (_, listed) = admin(&app, &key, Method::GET, "/signing-keys", Value::Null).await;
    assert_eq!(listed["keys"].as_array().unwrap().len(), 2, "the list shows what the JWKS publishes");

    // Maintenance deletes the unpublished key; the signing key and standby stay.
    assert_eq!(app.services.maintenance.purge_unpublished_signing_keys().await.unwrap(), 1);
    assert_eq!(app.store.signing_keys(app.project).await.unwrap().len(), 2);
    let (status, refreshed) = app
        .post(
            "/auth/request-new-access-token",
            json!({
        "refreshToken": signed_in["refreshToken"] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert_eq!(kid_of(refreshed["accessToken"].as_str().unwrap()), standby);

    let events = trail(&app, &key, "&action=signing-key.rotated").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["details"], json!({ "newKid": standby, "oldKid": old }));
}

#[tokio::test]
async fn a_rotation_waits_for_a_fresh_standby_unless_forced() {
    let app = TestApp::spawn().await;
    let key = app.admin_key_of(app.project).await;
    // A new project's standby was published with it: the first rotation waits 5 min 30 s.
    let (status, body, headers) =
        call(&app, app.project, &key, Method::POST, "/signing-keys/rotate", Value::Null).await;
    assert_error(&(status, body), StatusCode::CONFLICT, "signing-key/standby-too-new");
    assert_eq!(headers["retry-after"], "330");
    app.advance(330);
    assert_eq!(admin(&app, &key, Method::POST, "/signing-keys/rotate", Value::Null).await.0, StatusCode::OK);
    let (_, listed) = admin(&app, &key, Method::GET, "/signing-keys", Value::Null).await;
    let signing = listed["keys"][1]["kid"].as_str().unwrap().to_owned();

    // The new standby was published just now: a verifier's cached JWKS may lack it.
    app.advance(60);
    let (status, body, headers) =
        call(&app, app.project, &key, Method::POST, "/signing-keys/rotate", Value::Null).await;
    assert_error(&(status, body), StatusCode::CONFLICT, "signing-key/standby-too-new");
    assert_eq!(
        headers["retry-after"],
        (330 - 60).to_string().as_str(),
        "the JWKS max-age and the cache TTL, less the wait"
    );
    let bad = admin(&app, &key, Method::POST, "/signing-keys/rotate?force=maybe", Value::Null).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "auth/invalid-body");
    assert_eq!(bad.1["field"], "force");
    let (_, unchanged) = admin(&app, &key, Method::GET, "/signing-keys", Value::Null).await;
    assert_eq!(unchanged, listed, "refused rotations change nothing");

    // An emergency rotates at once.
    let (status, forced) = admin(&app, &key, Method::POST, "/signing-keys/rotate?force=true", Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{forced}");
    assert_eq!(forced["keys"][1]["kid"], listed["keys"][0]["kid"], "the young standby signs");
    let token = app.sign_up("after-emergency@example.com").await;
    assert_eq!(kid_of(token["accessToken"].as_str().unwrap()), listed["keys"][0]["kid"].as_str().unwrap());
    let events = trail(&app, &key, "&action=signing-key.rotated").await;
    assert_eq!(events[0]["details"]["forced"], true);
    assert_eq!(events[0]["details"]["oldKid"], signing.as_str());
    assert!(events[1]["details"].get("forced").is_none());

    // Once the standby has been published for the JWKS max-age and the cache TTL, no wait.
    app.advance(330);
    assert_eq!(admin(&app, &key, Method::POST, "/signing-keys/rotate", Value::Null).await.0, StatusCode::OK);
}

#[tokio::test]
async fn projects_from_before_standbys_get_one() {
    let app = TestApp::spawn().await;
    let created = app.admin.projects.create_project("Legacy", ProjectSettings::default()).await.unwrap();
    let keys = app.store.signing_keys(created.id).await.unwrap();
    assert_eq!(keys.len(), 2, "new projects are created with a standby");

    let legacy = Project {
        id: ProjectId::generate(),
        name: "Old".into(),
        settings: ProjectSettings::default(),
        created_at: now(&app),
    };
    let key = legacy_key(&app, &legacy).await;
    let admin_key = app.admin_key_of(legacy.id).await;
    assert_eq!(jwks(&app, legacy.id).await.keys.len(), 1);

    // A rotation of such a project publishes a standby first, which is too new to sign yet.
    let (status, body, _) = call(&app, legacy.id, &admin_key, Method::POST, "/signing-keys/rotate", Value::Null).await;
    assert_error(&(status, body), StatusCode::CONFLICT, "signing-key/standby-too-new");
    assert_eq!(jwks(&app, legacy.id).await.keys.len(), 2, "the standby is published at once");
    app.advance(330);
    let (status, rotated, _) =
        call(&app, legacy.id, &admin_key, Method::POST, "/signing-keys/rotate", Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_eq!(rotated["keys"][2]["kid"], key.as_str(), "the original key is retired");

    // `serve` gives every project without one a standby at start-up.
    let other = Project {
        id: ProjectId::generate(),
        name: "Older".into(),
        settings: ProjectSettings::default(),
        created_at: now(&app),
    };
    legacy_key(&app, &other).await;
    assert_eq!(app.admin.signing_keys.ensure_standby_keys().await.unwrap(), 1);
    assert_eq!(app.admin.signing_keys.ensure_standby_keys().await.unwrap(), 0, "once");
    assert_eq!(jwks(&app, other.id).await.keys.len(), 2);
}

/// Stores `project` with a single, signing key (the shape of projects before standbys).
async fn legacy_key(app: &TestApp, project: &Project) -> String {
    let (_, mut key) = SigningKey::generate(project.id, &app.master, project.created_at).unwrap();
    key.activated_at = Some(project.created_at);
    app.store.create_project(project, std::slice::from_ref(&key)).await.unwrap();
    key.kid
}

#[tokio::test]
async fn the_audit_trail_filters_and_pages_newest_first() {
    let app = TestApp::spawn().await;
    let key = app.admin_key_of(app.project).await;
    let user = app.sign_up("trail@example.com").await["user"]["id"].as_str().unwrap().to_owned();
    for n in 0..5 {
        admin(&app, &key, Method::PATCH, "/project", json!({ "name": format!("Name {n}") })).await;
        app.advance(1);
    }
    sign_in(&app, "trail@example.com", "wrong-password").await;
    app.advance(1);
    sign_in(&app, "trail@example.com", "s3cur3P@ss").await;
    let all = trail(&app, &key, "").await;
    assert_eq!(actions(&all)[..3], ["sign-in.succeeded", "sign-in.failed", "project.renamed"], "newest first");
    // The admin key's creation is on record too (from the command line).
    assert_eq!(actions(&all).last(), Some(&"api-key.created"));

    // Pages of two, by cursor, repeat and skip nothing.
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = admin(&app, &key, Method::GET, &format!("/audit?limit=2{cursor}"), Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let events = page["events"].as_array().unwrap();
        assert!(events.len() <= 2);
        paged.extend(events.iter().cloned());
        match page["nextCursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(paged, all);

    assert_eq!(actions(&trail(&app, &key, "&action=sign-in.").await), ["sign-in.succeeded", "sign-in.failed"]);
    assert_eq!(trail(&app, &key, "&action=project.renamed").await.len(), 5);
    let by_user = trail(&app, &key, &format!("&userId={user}")).await;
    assert_eq!(actions(&by_user), ["sign-in.succeeded", "sign-in.failed"]);
    assert!(by_user.iter().all(|e| e["userId"] == user.as_str()));
    assert_eq!(trail(&app, &key, "&actor=system").await.len(), 2);
    assert_eq!(trail(&app, &key, "&actor=cli").await.len(), 2, "the two API keys made for the test");
    let t0 = now(&app) - Duration::seconds(6); // the keys' creation and the first rename
    let from = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let window = format!("&after={}&before={}", from(t0 + Duration::seconds(1)), from(t0 + Duration::seconds(3)));
    let windowed = trail(&app, &key, &window).await;
    assert_eq!(actions(&windowed), ["project.renamed", "project.renamed"], "after inclusive, before exclusive");

    let bad_cursor = admin(&app, &key, Method::GET, "/audit?cursor=not-a-cursor", Value::Null).await;
    assert_error(&bad_cursor, StatusCode::BAD_REQUEST, "request/invalid-cursor");
    assert_eq!(bad_cursor.1["field"], "cursor");
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=many", "limit"),
        ("userId=nope", "userId"),
        ("action=user", "action"),
        ("actor=root", "actor"),
        ("after=yesterday", "after"),
        ("before=2026-13-01T00:00:00Z", "before"),
    ] {
        let refused = admin(&app, &key, Method::GET, &format!("/audit?{query}"), Value::Null).await;
        assert_error(&refused, StatusCode::BAD_REQUEST, "auth/invalid-body");
        assert_eq!(refused.1["field"], field, "{query}");
    }
    assert_eq!(all.len(), 5 + 2 + 2, "five renames, two sign-ins, two API keys");
    let (status, one) = admin(&app, &key, Method::GET, "/audit?limit=1", Value::Null).await;
    assert_eq!((status, one["events"].as_array().unwrap().len()), (StatusCode::OK, 1));

    // Retention: the maintenance task deletes records older than `audit_retention_days`.
    app.advance(24 * 3600 - 6); // the oldest records are a day old exactly
    assert_eq!(app.services.maintenance.purge_old_audit_events(1).await.unwrap(), 0, "a day old is kept");
    admin(&app, &key, Method::PATCH, "/project", json!({ "name": "Recent" })).await;
    app.advance(10);
    assert_eq!(app.services.maintenance.purge_old_audit_events(1).await.unwrap(), 9);
    assert_eq!(actions(&trail(&app, &key, "").await), ["project.renamed"], "the recent record stays");
}

#[tokio::test]
async fn every_admin_action_and_security_event_is_recorded() {
    let app = TestApp::spawn().await;
    let key = app.admin_key_of(app.project).await;
    let email = "events@example.com";
    let signed_up = app.sign_up(email).await;
    let user = signed_up["user"]["id"].as_str().unwrap().to_owned();

    // sign-in.succeeded, in the transaction that made the session.
    let response = app
        .http
        .post(app.url(app.project, "/auth/sign-in"))
        .bearer_auth(&app.api_key)
        .header("x-request-id", "sign-in-1")
        .json(&json!({ "email": email, "password": "s3cur3P@ss" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let events = trail(&app, &key, "&action=sign-in.succeeded").await;
    assert_eq!(events.len(), 1);
    assert_eq!((events[0]["userId"].as_str(), events[0]["actor"].as_str()), (Some(user.as_str()), Some("system")));
    assert_eq!(events[0]["requestId"], "sign-in-1");
    assert!(events[0]["details"]["sessionId"].is_string());

    // sign-in.failed: with the user's id when the address is an account's, never the address.
    sign_in(&app, email, "wrong-password").await;
    sign_in(&app, "nobody@example.com", "wrong-password").await;
    let failed = trail(&app, &key, "&action=sign-in.failed").await;
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0]["userId"], Value::Null, "an unknown address names no one");
    assert_eq!(failed[1]["userId"], user.as_str());

    // sign-in.locked-out: once, from the attempt that crossed the limit.
    for _ in 0..12 {
        sign_in(&app, email, "wrong-password").await;
    }
    let locked = trail(&app, &key, "&action=sign-in.locked-out").await;
    assert_eq!(locked.len(), 1, "{locked:?}");
    assert_eq!(locked[0]["userId"], user.as_str());
    app.advance(15 * 60 + 1);

    // refresh.reuse-detected: a replayed refresh token after the grace window.
    let refresh = signed_up["refreshToken"].as_str().unwrap();
    let (status, _) = app.post("/auth/request-new-access-token", json!({ "refreshToken": refresh })).await;
    assert_eq!(status, StatusCode::OK);
    app.advance(60);
    let replay = app.post("/auth/request-new-access-token", json!({ "refreshToken": refresh })).await;
    assert_error(&replay, StatusCode::UNAUTHORIZED, "auth/token-reuse-detected");
    let reuse = trail(&app, &key, "&action=refresh.reuse-detected").await;
    assert_eq!(reuse.len(), 1);
    assert_eq!(reuse[0]["userId"], user.as_str());
    assert!(reuse[0]["details"]["sessionId"].is_string());

    // password-reset.completed, in the reset's transaction.
    let (status, _) = app.post("/auth/request-password-reset", json!({ "email": email })).await;
    assert_eq!(status, StatusCode::OK);
    let token = mailed_token(&app).await;
    let (status, body) =
        app.post("/auth/reset-password", json!({ "token": token, "newPassword": "n3w-S3cret!" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reset = trail(&app, &key, "&action=password-reset.completed").await;
    assert_eq!((reset.len(), reset[0]["userId"].as_str()), (1, Some(user.as_str())));

    // Admin actions: project.renamed and signing-key.rotated (the API key), api-key.created
    // and api-key.revoked (the command line's services).
    admin(&app, &key, Method::PATCH, "/project", json!({ "name": "Events" })).await;
    let (status, body) = admin(&app, &key, Method::POST, "/signing-keys/rotate", Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let extra = app.admin.projects.create_api_key(app.project, "extra", ApiKeyScope::Auth).await.unwrap();
    assert!(app.admin.projects.revoke_api_key(app.project, extra.record.id).await.unwrap());
    let all = trail(&app, &key, "").await;
    let key_id = app.admin.projects.api_keys(app.project).await.unwrap()[1].id;
    for (action, actor) in [
        ("project.renamed", format!("apiKey:{key_id}")),
        ("signing-key.rotated", format!("apiKey:{key_id}")),
        ("api-key.created", "cli".to_owned()),
        ("api-key.revoked", "cli".to_owned()),
    ] {
        let event = all.iter().find(|e| e["action"] == action).unwrap_or_else(|| panic!("{action} recorded"));
        assert_eq!(event["actor"], actor.as_str(), "{action}");
    }
    let revoked = all.iter().find(|e| e["action"] == "api-key.revoked").unwrap();
    assert_eq!(revoked["details"]["apiKeyId"], extra.record.id.to_string());

    // No record holds an address, a password, a token or a key.
    let text = serde_json::to_string(&all).unwrap();
    for secret in [email, "nobody@example.com", "s3cur3P@ss", "wrong-password", refresh, &token, &extra.plaintext] {
        assert!(!text.contains(secret), "{secret} leaked into the audit trail");
    }
}

/// The link token of the oldest queued message, as the delivery worker would mail it.
async fn mailed_token(app: &TestApp) -> String {
    let at = now(app);
    let claim = Claim { token: "test-worker".into(), now: at, lease_until: at + Duration::minutes(1) };
    let outbox = app.services.outbox();
    let row = outbox.claim(&claim).await.unwrap().expect("a queued message");
    let Prepared::Send(mail) = outbox.prepare(&row, &claim.token).await.unwrap() else {
        panic!("the message has a recipient");
    };
    mail.token.expose_secret().to_owned()
}

#[tokio::test]
async fn a_deleted_project_leaves_no_row_behind() {
    let app = TestApp::spawn().await;
    let doomed = app.admin.projects.create_project("Doomed", ProjectSettings::default()).await.unwrap().id;
    let doomed_key = app.admin.projects.create_api_key(doomed, "k", ApiKeyScope::Admin).await.unwrap().plaintext;
    let (status, body) = app
        .post_as(
            doomed,
            &doomed_key,
            "/auth/sign-up",
            json!({
        "email": "gone@example.com", "password": "s3cur3P@ss" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    sign_in(&app, "gone@example.com", "x").await;
    app.post_as(doomed, &doomed_key, "/auth/sign-in", json!({ "email": "gone@example.com", "password": "nope" })).await;
    app.post_as(doomed, &doomed_key, "/auth/request-password-reset", json!({ "email": "gone@example.com" })).await;
    call(&app, doomed, &doomed_key, Method::POST, "/signing-keys/rotate?force=true", Value::Null).await;
    app.sign_up("kept@example.com").await;
    let url = database_url(&app);
    assert!(
        !latchkey_store::testing::tables_mentioning(&url, &doomed.to_string()).await.is_empty(),
        "the walk finds rows"
    );

    app.admin.projects.delete_project(doomed).await.unwrap();
    let left = latchkey_store::testing::tables_mentioning(&url, &doomed.to_string()).await;
    assert!(left.is_empty(), "rows of the deleted project remain in {left:?}");
    let user_left = latchkey_store::testing::tables_mentioning(&url, body["user"]["id"].as_str().unwrap()).await;
    assert!(user_left.is_empty(), "rows naming its user remain in {user_left:?}");
    let refused = app
        .post_as(doomed, &doomed_key, "/auth/sign-in", json!({ "email": "gone@example.com", "password": "s3cur3P@ss" }))
        .await;
    assert_error(&refused, StatusCode::UNAUTHORIZED, "auth/invalid-api-key");
    let jwks = app.http.get(app.url(doomed, "/.well-known/jwks.json")).send().await.unwrap();
    assert_eq!(jwks.status(), StatusCode::NOT_FOUND);

    assert!(!latchkey_store::testing::tables_mentioning(&url, &app.project.to_string()).await.is_empty());
    assert_eq!(sign_in(&app, "kept@example.com", "s3cur3P@ss").await.0, StatusCode::OK, "other projects work on");
    assert!(app.admin.projects.delete_project(doomed).await.is_err(), "deleted once");
}
