//! The admin API's users and sessions over HTTP, on either backend
//! (`LATCHKEY_TEST_BACKEND`): each route's success shape and error codes, project isolation
//! on every route, paging while users are being inserted, what suspending and disabling do to
//! sign-in, refresh and external sign-in, an erasure that leaves no row naming the user in any
//! table, and an audit record with the right actor for every action.

mod common;
mod external_support;

use std::collections::HashSet;

use common::{TestApp, assert_error};
use external_support::{claims, sign_hs256};
use latchkey_core::domain::{AuditAction, AuditFilter, UserId};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "s3cur3P@ss";

/// The fields of the admin view of a user, exactly.
const ADMIN_USER_FIELDS: [&str; 23] = [
    "id",
    "projectId",
    "foreignId",
    "role",
    "email",
    "name",
    "username",
    "avatar",
    "bio",
    "birthdate",
    "location",
    "metadata",
    "secureMetadata",
    "reputation",
    "isVerified",
    "isActive",
    "isSuspended",
    "lastActive",
    "createdAt",
    "updatedAt",
    "suspensions",
    "authMethods",
    "hasPassword",
];

/// An admin key of the app's project and calls made with it.
struct Admin<'a> {
    app: &'a TestApp,
    key: String,
}

impl<'a> Admin<'a> {
    async fn of(app: &'a TestApp) -> Self {
        Self { app, key: app.admin_key_of(app.project).await }
    }

    async fn call(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        self.app.admin_call(method, &self.key, path, body).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Value::Null).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, body).await
    }

    async fn ok(&self, method: Method, path: &str, body: Value) -> Value {
        let (status, answer) = self.call(method.clone(), path, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {answer}");
        answer
    }

    /// A created user's id.
    async fn create(&self, body: Value) -> String {
        let (status, user) = self.post("/users", body).await;
        assert_eq!(status, StatusCode::CREATED, "{user}");
        user["id"].as_str().expect("id").to_owned()
    }

    /// This key's id, as the audit trail names it (`apiKey:<id>`).
    async fn actor(&self) -> String {
        let keys = self.app.admin.projects.api_keys(self.app.project).await.expect("keys");
        let prefix = &self.key[..11];
        let key = keys.iter().find(|k| k.prefix == prefix).expect("this key");
        format!("apiKey:{}", key.id)
    }
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    app.post("/auth/sign-in", json!({ "email": email, "password": password })).await
}

async fn refresh(app: &TestApp, token: &str) -> (StatusCode, Value) {
    app.post("/auth/request-new-access-token", json!({ "refreshToken": token })).await
}

async fn external(app: &TestApp, secret: &str, sub: &str, data: Value) -> (StatusCode, Value) {
    let token = sign_hs256(secret, &claims(&app.project.to_string(), app.clock_now(), sub, data));
    app.post("/auth/verify-external-user", json!({ "userJwt": token })).await
}

/// The audit actions recorded for `user`, oldest first, with their actors.
async fn trail(app: &TestApp, user: &str) -> Vec<(AuditAction, String)> {
    let filter = AuditFilter { user_id: Some(user.parse().expect("user id")), ..Default::default() };
    let mut events = app.store.list_audit_events(app.project, &filter, 1000).await.expect("trail");
    events.reverse();
    events.into_iter().map(|e| (e.action, e.actor.to_string())).collect()
}

