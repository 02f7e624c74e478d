//! `POST /admin/users/import` over HTTP, on either backend (`LATCHKEY_TEST_BACKEND`): the
//! per-line report (malformed lines, unknown hash formats, duplicates within a request), a
//! re-run that creates nothing twice, updates, a dry run that writes nothing, the batch limit,
//! project isolation, the batch's audit record, and an export -> import round trip into a new
//! project where every user still signs in with their password.

mod common;

use common::{TestApp, assert_error, read};
use latchkey_core::domain::{AuditAction, AuditFilter, ProjectId};
use latchkey_server::import_wire::exported_user;
use reqwest::StatusCode;
use serde_json::{Value, json};

const PASSWORD: &str = "s3cur3P@ss";

async fn import_into(app: &TestApp, project: ProjectId, key: &str, users: Value, dry_run: bool) -> (StatusCode, Value) {
    let url = app.url(project, &format!("/admin/users/import{}", if dry_run { "?dryRun=true" } else { "" }));
    read(app.http.post(url).bearer_auth(key).json(&json!({ "users": users })).send().await.expect("request")).await
}

fn outcomes(report: &Value) -> Vec<(String, Option<String>)> {
    report["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| (l["outcome"].as_str().unwrap().to_owned(), l["reason"].as_str().map(str::to_owned)))
        .collect()
}

/// A well-formed bcrypt hash (salt and digest from a real one) of the given cost.
fn bcrypt_like(cost: u32) -> String {
    format!("$2b${cost:02}$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW")
}

/// Firebase's published example (github.com/firebase/scrypt): a 64-byte hash and its salt.
const FIREBASE_HASH: &str = "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==";
const FIREBASE_SALT: &str = "42xEC+ixf3L2lw==";

#[tokio::test]
async fn each_line_is_reported_and_a_rerun_creates_nothing_twice() {
    let app = TestApp::spawn().await;
    let key = app.admin_key_of(app.project).await;
    let users = json!([
        { "email": "Ann@Example.com", "name": "Ann", "emailVerified": true, "role": "moderator",
          "passwordHash": bcrypt_like(12), "foreignId": "old-1", "createdAt": "2020-01-02T03:04:05Z",
          "metadata": { "plan": "pro" } },
        { "email": "weak@example.com", "passwordHash": bcrypt_like(4) },
        { "email": "fb@example.com", "passwordHash": FIREBASE_HASH, "passwordSalt": FIREBASE_SALT },
        { "email": "md5@example.com", "passwordHash": "$1$abc$def" },
        { "email": "ann@example.com", "name": "Second Ann" },
        "not an object",
        { "name": "no email" },
        { "email": "role@example.com", "role": "owner" },
        { "email": "not-an-email" },
        { "email": "salt@example.com", "passwordSalt": "c2FsdA==" },
    ]);
    let (status, report) = import_into(&app, app.project, &key, users.clone(), false).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let lines = outcomes(&report);
    let kinds: Vec<&str> = lines.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(kinds, ["created", "created", "created", "error", "error", "error", "error", "error", "error", "error"]);
    assert!(lines[3].1.as_deref().unwrap().starts_with("passwordHash:"), "{lines:?}");
    assert!(lines[4].1.as_deref().unwrap().contains("first on line 1"), "{lines:?}");
    assert!(lines[7].1.as_deref().unwrap().starts_with("role:"), "{lines:?}");
    assert!(lines[9].1.as_deref().unwrap().starts_with("passwordSalt:"), "{lines:?}");
    assert_eq!(report["lines"][1]["belowFloor"], true);
    assert_eq!(report["lines"][0].get("belowFloor"), None);
    assert_eq!(
        (report["created"].clone(), report["errors"].clone(), report["belowFloor"].clone()),
        (json!(3), json!(7), json!(1))
    );
    assert_eq!(report["lines"][0]["email"], "ann@example.com", "normalised");

    // The stored user: the hash as given, createdAt kept, the fields of the line.
    let ann = app.store.find_user_by_email(app.project, "ann@example.com").await.unwrap().expect("imported");
    assert_eq!(ann.password_hash.as_deref(), Some(bcrypt_like(12).as_str()));
    assert_eq!(ann.created_at.to_rfc3339(), "2020-01-02T03:04:05+00:00");
    assert!(ann.is_verified && ann.foreign_id.as_deref() == Some("old-1"));
    let fb = app.store.find_user_by_email(app.project, "fb@example.com").await.unwrap().unwrap();
    assert_eq!(fb.password_hash.as_deref(), Some(&*format!("$firebase-scrypt${FIREBASE_SALT}${FIREBASE_HASH}")));

    // A re-run: nothing created twice, the same errors.
    let (_, again) = import_into(&app, app.project, &key, users, false).await;
    let kinds: Vec<String> = outcomes(&again).into_iter().map(|(o, _)| o).collect();
    assert_eq!(&kinds[..3], ["skipped", "skipped", "skipped"]);
    assert_eq!(again["errors"], 7);

    // Changed data updates; the stored password is never replaced by an import.
    let changed = json!([{ "email": "ann@example.com", "name": "Ann B", "passwordHash": bcrypt_like(13) },
                         { "email": "new@example.com" }]);
    let (_, updated) = import_into(&app, app.project, &key, changed, false).await;
    assert_eq!(outcomes(&updated).into_iter().map(|(o, _)| o).collect::<Vec<_>>(), ["updated", "created"]);
    let ann = app.store.find_user_by_email(app.project, "ann@example.com").await.unwrap().unwrap();
    assert_eq!(
        (ann.profile.name.as_deref(), ann.password_hash.as_deref()),
        (Some("Ann B"), Some(bcrypt_like(12).as_str()))
    );
    assert_eq!(ann.metadata["plan"], "pro", "a field the line leaves out is kept");

    // Each batch wrote one user.imported record with counts only.
    let filter = AuditFilter::default();
    let trail = app.store.list_audit_events(app.project, &filter, 100).await.unwrap();
    let imported: Vec<_> = trail.iter().filter(|e| e.action == AuditAction::UserImported).collect();
    assert_eq!(imported.len(), 3);
    let first = imported.iter().find(|e| e.details["created"] == 3).expect("the first batch's record");
    assert_eq!(first.user_id, None);
    let mut keys: Vec<&str> = first.details.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["belowFloor", "created", "errors", "skipped", "updated"]);
}