#[tokio::test]
async fn every_route_answers_its_success_shape() {
    let app = TestApp::spawn().await;
    let admin = Admin::of(&app).await;

    let (status, created) = admin
        .post(
            "/users",
            json!({
                "email": "Ada@Example.com", "password": PASSWORD, "username": "Ada_L", "name": "Ada",
                "role": "moderator", "foreignId": "crm-1", "metadata": {"plan": "pro"},
                "secureMetadata": {"tax": "x-1"}, "emailVerified": true,
                "location": {"latitude": 1.5, "longitude": 2.5}
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let fields: HashSet<&str> = created.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields, ADMIN_USER_FIELDS.into_iter().collect(), "exactly the admin view's fields");
    assert_eq!(created["email"], "ada@example.com", "normalised like a sign-up");
    assert_eq!(created["username"], "ada_l");
    assert_eq!(created["role"], "moderator");
    assert_eq!(created["secureMetadata"], json!({"tax": "x-1"}), "an operator sees secureMetadata");
    assert_eq!(created["location"], json!({"type": "Point", "coordinates": [2.5, 1.5]}));
    assert_eq!((created["isVerified"].clone(), created["isActive"].clone()), (json!(true), json!(true)));
    assert_eq!((created["isSuspended"].clone(), created["hasPassword"].clone()), (json!(false), json!(true)));
    assert_eq!(created["authMethods"], json!(["password", "external"]));
    assert_eq!(created["suspensions"], json!([]));
    assert_eq!(created["lastActive"], Value::Null, "nobody has signed in as this user yet");
    assert!(created["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(!created.to_string().contains("argon2"), "never a hash");
    let id = created["id"].as_str().unwrap().to_owned();

    assert_eq!(admin.ok(Method::GET, &format!("/users/{id}"), Value::Null).await, created);
    assert_eq!(admin.ok(Method::GET, "/users/lookup?email=ADA%40example.com", Value::Null).await["id"], id.as_str());
    assert_eq!(admin.ok(Method::GET, "/users/lookup?foreignId=crm-1", Value::Null).await["id"], id.as_str());
    let page = admin.ok(Method::GET, "/users", Value::Null).await;
    assert_eq!(page, json!({ "users": [created], "nextCursor": null }));

    let patched = admin
        .ok(Method::PATCH, &format!("/users/{id}"), json!({"name": null, "bio": "Analyst", "role": "admin"}))
        .await;
    assert_eq!((patched["name"].clone(), patched["bio"].clone()), (Value::Null, json!("Analyst")));
    assert_eq!(patched["role"], "admin", "the roles moderator and admin can be assigned");
    assert_eq!(patched["email"], "ada@example.com", "absent fields are kept");

    let suspended = admin
        .ok(
            Method::POST,
            &format!("/users/{id}/suspend"),
            json!({"reason": "chargebacks", "endsAt": "2026-02-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(suspended["isSuspended"], true);
    let suspension = &suspended["suspensions"][0];
    assert_eq!(suspension["reason"], "chargebacks");
    assert_eq!(suspension["startsAt"], "2026-01-01T12:00:00.000Z");
    assert_eq!(suspension["endsAt"], "2026-02-01T00:00:00.000Z");
    assert_eq!(suspension["createdBy"], admin.actor().await);
    let lifted = admin.ok(Method::POST, &format!("/users/{id}/unsuspend"), Value::Null).await;
    assert_eq!((lifted["isSuspended"].clone(), lifted["suspensions"].clone()), (json!(false), json!([])));

    let (status, body) = admin.post(&format!("/users/{id}/password"), json!({"password": "n3w-S3cret!"})).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) = admin.post(&format!("/users/{id}/unlock"), Value::Null).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));

    let (status, link) =
        admin.post(&format!("/users/{id}/links"), json!({"kind": "password-reset", "delivery": "return"})).await;
    assert_eq!(status, StatusCode::OK, "{link}");
    let token = link["token"].as_str().unwrap();
    assert_eq!(
        link["url"],
        format!("{}/v7/{}/auth/reset-password-page?token={token}", common::ISSUER, app.project).as_str()
    );
    assert_eq!(link["expiresAt"], "2026-01-01T13:00:00.000Z", "the reset lifetime (1 hour)");
    let (status, body) =
        admin.post(&format!("/users/{id}/links"), json!({"kind": "password-reset", "delivery": "email"})).await;
    assert_eq!((status, body), (StatusCode::ACCEPTED, Value::Null));

    let (_, signed_in) = sign_in(&app, "ada@example.com", "n3w-S3cret!").await;
    assert!(signed_in["refreshToken"].is_string(), "{signed_in}");
    let sessions = admin.ok(Method::GET, &format!("/users/{id}/sessions"), Value::Null).await;
    let session = &sessions["sessions"][0];
    assert_eq!(sessions["sessions"].as_array().unwrap().len(), 1);
    let session_fields: HashSet<&str> = session.as_object().unwrap().keys().map(String::as_str).collect();
    let expected: HashSet<&str> =
        ["id", "createdAt", "lastRefreshedAt", "expiresAt", "generation", "method"].into_iter().collect();
    assert_eq!(session_fields, expected);
    assert_eq!((session["method"].clone(), session["generation"].clone()), (json!("password"), json!(0)));
    let session_id = session["id"].as_str().unwrap();
    let (status, body) = admin.call(Method::DELETE, &format!("/users/{id}/sessions/{session_id}"), Value::Null).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    sign_in(&app, "ada@example.com", "n3w-S3cret!").await;
    sign_in(&app, "ada@example.com", "n3w-S3cret!").await;
    let revoked = admin.ok(Method::DELETE, &format!("/users/{id}/sessions"), Value::Null).await;
    assert_eq!(revoked, json!({ "revoked": 2 }));

    let (status, body) = admin.call(Method::DELETE, &format!("/users/{id}"), Value::Null).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_error(&admin.get(&format!("/users/{id}")).await, StatusCode::NOT_FOUND, "user/not-found");
}

#[tokio::test]
async fn errors_have_their_stable_codes() {
    let app = TestApp::spawn().await;
    let admin = Admin::of(&app).await;
    let id = admin.create(json!({"email": "taken@example.com", "username": "taken", "foreignId": "f-1"})).await;
    let other = admin.create(json!({"email": "other@example.com", "emailVerified": true})).await;

    // Create.
    let cases = [
        (json!({"password": PASSWORD}), StatusCode::BAD_REQUEST, "auth/invalid-body", Some("email")),
        (json!({"email": "not-an-email"}), StatusCode::BAD_REQUEST, "auth/invalid-body", Some("email")),
        (
            json!({"email": "w@example.com", "password": "short"}),
            StatusCode::BAD_REQUEST,
            "auth/weak-password",
            Some("password"),
        ),
        (
            json!({"email": "w@example.com", "role": "owner"}),
            StatusCode::BAD_REQUEST,
            "auth/invalid-body",
            Some("role"),
        ),
        (
            json!({"email": "w@example.com", "username": "x"}),
            StatusCode::BAD_REQUEST,
            "auth/invalid-body",
            Some("username"),
        ),
        (
            json!({"email": "w@example.com", "birthdate": "April"}),
            StatusCode::BAD_REQUEST,
            "auth/invalid-body",
            Some("birthdate"),
        ),
        (
            json!({"email": "w@example.com", "foreignId": " "}),
            StatusCode::BAD_REQUEST,
            "auth/invalid-body",
            Some("foreignId"),
        ),
        (json!({"email": "TAKEN@example.com"}), StatusCode::CONFLICT, "DUPLICATE_EMAIL", Some("email")),
        (
            json!({"email": "w@example.com", "username": "Taken"}),
            StatusCode::CONFLICT,
            "DUPLICATE_USERNAME",
            Some("username"),
        ),
        (json!({"email": "w@example.com", "foreignId": "f-1"}), StatusCode::CONFLICT, "auth/foreign-id-conflict", None),
    ];
    for (body, status, code, field) in cases {
        let answer = admin.post("/users", body.clone()).await;
        assert_error(&answer, status, code);
        if let Some(field) = field {
            assert_eq!(answer.1["field"], field, "{body}");
        }
    }

    // Read: a malformed or unknown id is 404, never a 500.
    for path in ["/users/not-a-uuid", &format!("/users/{}", UserId::generate())] {
        assert_error(&admin.get(path).await, StatusCode::NOT_FOUND, "user/not-found");
    }
    for query in ["", "?email=a@example.com&foreignId=f-1"] {
        let answer = admin.get(&format!("/users/lookup{query}")).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "auth/invalid-body");
    }
    assert_error(&admin.get("/users/lookup?email=nobody@example.com").await, StatusCode::NOT_FOUND, "user/not-found");

    // List.
    for query in ["limit=0", "limit=1001", "limit=lots"] {
        let answer = admin.get(&format!("/users?{query}")).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "auth/invalid-body");
        assert_eq!(answer.1["field"], "limit", "{query}");
    }
    for cursor in ["garbage", "dXNlcnM6bm9wZQ"] {
        let answer = admin.get(&format!("/users?cursor={cursor}")).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "request/invalid-cursor");
        assert_eq!(answer.1["field"], "cursor");
    }
    for (query, field) in
        [("createdAfter=yesterday", "createdAfter"), ("verified=maybe", "verified"), ("status=gone", "status")]
    {
        let answer = admin.get(&format!("/users?{query}")).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "auth/invalid-body");
        assert_eq!(answer.1["field"], field, "{query}");
    }

    // Update.
    let other_path = format!("/users/{other}");
    let patch = |body: Value| admin.call(Method::PATCH, &other_path, body);
    assert_error(&patch(json!({"email": "taken@example.com"})).await, StatusCode::CONFLICT, "DUPLICATE_EMAIL");
    assert_error(&patch(json!({"username": "taken"})).await, StatusCode::CONFLICT, "DUPLICATE_USERNAME");
    assert_error(&patch(json!({"username": "a b"})).await, StatusCode::BAD_REQUEST, "auth/invalid-body");
    assert_error(&patch(json!({"isActive": "no"})).await, StatusCode::BAD_REQUEST, "auth/invalid-body");
    let not_found = admin.call(Method::PATCH, "/users/nope", json!({"name": "x"})).await;
    assert_error(&not_found, StatusCode::NOT_FOUND, "user/not-found");

    // Suspend.
    let suspend_path = format!("/users/{id}/suspend");
    let suspend = |body: Value| admin.post(&suspend_path, body);
    for (body, field) in [
        (json!({"reason": "  "}), "reason"),
        (json!({"reason": "x".repeat(501)}), "reason"),
        (json!({"reason": "r", "endsAt": "2025-12-31T00:00:00Z"}), "endsAt"),
        (json!({"reason": "r", "endsAt": "soon"}), "endsAt"),
        (json!({}), "reason"),
    ] {
        let answer = suspend(body).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "auth/invalid-body");
        assert_eq!(answer.1["field"], field);
    }

    // Password, links, sessions.
    let weak = admin.post(&format!("/users/{id}/password"), json!({"password": "aaaaaaaaaa"})).await;
    assert_error(&weak, StatusCode::BAD_REQUEST, "auth/weak-password");
    let verified =
        admin.post(&format!("/users/{other}/links"), json!({"kind": "email-verification", "delivery": "return"})).await;
    assert_error(&verified, StatusCode::CONFLICT, "auth/already-verified");
    let bad_kind = admin.post(&format!("/users/{id}/links"), json!({"kind": "magic", "delivery": "return"})).await;
    assert_error(&bad_kind, StatusCode::BAD_REQUEST, "auth/invalid-body");
    assert_eq!(bad_kind.1["field"], "kind");
    app.sign_up("member@example.com").await;
    let (_, member) = admin.get("/users/lookup?email=member@example.com").await;
    let (_, sessions) = admin.get(&format!("/users/{}/sessions", member["id"].as_str().unwrap())).await;
    let theirs = sessions["sessions"][0]["id"].as_str().unwrap().to_owned();
    for session in [theirs.as_str(), "not-a-uuid"] {
        let answer = admin.call(Method::DELETE, &format!("/users/{id}/sessions/{session}"), Value::Null).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "session/not-found");
    }

    // An `auth` key on every route: 403, the scope named.
    for (method, path, body) in routes(&id, &theirs) {
        let answer = app.admin_call(method.clone(), &app.api_key, &path, body).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "auth/insufficient-scope");
    }
}

/// Every users/sessions route, with a body that would succeed.
fn routes(user: &str, session: &str) -> Vec<(Method, String, Value)> {
    vec![
        (Method::GET, "/users".into(), Value::Null),
        (Method::GET, "/users/lookup?email=taken@example.com".into(), Value::Null),
        (Method::POST, "/users".into(), json!({"email": "fresh@example.com"})),
        (Method::GET, format!("/users/{user}"), Value::Null),
        (Method::PATCH, format!("/users/{user}"), json!({"name": "N"})),
        (Method::POST, format!("/users/{user}/suspend"), json!({"reason": "r"})),
        (Method::POST, format!("/users/{user}/unsuspend"), Value::Null),
        (Method::POST, format!("/users/{user}/password"), json!({"password": "n3w-S3cret!"})),
        (Method::POST, format!("/users/{user}/links"), json!({"kind": "password-reset", "delivery": "return"})),
        (Method::POST, format!("/users/{user}/unlock"), Value::Null),
        (Method::GET, format!("/users/{user}/sessions"), Value::Null),
        (Method::DELETE, format!("/users/{user}/sessions/{session}"), Value::Null),
        (Method::DELETE, format!("/users/{user}/sessions"), Value::Null),
        (Method::DELETE, format!("/users/{user}"), Value::Null),
    ]
}