#[tokio::test]
async fn a_dry_run_writes_nothing() {
    let app = TestApp::spawn().await;
    let key = app.admin_key_of(app.project).await;
    let users = json!([{ "email": "dry@example.com" }, { "email": "dry@example.com" }, { "email": "x" }]);
    let (status, report) = import_into(&app, app.project, &key, users.clone(), true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (report["dryRun"].clone(), report["created"].clone(), report["errors"].clone()),
        (json!(true), json!(1), json!(2))
    );
    assert!(app.store.find_user_by_email(app.project, "dry@example.com").await.unwrap().is_none());
    let trail = app.store.list_audit_events(app.project, &AuditFilter::default(), 100).await.unwrap();
    assert!(trail.iter().all(|e| e.action != AuditAction::UserImported));
    // The real run then does what the dry run said.
    let (_, real) = import_into(&app, app.project, &key, users, false).await;
    assert_eq!(outcomes(&real), outcomes(&report));
}

#[tokio::test]
async fn the_batch_limit_and_project_isolation() {
    let app = TestApp::spawn().await;
    let key = app.admin_key_of(app.project).await;
    let many: Vec<Value> = (0..1001).map(|n| json!({ "email": format!("u{n}@example.com") })).collect();
    let too_many = import_into(&app, app.project, &key, Value::Array(many.clone()), false).await;
    assert_error(&too_many, StatusCode::BAD_REQUEST, "auth/invalid-body");
    assert_eq!(too_many.1["field"], "users");
    let (status, full) = import_into(&app, app.project, &key, Value::Array(many[..1000].to_vec()), false).await;
    assert_eq!((status, full["created"].clone()), (StatusCode::OK, json!(1000)));

    // Another project: its key cannot import here, and the same emails are new users there.
    let (other, other_key) = app.another_project().await;
    let other_admin = app.admin_key_of(other).await;
    let refused = import_into(&app, app.project, &other_key, json!([{ "email": "z@example.com" }]), false).await;
    assert_error(&refused, StatusCode::UNAUTHORIZED, "auth/invalid-api-key");
    let (_, there) = import_into(&app, other, &other_admin, Value::Array(many[..3].to_vec()), false).await;
    assert_eq!(there["created"], 3, "{there}");
    let not_object = read(
        app.http
            .post(app.url(app.project, "/admin/users/import"))
            .bearer_auth(&key)
            .json(&json!([1]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&not_object, StatusCode::BAD_REQUEST, "auth/invalid-body");
}

#[tokio::test]
async fn exported_users_sign_in_in_a_new_project() {
    let app = TestApp::spawn().await;
    let emails = ["r1@example.com", "r2@example.com", "r3@example.com"];
    for email in emails {
        app.sign_up(email).await;
    }
    let exported: Vec<Value> = app
        .admin
        .imports
        .export_page(app.project, None, 1000)
        .await
        .unwrap()
        .iter()
        .filter_map(|u| exported_user(u, true))
        .map(|u| serde_json::to_value(u).unwrap())
        .collect();
    assert_eq!(exported.len(), 3);
    assert!(exported.iter().all(|u| u["passwordHash"].as_str().is_some_and(|h| h.starts_with("$argon2id$"))));
    let without: Vec<_> = app.admin.imports.export_page(app.project, None, 1000).await.unwrap();
    assert!(without.iter().filter_map(|u| exported_user(u, false)).all(|u| u.password_hash.is_none()));

    let (new_project, new_key) = app.another_project().await;
    let admin = app.admin_key_of(new_project).await;
    let (_, report) = import_into(&app, new_project, &admin, Value::Array(exported), false).await;
    assert_eq!(report["created"], 3, "{report}");
    for email in emails {
        let ok =
            app.post_as(new_project, &new_key, "/auth/sign-in", json!({ "email": email, "password": PASSWORD })).await;
        assert_eq!(ok.0, StatusCode::OK, "{email}: {}", ok.1);
        let wrong = app
            .post_as(new_project, &new_key, "/auth/sign-in", json!({ "email": email, "password": "wr0ngP@ss!" }))
            .await;
        assert_eq!(wrong.0, StatusCode::UNAUTHORIZED, "{email}");
    }
}