#[tokio::test]
async fn projects_are_isolated_on_every_route() {
    let app = TestApp::spawn().await;
    let admin = Admin::of(&app).await;
    let (other_project, other_auth_key) = app.another_project().await;
    let other_admin = app.admin_key_of(other_project).await;
    // A user and a session of the other project.
    let (_, foreign) = app
        .post_as(
            other_project,
            &other_auth_key,
            "/auth/sign-up",
            json!({"email": "far@example.com", "password": PASSWORD}),
        )
        .await;
    let foreign_id = foreign["user"]["id"].as_str().unwrap().to_owned();
    let foreign_session =
        app.admin.users.sessions(other_project, foreign_id.parse().unwrap()).await.unwrap().remove(0).id.to_string();
    let mine = admin.create(json!({"email": "taken@example.com"})).await;

    for (method, path, body) in routes(&mine, &foreign_session) {
        // Another project's admin key on this project's path: 401, as on every route.
        let answer = app.admin_call(method.clone(), &other_admin, &path, body.clone()).await;
        assert_error(&answer, StatusCode::UNAUTHORIZED, "auth/invalid-api-key");
    }
    for (method, path, body) in routes(&foreign_id, &foreign_session) {
        if !path.contains(&foreign_id) {
            continue;
        }
        // This project's key, the other project's user: not found here.
        let answer = admin.call(method.clone(), &path, body).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "user/not-found");
    }
    // Nor is it found by lookup or listed.
    assert_error(&admin.get("/users/lookup?email=far@example.com").await, StatusCode::NOT_FOUND, "user/not-found");
    let (_, page) = admin.get("/users").await;
    assert_eq!(page["users"].as_array().unwrap().len(), 1);
    // And a session of another user of this project is not this user's.
    let answer = admin.call(Method::DELETE, &format!("/users/{mine}/sessions/{foreign_session}"), Value::Null).await;
    assert_error(&answer, StatusCode::NOT_FOUND, "session/not-found");
    // The other project's user is untouched.
    let still = app.admin.users.get(other_project, foreign_id.parse().unwrap()).await.unwrap();
    assert!(still.user.is_active && still.user.profile.name.is_none() && !still.is_suspended());
    assert_eq!(app.admin.users.sessions(other_project, still.user.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn pages_neither_repeat_nor_skip_while_users_are_inserted() {
    let app = TestApp::spawn().await;
    let admin = Admin::of(&app).await;
    let mut existing = Vec::new();
    for n in 0..23 {
        existing.push(admin.create(json!({ "email": format!("u{n:02}@example.com") })).await);
    }
    // Inserts keep arriving while the pages are read.
    let inserter = {
        let users = app.admin.users.clone();
        let project = app.project;
        tokio::spawn(async move {
            let mut made = 0;
            for n in 0..40 {
                let request =
                    latchkey_core::auth::NewUser { email: format!("new{n:02}@example.com"), ..Default::default() };
                users.create(latchkey_core::domain::Actor::Cli, project, request).await.expect("insert");
                made += 1;
                tokio::task::yield_now().await;
            }
            made
        })
    };
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
        let page = admin.ok(Method::GET, &format!("/users?limit=4{query}"), Value::Null).await;
        let users = page["users"].as_array().unwrap();
        assert!(users.len() <= 4);
        seen.extend(users.iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(inserter.await.unwrap(), 40);
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no user twice");
    for id in &existing {
        assert!(unique.contains(id), "user {id} that existed before paging was skipped");
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, seen, "oldest first (ids are time-ordered)");
    // The filters narrow the same walk.
    let (_, filtered) = admin.get("/users?email=U0&limit=1000").await;
    assert_eq!(filtered["users"].as_array().unwrap().len(), 10, "u00..u09, case-insensitively");
}

#[tokio::test]
async fn a_suspension_refuses_sign_in_refresh_and_external_sign_in_until_lifted_or_over() {
    let app = TestApp::spawn().await;
    let admin = Admin::of(&app).await;
    let secret = app.admin.external.create_signing_secret(app.project).await.unwrap().plaintext;
    let signed_up = app.sign_up("sus@example.com").await;
    let refresh_token = signed_up["refreshToken"].as_str().unwrap().to_owned();
    let id = signed_up["user"]["id"].as_str().unwrap().to_owned();
    // The same account, linked to the customer's own system.
    admin.ok(Method::PATCH, &format!("/users/{id}"), json!({"emailVerified": true})).await;
    let (status, linked) = external(&app, &secret, "cust-7", json!({"email": "sus@example.com"})).await;
    assert_eq!((status, linked["user"]["id"].as_str()), (StatusCode::OK, Some(id.as_str())), "{linked}");

    let (_, user) = admin.post(&format!("/users/{id}/suspend"), json!({"reason": "abuse"})).await;
    assert_eq!(user["isSuspended"], true);
    assert_eq!(user["suspensions"][0]["endsAt"], Value::Null, "until lifted");
    let (_, sessions) = admin.get(&format!("/users/{id}/sessions")).await;
    assert_eq!(sessions["sessions"], json!([]), "every session is revoked");

    assert_error(&sign_in(&app, "sus@example.com", PASSWORD).await, StatusCode::FORBIDDEN, "auth/user-suspended");
    // Only the right password learns it: a wrong one is a wrong one.
    let wrong = sign_in(&app, "sus@example.com", "wrong-Passw0rd").await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "auth/invalid-credentials");
    assert_error(&refresh(&app, &refresh_token).await, StatusCode::FORBIDDEN, "auth/user-suspended");
    let refused = external(&app, &secret, "cust-7", json!({})).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "auth/user-suspended");
    let (_, listed) = admin.get("/users?status=suspended").await;
    assert_eq!(listed["users"][0]["id"], id.as_str());
    let (_, active) = admin.get("/users?status=active").await;
    assert_eq!(active["users"], json!([]));

    admin.ok(Method::POST, &format!("/users/{id}/unsuspend"), Value::Null).await;
    let (status, body) = sign_in(&app, "sus@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(external(&app, &secret, "cust-7", json!({})).await.0, StatusCode::OK);
    let fresh = body["refreshToken"].as_str().unwrap().to_owned();
    assert_eq!(refresh(&app, &fresh).await.0, StatusCode::OK);
    // Sessions revoked by the suspension stay revoked.
    assert_error(&refresh(&app, &refresh_token).await, StatusCode::FORBIDDEN, "auth/refresh-token-invalid");

    // A suspension with an end is over at its end, with nobody lifting it.
    admin
        .ok(
            Method::POST,
            &format!("/users/{id}/suspend"),
            json!({"reason": "cool-off", "endsAt": "2026-01-01T13:00:00Z"}),
        )
        .await;
    assert_error(&sign_in(&app, "sus@example.com", PASSWORD).await, StatusCode::FORBIDDEN, "auth/user-suspended");
    app.advance(3600);
    assert_eq!(sign_in(&app, "sus@example.com", PASSWORD).await.0, StatusCode::OK);
    let (_, user) = admin.get(&format!("/users/{id}")).await;
    assert_eq!((user["isSuspended"].clone(), user["suspensions"].clone()), (json!(false), json!([])));
}

#[tokio::test]
async fn a_disabled_account_is_refused_after_the_password_and_can_be_enabled() {
    let app = TestApp::spawn().await;
    let admin = Admin::of(&app).await;
    let secret = app.admin.external.create_signing_secret(app.project).await.unwrap().plaintext;
    let signed_up = app.sign_up("off@example.com").await;
    let refresh_token = signed_up["refreshToken"].as_str().unwrap().to_owned();
    let id = signed_up["user"]["id"].as_str().unwrap().to_owned();
    let (_, ext) = external(&app, &secret, "cust-off", json!({"email": "ext-off@example.com"})).await;
    let ext_id = ext["user"]["id"].as_str().unwrap().to_owned();

    for user in [&id, &ext_id] {
        let disabled = admin.ok(Method::PATCH, &format!("/users/{user}"), json!({"isActive": false})).await;
        assert_eq!(disabled["isActive"], false);
    }
    let (_, sessions) = admin.get(&format!("/users/{id}/sessions")).await;
    assert_eq!(sessions["sessions"], json!([]), "disabling revokes every session");
    assert_error(&sign_in(&app, "off@example.com", PASSWORD).await, StatusCode::FORBIDDEN, "auth/account-disabled");
    let wrong = sign_in(&app, "off@example.com", "wrong-Passw0rd").await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "auth/invalid-credentials");
    assert_error(&refresh(&app, &refresh_token).await, StatusCode::FORBIDDEN, "auth/account-disabled");
    let refused = external(&app, &secret, "cust-off", json!({})).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "auth/account-disabled");

    for user in [&id, &ext_id] {
        admin.ok(Method::PATCH, &format!("/users/{user}"), json!({"isActive": true})).await;
    }
    assert_eq!(sign_in(&app, "off@example.com", PASSWORD).await.0, StatusCode::OK);
    assert_eq!(external(&app, &secret, "cust-off", json!({})).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_deleted_user_leaves_no_row_naming_them_in_any_table() {
    let app = TestApp::spawn().await;
    let admin = Admin::of(&app).await;
    let secret = app.admin.external.create_signing_secret(app.project).await.unwrap().plaintext;
    let email = "erase.me@example.com";
    let username = "erase_me_42";
    let foreign = "crm-erase-9f3";
    let id = admin
        .create(
            json!({"email": email, "password": PASSWORD, "username": username, "emailVerified": true, "name": "Erin"}),
        )
        .await;
    // Rows about them everywhere: sessions of every kind, a linked foreign id with its consumed
    // jti, link tokens, queued mail (a verification, a reset request not yet resolved),
    // suspensions, failed sign-ins, and audit records.
    sign_in(&app, email, PASSWORD).await;
    let mut jwt_claims = claims(&app.project.to_string(), app.clock_now(), foreign, json!({"email": email}));
    jwt_claims["jti"] = json!("jti-erase-1");
    let (status, body) =
        app.post("/auth/verify-external-user", json!({"userJwt": sign_hs256(&secret, &jwt_claims)})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    admin.post(&format!("/users/{id}/links"), json!({"kind": "password-reset", "delivery": "return"})).await;
    admin.post(&format!("/users/{id}/links"), json!({"kind": "password-reset", "delivery": "email"})).await;
    admin
        .ok(Method::PATCH, &format!("/users/{id}"), json!({"email": "erase.me2@example.com", "sendVerification": true}))
        .await;
    admin.ok(Method::PATCH, &format!("/users/{id}"), json!({"email": email, "emailVerified": true})).await;
    app.post("/auth/request-password-reset", json!({"email": email})).await;
    sign_in(&app, email, "wrong-Passw0rd").await;
    admin.ok(Method::POST, &format!("/users/{id}/suspend"), json!({"reason": "then erased"})).await;
    // Another user's rows must stay.
    let keep = app.sign_up("keep@example.com").await;
    let keep_id = keep["user"]["id"].as_str().unwrap().to_owned();

    let needles = [id.as_str(), email, "erase.me2@example.com", username, foreign];
    let before = app.database_rows().await;
    for needle in needles {
        assert!(before.iter().any(|(_, row)| row.contains(needle)), "the setup stored {needle:?} somewhere");
    }

    let (status, _) = admin.call(Method::DELETE, &format!("/users/{id}"), Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let tables: HashSet<&str> = before.iter().map(|(table, _)| table.as_str()).collect();
    for table in [
        "users",
        "sessions",
        "audit_events",
        "mail_outbox",
        "link_tokens",
        "external_jtis",
        "sign_in_failures",
        "user_suspensions",
    ] {
        assert!(tables.contains(table), "the walk reads {table} (and every other table), which had rows");
    }
    let rows = app.database_rows().await;
    for (table, row) in &rows {
        for needle in needles {
            assert!(!row.contains(needle), "{table} still names the user ({needle:?}): {row}");
        }
    }
    assert!(rows.iter().any(|(table, row)| table == "users" && row.contains(&keep_id)), "the other user stays");

    // What happened is still on the trail, not to whom.
    let trail = app.store.list_audit_events(app.project, &AuditFilter::default(), 1000).await.unwrap();
    let deleted = trail.iter().find(|e| e.action == AuditAction::UserDeleted).expect("a user.deleted record");
    assert_eq!((deleted.user_id, deleted.actor.to_string()), (None, admin.actor().await));
    assert_eq!(
        deleted.details["subject"],
        app.admin.users.deleted_user_pseudonym(app.project, id.parse().unwrap()).as_str()
    );
    assert!(
        trail.iter().any(|e| e.action == AuditAction::UserSuspended && e.user_id.is_none() && e.details.is_empty())
    );

    // The email, username and foreign id are free again; the old id is gone for good.
    let (status, again) =
        admin.post("/users", json!({"email": email, "username": username, "foreignId": foreign})).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_ne!(again["id"], id.as_str());
    assert_error(
        &admin.call(Method::DELETE, &format!("/users/{id}"), Value::Null).await,
        StatusCode::NOT_FOUND,
        "user/not-found",
    );
}

#[tokio::test]
async fn every_action_is_on_the_audit_trail_with_its_actor() {
    let app = TestApp::spawn().await;
    let admin = Admin::of(&app).await;
    let actor = admin.actor().await;
    let id = admin.create(json!({"email": "audited@example.com", "password": PASSWORD})).await;
    admin.ok(Method::PATCH, &format!("/users/{id}"), json!({"name": "A", "metadata": {"k": 1}})).await;
    // A change that changes nothing writes nothing.
    admin.ok(Method::PATCH, &format!("/users/{id}"), json!({"name": "A"})).await;
    admin.ok(Method::POST, &format!("/users/{id}/suspend"), json!({"reason": "look into it"})).await;
    admin.ok(Method::POST, &format!("/users/{id}/unsuspend"), Value::Null).await;
    admin.ok(Method::POST, &format!("/users/{id}/password"), json!({"password": "n3w-S3cret!"})).await;
    admin
        .ok(Method::POST, &format!("/users/{id}/links"), json!({"kind": "password-reset", "delivery": "return"}))
        .await;
    admin.ok(Method::POST, &format!("/users/{id}/unlock"), Value::Null).await;
    let (_, body) = sign_in(&app, "audited@example.com", "n3w-S3cret!").await;
    assert!(body["accessToken"].is_string(), "{body}");
    let session = app.admin.users.sessions(app.project, id.parse().unwrap()).await.unwrap()[0].id;
    admin.ok(Method::DELETE, &format!("/users/{id}/sessions/{session}"), Value::Null).await;
    admin.ok(Method::DELETE, &format!("/users/{id}/sessions"), Value::Null).await;

    // (The sign-in flows' own security events are recorded by `system`.)
    let admin_actions: Vec<(AuditAction, String)> =
        trail(&app, &id).await.into_iter().filter(|(_, by)| by.starts_with("apiKey:")).collect();
    let expected = [
        AuditAction::UserCreated,
        AuditAction::UserUpdated,
        AuditAction::UserSuspended,
        AuditAction::UserUnsuspended,
        AuditAction::UserPasswordSet,
        AuditAction::UserLinkIssued,
        AuditAction::UserUnlocked,
        AuditAction::SessionRevoked,
        AuditAction::SessionsRevokedAll,
    ];
    assert_eq!(admin_actions, expected.iter().map(|a| (*a, actor.clone())).collect::<Vec<_>>());

    let filter = AuditFilter { user_id: Some(id.parse().unwrap()), ..Default::default() };
    let events = app.store.list_audit_events(app.project, &filter, 100).await.unwrap();
    let details = |action: AuditAction| events.iter().find(|e| e.action == action).unwrap().details.clone();
    assert_eq!(details(AuditAction::UserUpdated)["fields"], json!(["name", "metadata"]));
    assert_eq!(details(AuditAction::UserSuspended)["reason"], "look into it");
    assert_eq!(details(AuditAction::UserLinkIssued)["kind"], "password-reset");
    assert_eq!(details(AuditAction::SessionRevoked)["sessionId"], session.to_string().as_str());
    assert_eq!(details(AuditAction::SessionsRevokedAll)["revoked"], 0, "the one session was revoked already");
    assert!(
        events.iter().filter(|e| e.actor.to_string() == actor).all(|e| e.request_id.is_some()),
        "each names its request"
    );
    let text = serde_json::to_string(&events.iter().map(|e| &e.details).collect::<Vec<_>>()).unwrap();
    for secret in ["audited@example.com", "n3w-S3cret!", PASSWORD] {
        assert!(!text.contains(secret), "details never hold {secret:?}");
    }
}

#[tokio::test]
async fn links_passwords_and_unlocking_do_what_they_say() {
    let app = TestApp::spawn().await;
    let admin = Admin::of(&app).await;
    let signed_up = app.sign_up("linky@example.com").await;
    let id = signed_up["user"]["id"].as_str().unwrap().to_owned();
    let old_refresh = signed_up["refreshToken"].as_str().unwrap().to_owned();

    // A returned reset link resets through the usual route, once; a newer one replaces it.
    let links_path = format!("/users/{id}/links");
    let issue = |kind: &'static str| admin.post(&links_path, json!({"kind": kind, "delivery": "return"}));
    let first = issue("password-reset").await.1["token"].as_str().unwrap().to_owned();
    let second = issue("password-reset").await.1["token"].as_str().unwrap().to_owned();
    let used_first = app.post("/auth/reset-password", json!({"token": first, "newPassword": "n3w-S3cret!"})).await;
    assert_error(&used_first, StatusCode::BAD_REQUEST, "auth/invalid-reset-token");
    let (status, _) = app.post("/auth/reset-password", json!({"token": second, "newPassword": "n3w-S3cret!"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sign_in(&app, "linky@example.com", "n3w-S3cret!").await.0, StatusCode::OK);

    // A verification link verifies; emailed ones are queued for the worker, for this user.
    admin
        .ok(Method::PATCH, &format!("/users/{id}"), json!({"email": "linky2@example.com", "sendVerification": true}))
        .await;
    let (_, user) = admin.get(&format!("/users/{id}")).await;
    assert_eq!(user["isVerified"], false, "a changed email is unverified");
    let (status, _) =
        admin.post(&format!("/users/{id}/links"), json!({"kind": "email-verification", "delivery": "email"})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let queued = app.store.list_outbox(None, 100).await.unwrap();
    assert_eq!(queued.iter().filter(|r| r.purpose == latchkey_core::domain::LinkPurpose::VerifyEmail).count(), 2);
    let token = issue("email-verification").await.1["token"].as_str().unwrap().to_owned();
    let (status, _) = app.post("/auth/verify-email", json!({"token": token})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(admin.get(&format!("/users/{id}")).await.1["isVerified"], true);

    // Setting a password: sessions revoked, unused reset links dead, the new one works.
    let (_, signed_in) = sign_in(&app, "linky2@example.com", "n3w-S3cret!").await;
    let live_refresh = signed_in["refreshToken"].as_str().unwrap().to_owned();
    let pending_reset = issue("password-reset").await.1["token"].as_str().unwrap().to_owned();
    let (status, _) = admin.post(&format!("/users/{id}/password"), json!({"password": "0perator-Set!"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_error(&refresh(&app, &live_refresh).await, StatusCode::FORBIDDEN, "auth/refresh-token-invalid");
    assert_error(&refresh(&app, &old_refresh).await, StatusCode::FORBIDDEN, "auth/refresh-token-invalid");
    let dead = app.post("/auth/reset-password", json!({"token": pending_reset, "newPassword": "an0ther-Pass"})).await;
    assert_error(&dead, StatusCode::BAD_REQUEST, "auth/invalid-reset-token");
    assert_eq!(sign_in(&app, "linky2@example.com", "0perator-Set!").await.0, StatusCode::OK);

    // Unlock: a locked-out address signs in again at once.
    for _ in 0..11 {
        sign_in(&app, "linky2@example.com", "wrong-Passw0rd").await;
    }
    assert_error(
        &sign_in(&app, "linky2@example.com", "0perator-Set!").await,
        StatusCode::TOO_MANY_REQUESTS,
        "auth/too-many-attempts",
    );
    admin.ok(Method::POST, &format!("/users/{id}/unlock"), Value::Null).await;
    assert_eq!(sign_in(&app, "linky2@example.com", "0perator-Set!").await.0, StatusCode::OK);
}

#[tokio::test]
async fn sessions_show_how_they_began_and_only_while_live() {
    let app = TestApp::spawn().await;
    let admin = Admin::of(&app).await;
    let secret = app.admin.external.create_signing_secret(app.project).await.unwrap().plaintext;
    let signed_up = app.sign_up("multi@example.com").await;
    let id = signed_up["user"]["id"].as_str().unwrap().to_owned();
    admin.ok(Method::PATCH, &format!("/users/{id}"), json!({"emailVerified": true})).await;
    app.advance(1);
    sign_in(&app, "multi@example.com", PASSWORD).await;
    app.advance(1);
    external(&app, &secret, "cust-multi", json!({"email": "multi@example.com"})).await;
    app.advance(1);
    let (status, rotated) = refresh(&app, signed_up["refreshToken"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");

    let (_, list) = admin.get(&format!("/users/{id}/sessions")).await;
    let sessions = list["sessions"].as_array().unwrap();
    let methods: Vec<&str> = sessions.iter().map(|s| s["method"].as_str().unwrap()).collect();
    assert_eq!(methods, ["sign-up", "password", "external"], "oldest first");
    assert_eq!(sessions[0]["generation"], 1);
    assert_eq!(sessions[0]["createdAt"], "2026-01-01T12:00:00.000Z");
    assert_eq!(sessions[0]["lastRefreshedAt"], "2026-01-01T12:00:03.000Z");
    assert_eq!(sessions[0]["expiresAt"], "2026-01-31T12:00:03.000Z", "a refresh extends the session");

    // Past its refresh lifetime a session is no longer listed.
    app.advance(30 * 86400 - 2);
    let (_, list) = admin.get(&format!("/users/{id}/sessions")).await;
    assert_eq!(list["sessions"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn cursors_of_another_list_or_project_are_refused() {
    let app = TestApp::spawn().await;
    let admin = Admin::of(&app).await;
    for n in 0..3 {
        admin.create(json!({ "email": format!("c{n}@example.com") })).await;
    }
    let (_, page) = admin.get("/users?limit=2").await;
    let cursor = page["nextCursor"].as_str().unwrap().to_owned();
    let (_, next) = admin.get(&format!("/users?limit=2&cursor={cursor}")).await;
    assert_eq!(next["users"].as_array().unwrap().len(), 1);
    assert_eq!(next["nextCursor"], Value::Null);
    // A cursor is a position, not a grant: in another project it lists only that project.
    let (other, _) = app.another_project().await;
    let other_key = app.admin_key_of(other).await;
    let url = app.url(other, &format!("/admin/users?cursor={cursor}"));
    let answer = common::read(app.http.get(url).bearer_auth(&other_key).send().await.unwrap()).await;
    assert_eq!(answer.0, StatusCode::OK);
    assert_eq!(answer.1["users"], json!([]));
}
