//! Password reset and email verification end to end: real SMTP server on loopback, the real
//! outbox worker, links parsed out of the received MIME, then the JSON API and hosted pages.

mod common;

use std::time::{Duration, Instant};

use common::mail::{header, link_in, parts, token_of};
use common::smtp::SmtpServer;
use common::{TestApp, assert_error};
use latchkey_core::auth::MailSettingsChange;
use latchkey_core::store::OutboxState;
use reqwest::StatusCode;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(15);
const RESET_MESSAGE: &str = "If an account with that email exists, a password reset link has been sent.";

async fn request_reset(app: &TestApp, email: &str) {
    let (status, body) = app.post("/auth/request-password-reset", json!({ "email": email })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "success": true, "message": RESET_MESSAGE }));
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> (StatusCode, serde_json::Value) {
    app.post("/auth/sign-in", json!({ "email": email, "password": password })).await
}

/// Waits until the worker has nothing left to do (every row sent, dropped or failed).
async fn settle(app: &TestApp) {
    let start = Instant::now();
    loop {
        let rows = app.store.list_outbox(None, 1000).await.unwrap();
        if rows.iter().all(|r| matches!(r.state, OutboxState::Sent | OutboxState::Dropped | OutboxState::Failed)) {
            return;
        }
        assert!(start.elapsed() < WAIT, "outbox did not settle");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn password_reset_over_real_smtp() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(Some(&smtp.url()));
    let signed_up = app.sign_up("reset.me@example.com").await;
    let old_refresh = signed_up["refreshToken"].as_str().unwrap().to_owned();

    request_reset(&app, "Reset.Me@Example.com").await;
    let messages = smtp.wait_for(1, WAIT).await;
    let message = &messages[0];
    assert_eq!(message.to, vec!["reset.me@example.com"]);
    assert_eq!(header(&message.data, "Subject").as_deref(), Some("Reset your Test project password"));
    assert!(header(&message.data, "From").unwrap().contains("no-reply@latchkey.test"));
    let (text, html) = parts(&message.data);
    assert!(text.contains("Test project") && text.contains("expires in 1 hour"), "{text}");
    let link = link_in(&message.data);
    assert!(link.starts_with(&format!("{}/v7/{}/auth/reset-password-page?token=", app.addr, app.project)), "{link}");
    let token = token_of(&link);
    assert!(token.len() >= 43, "at least 256 bits");
    assert!(html.contains(&token) && html.contains("<a href="), "the HTML part carries the same link");

    let weak = app.post("/auth/reset-password", json!({ "token": token, "newPassword": "short" })).await;
    assert_error(&weak, StatusCode::BAD_REQUEST, "auth/weak-password");
    let (status, body) =
        app.post("/auth/reset-password", json!({ "token": token, "newPassword": "n3w-S3cret!" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "success": true, "message": "Password has been reset successfully." }));

    let (status, body) = sign_in(&app, "reset.me@example.com", "n3w-S3cret!").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["isVerified"], true, "a completed reset proves the address");
    let old = sign_in(&app, "reset.me@example.com", "s3cur3P@ss").await;
    assert_error(&old, StatusCode::UNAUTHORIZED, "auth/invalid-credentials");
    let refresh = app.post("/auth/request-new-access-token", json!({ "refreshToken": old_refresh })).await;
    assert_error(&refresh, StatusCode::FORBIDDEN, "auth/refresh-token-invalid");

    let again = app.post("/auth/reset-password", json!({ "token": token, "newPassword": "an0ther-Pass" })).await;
    assert_error(&again, StatusCode::BAD_REQUEST, "auth/invalid-reset-token");
}

#[tokio::test]
async fn bad_reset_tokens_are_all_refused_alike() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(Some(&smtp.url()));
    app.sign_up("a@example.com").await;
    let reset = |token: String| {
        let app = &app;
        async move { app.post("/auth/reset-password", json!({ "token": token, "newPassword": "n3w-S3cret!" })).await }
    };

    // Expired: the clock moves past the hour.
    request_reset(&app, "a@example.com").await;
    let first = token_of(&link_in(&smtp.wait_for(1, WAIT).await[0].data));
    app.advance(3601);
    assert_error(&reset(first).await, StatusCode::BAD_REQUEST, "auth/invalid-reset-token");

    // Superseded: a newer request kills the older link.
    request_reset(&app, "a@example.com").await;
    let second = token_of(&link_in(&smtp.wait_for(2, WAIT).await[1].data));
    request_reset(&app, "a@example.com").await;
    let third = token_of(&link_in(&smtp.wait_for(3, WAIT).await[2].data));
    assert_error(&reset(second).await, StatusCode::BAD_REQUEST, "auth/invalid-reset-token");

    // Another project's token, used on that project's path with its key, is unknown there.
    let (other, other_key) = app.another_project().await;
    let cross = app
        .post_as(other, &other_key, "/auth/reset-password", json!({ "token": third, "newPassword": "n3w-S3cret!" }))
        .await;
    assert_error(&cross, StatusCode::BAD_REQUEST, "auth/invalid-reset-token");

    // Garbage, empty, huge.
    for junk in ["garbage".to_owned(), String::new(), "x".repeat(5000)] {
        assert_error(&reset(junk).await, StatusCode::BAD_REQUEST, "auth/invalid-reset-token");
    }
    // A verification token is not a reset token.
    let user = app.store.find_user_by_email(app.project, "a@example.com").await.unwrap().unwrap();
    let (s, b) = app.post("/auth/send-verification-email", json!({ "userId": user.id.to_string() })).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let verify = token_of(&link_in(&smtp.wait_for(4, WAIT).await[3].data));
    assert_error(&reset(verify).await, StatusCode::BAD_REQUEST, "auth/invalid-reset-token");

    // The surviving newest link still works.
    let (status, body) = reset(third).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn unknown_addresses_get_the_same_answer_and_no_mail() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(Some(&smtp.url()));
    app.sign_up("known@example.com").await;

    let known = app.post("/auth/request-password-reset", json!({ "email": "known@example.com" })).await;
    let unknown = app.post("/auth/request-password-reset", json!({ "email": "ghost@example.com" })).await;
    assert_eq!(known, unknown, "identical status and body");
    settle(&app).await;
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].to, vec!["known@example.com"]);
    let states: Vec<_> = app.store.list_outbox(None, 10).await.unwrap().iter().map(|r| r.state).collect();
    assert!(states.contains(&OutboxState::Dropped) && states.contains(&OutboxState::Sent), "{states:?}");

    // A malformed body is the only error.
    let bad = app.post("/auth/request-password-reset", json!({ "mail": "x" })).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "auth/invalid-body");
}

/// Timing: the request path does the same work (one insert) for known and unknown addresses.
/// Medians of interleaved samples; the bound is loose because this machine is shared.
#[tokio::test]
async fn reset_requests_take_the_same_time_whether_or_not_the_account_exists() {
    let app = TestApp::spawn().await;
    for i in 0..20 {
        app.sign_up(&format!("user{i}@example.com")).await;
    }
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..20 {
        for (email, samples) in
            [(format!("user{i}@example.com"), &mut known), (format!("nobody{i}@example.com"), &mut unknown)]
        {
            let start = Instant::now();
            request_reset(&app, &email).await;
            samples.push(start.elapsed());
        }
    }
    known.sort();
    unknown.sort();
    let (k, u) = (known[10], unknown[10]);
    println!("median request-password-reset: existing {k:?}, unknown {u:?}");
    let diff = k.abs_diff(u);
    assert!(diff < Duration::from_millis(5) || diff < k.max(u) / 2, "existing {k:?} vs unknown {u:?}");
}

#[tokio::test]
async fn reset_requests_are_rate_limited_per_address_without_saying_so() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(Some(&smtp.url()));
    app.sign_up("spam@example.com").await;
    for _ in 0..8 {
        request_reset(&app, "spam@example.com").await;
    }
    settle(&app).await;
    assert_eq!(smtp.messages().len(), 5, "at most 5 per address per 15 minutes");
    app.advance(15 * 60 + 1);
    request_reset(&app, "spam@example.com").await;
    smtp.wait_for(6, WAIT).await;
}

#[tokio::test]
async fn email_verification_over_real_smtp() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(Some(&smtp.url()));
    let user = app.sign_up("verify.me@example.com").await["user"].clone();
    assert_eq!(user["isVerified"], false);
    let user_id = user["id"].as_str().unwrap().to_owned();

    let (s, b) = app.post("/auth/send-verification-email", json!({ "userId": user_id })).await;
    assert_eq!((s, b), (StatusCode::OK, json!({ "success": true })));
    let message = &smtp.wait_for(1, WAIT).await[0];
    assert_eq!(header(&message.data, "Subject").as_deref(), Some("Confirm your email address for Test project"));
    let (text, _) = parts(&message.data);
    assert!(text.contains("expires in 1 day"), "{text}");
    let link = link_in(&message.data);
    assert!(link.starts_with(&format!("{}/v7/{}/auth/verify-email-link?token=", app.addr, app.project)), "{link}");
    let token = token_of(&link);

    let (s, b) = app.post("/auth/verify-email", json!({ "token": token })).await;
    assert_eq!((s, b), (StatusCode::OK, json!({ "success": true })));
    let (_, signed_in) = sign_in(&app, "verify.me@example.com", "s3cur3P@ss").await;
    assert_eq!(signed_in["user"]["isVerified"], true);

    let twice = app.post("/auth/verify-email", json!({ "token": token })).await;
    assert_error(&twice, StatusCode::BAD_REQUEST, "auth/invalid-or-expired-token");
    let verified = app.post("/auth/send-verification-email", json!({ "userId": user_id })).await;
    assert_error(&verified, StatusCode::CONFLICT, "auth/already-verified");
    let missing =
        app.post("/auth/send-verification-email", json!({ "userId": uuid::Uuid::now_v7().to_string() })).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "user/not-found");
    let malformed = app.post("/auth/send-verification-email", json!({ "userId": "nope" })).await;
    assert_error(&malformed, StatusCode::NOT_FOUND, "user/not-found");
}

#[tokio::test]
async fn bad_verification_tokens_are_all_refused_alike() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(Some(&smtp.url()));
    let user_id = app.sign_up("v@example.com").await["user"]["id"].as_str().unwrap().to_owned();
    let send = || app.post("/auth/send-verification-email", json!({ "userId": user_id }));
    let verify = |token: String| app.post("/auth/verify-email", json!({ "token": token }));

    assert_eq!(send().await.0, StatusCode::OK);
    let expired = token_of(&link_in(&smtp.wait_for(1, WAIT).await[0].data));
    app.advance(24 * 3600 + 1);
    assert_error(&verify(expired).await, StatusCode::BAD_REQUEST, "auth/invalid-or-expired-token");

    assert_eq!(send().await.0, StatusCode::OK);
    let live = token_of(&link_in(&smtp.wait_for(2, WAIT).await[1].data));
    let (other, other_key) = app.another_project().await;
    let cross = app.post_as(other, &other_key, "/auth/verify-email", json!({ "token": live })).await;
    assert_error(&cross, StatusCode::BAD_REQUEST, "auth/invalid-or-expired-token");
    for junk in ["garbage".to_owned(), String::new(), "y".repeat(4000)] {
        assert_error(&verify(junk).await, StatusCode::BAD_REQUEST, "auth/invalid-or-expired-token");
    }
    // A reset token is not a verification token.
    request_reset(&app, "v@example.com").await;
    let reset = token_of(&link_in(&smtp.wait_for(3, WAIT).await[2].data));
    assert_error(&verify(reset).await, StatusCode::BAD_REQUEST, "auth/invalid-or-expired-token");
    let (_, b) = sign_in(&app, "v@example.com", "s3cur3P@ss").await;
    assert_eq!(b["user"]["isVerified"], false, "nothing above verified the user");

    assert_eq!(verify(live).await.0, StatusCode::OK);
    let (_, b) = sign_in(&app, "v@example.com", "s3cur3P@ss").await;
    assert_eq!(b["user"]["isVerified"], true);
}

#[tokio::test]
async fn sign_up_sends_verification_when_the_project_asks() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(Some(&smtp.url()));
    app.sign_up("quiet@example.com").await;
    settle(&app).await;
    assert!(smtp.messages().is_empty(), "off by default");

    let change = MailSettingsChange {
        verify_on_sign_up: Some(true),
        verify_page_url: Some(Some("https://app.example/verify?src=mail".into())),
        mail_from: Some(Some("Acme <hello@acme.example>".into())),
        ..Default::default()
    };
    app.admin.mail.update_mail_settings(app.project, change).await.unwrap();
    app.sign_up("loud@example.com").await;
    let message = &smtp.wait_for(1, WAIT).await[0];
    assert_eq!(message.to, vec!["loud@example.com"]);
    assert!(header(&message.data, "From").unwrap().contains("hello@acme.example"));
    let link = link_in(&message.data);
    assert!(link.starts_with("https://app.example/verify?src=mail&token="), "{link}");
    let (s, _) = app.post("/auth/verify-email", json!({ "token": token_of(&link) })).await;
    assert_eq!(s, StatusCode::OK);
}

/// The relay is down while resets are requested: requests still answer at once; when it
/// comes back every message arrives, exactly once.
#[tokio::test]
async fn smtp_outage_delays_mail_but_never_loses_or_duplicates_it() {
    let relay = SmtpServer::unused_addr();
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(Some(&format!("smtp://{relay}?tls=none")));
    let users: Vec<String> = (0..6).map(|i| format!("outage{i}@example.com")).collect();
    for email in &users {
        app.sign_up(email).await;
    }
    let mut slowest = Duration::ZERO;
    for email in &users {
        let start = Instant::now();
        request_reset(&app, email).await;
        slowest = slowest.max(start.elapsed());
    }
    println!("slowest request-password-reset during the outage: {slowest:?}");
    assert!(slowest < Duration::from_millis(500), "requests must not wait for SMTP ({slowest:?})");

    // Let the worker fail a few rounds against the dead relay.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let rows = app.store.list_outbox(None, 100).await.unwrap();
    assert!(rows.iter().all(|r| r.state != OutboxState::Sent), "nothing can have been sent");
    assert!(rows.iter().any(|r| r.attempts >= 1 && r.last_error.is_some()), "attempts were made and recorded");

    let smtp = SmtpServer::start_on(relay).await;
    let messages = smtp.wait_for(users.len(), WAIT).await;
    // Give any duplicate time to show up before counting.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let messages = if smtp.messages().len() > messages.len() { smtp.messages() } else { messages };
    assert_eq!(messages.len(), users.len(), "exactly one message per request");
    let mut recipients: Vec<String> = messages.iter().flat_map(|m| m.to.clone()).collect();
    recipients.sort();
    let mut expected = users.clone();
    expected.sort();
    assert_eq!(recipients, expected);
    let mut ids: Vec<String> = messages.iter().map(|m| header(&m.data, "Message-ID").unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), users.len());
    // And each delivered link works.
    let token = token_of(&link_in(&messages[0].data));
    let (s, b) = app.post("/auth/reset-password", json!({ "token": token, "newPassword": "n3w-S3cret!" })).await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

#[tokio::test]
async fn two_workers_never_send_the_same_row() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let first = app.start_worker(Some(&smtp.url()));
    let second = app.start_worker(Some(&smtp.url()));
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(app.sign_up(&format!("w{i}@example.com")).await["user"]["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        let (s, _) = app.post("/auth/send-verification-email", json!({ "userId": id })).await;
        assert_eq!(s, StatusCode::OK);
    }
    smtp.wait_for(ids.len(), WAIT).await;
    settle(&app).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.messages().len(), ids.len());
    first.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn project_relay_with_auth_and_sealed_password() {
    let relay = SmtpServer::start_with_auth("mailer", "p@ss:w0rd").await;
    let app = TestApp::spawn().await;
    // The server default is dead; only the project's own relay can deliver.
    let _worker = app.start_worker(Some(&format!("smtp://{}?tls=none", SmtpServer::unused_addr())));
    let change = MailSettingsChange {
        smtp_url: Some(Some(format!("smtp://mailer@{}?tls=none", relay.addr))),
        smtp_password: Some(Some("p@ss:w0rd".into())),
        ..Default::default()
    };
    let settings = app.admin.mail.update_mail_settings(app.project, change).await.unwrap();
    assert!(settings.smtp.as_ref().unwrap().has_password);
    app.sign_up("relay@example.com").await;
    request_reset(&app, "relay@example.com").await;
    let message = &relay.wait_for(1, WAIT).await[0];
    assert_eq!(message.to, vec!["relay@example.com"]);

    let stored = app.database_bytes().await;
    let visible = b"relay@example.com";
    assert!(stored.windows(visible.len()).any(|w| w == visible), "the search sees stored data");
    let needle = b"p@ss:w0rd";
    assert!(!stored.windows(needle.len()).any(|w| w == needle));
}

#[tokio::test]
async fn queued_links_are_sealed_at_rest_and_bodies_dropped_once_sent() {
    let app = TestApp::spawn().await;
    let user_id = app.sign_up("sealed@example.com").await["user"]["id"].as_str().unwrap().to_owned();
    let (s, _) = app.post("/auth/send-verification-email", json!({ "userId": user_id })).await;
    assert_eq!(s, StatusCode::OK);
    // No worker yet: the row is queued. Nowhere in the database is the address or token readable.
    let rows = app.store.list_outbox(None, 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    let sealed = rows[0].payload_sealed.clone().unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("sealed@example.com"));

    let worker = app.start_worker(None);
    settle(&app).await;
    worker.stop().await;
    let rows = app.store.list_outbox(None, 10).await.unwrap();
    assert_eq!(rows[0].state, OutboxState::Sent);
    assert!(rows[0].payload_sealed.is_none(), "the body is not kept after sending");
    let eml = std::fs::read_dir(app.dir.path().join("mail").join(app.project.to_string())).unwrap().count();
    assert_eq!(eml, 1);
    let token = {
        let dir = app.dir.path().join("mail").join(app.project.to_string());
        let file = std::fs::read_dir(dir).unwrap().next().unwrap().unwrap().path();
        token_of(&link_in(&std::fs::read(file).unwrap()))
    };
    let stored = app.database_bytes().await;
    let visible = b"sealed@example.com";
    assert!(stored.windows(visible.len()).any(|w| w == visible), "the search sees stored data");
    assert!(!stored.windows(token.len()).any(|w| w == token.as_bytes()), "token found in the database");
}

/// No SMTP configured: messages become `.eml` files under the data directory, and their link works.
#[tokio::test]
async fn without_smtp_emails_are_written_as_eml_files_whose_links_work() {
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(None);
    app.sign_up("file@example.com").await;
    request_reset(&app, "file@example.com").await;
    settle(&app).await;
    let dir = app.dir.path().join("mail").join(app.project.to_string());
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
    let raw = std::fs::read(&files[0]).unwrap();
    assert_eq!(header(&raw, "To").as_deref(), Some("file@example.com"));
    let link = link_in(&raw);

    // The link opens the hosted page, and its token resets the password.
    let page = app.http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let (s, b) =
        app.post("/auth/reset-password", json!({ "token": token_of(&link), "newPassword": "n3w-S3cret!" })).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(sign_in(&app, "file@example.com", "n3w-S3cret!").await.0, StatusCode::OK);
}

/// A worker that claimed a row and died: its lease lapses, another worker delivers the row
/// once, and the dead worker's claim can no longer change the row.
#[tokio::test]
async fn a_crashed_workers_claim_lapses_and_the_row_is_delivered_once() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let user_id = app.sign_up("crash@example.com").await["user"]["id"].as_str().unwrap().to_owned();
    let (s, _) = app.post("/auth/send-verification-email", json!({ "userId": user_id })).await;
    assert_eq!(s, StatusCode::OK);

    let now = chrono::Utc::now();
    let crashed = latchkey_core::store::Claim {
        token: "crashed-worker".into(),
        now,
        lease_until: now + chrono::Duration::milliseconds(300),
    };
    let row = app.store.claim_outbox(&crashed).await.unwrap().expect("the row is claimed");
    assert_eq!(row.state, OutboxState::Sending);

    let _worker = app.start_worker(Some(&smtp.url()));
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(smtp.messages().is_empty(), "a live lease is respected");
    smtp.wait_for(1, WAIT).await;
    settle(&app).await;
    assert!(!app.store.outbox_sent(row.id, "crashed-worker", chrono::Utc::now()).await.unwrap(), "stale claim");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 1);
}

/// `smtp://host:port` means STARTTLS required: a relay that does not offer it gets nothing,
/// the row is retried with the reason recorded, and no plain-text fallback happens.
#[tokio::test]
async fn starttls_is_required_by_default_and_never_silently_skipped() {
    let smtp = SmtpServer::start().await; // plain only: no STARTTLS offered
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(Some(&format!("smtp://{}", smtp.addr)));
    app.sign_up("tls@example.com").await;
    request_reset(&app, "tls@example.com").await;
    let start = Instant::now();
    loop {
        let rows = app.store.list_outbox(None, 10).await.unwrap();
        if rows.iter().any(|r| r.attempts >= 2) {
            assert!(rows.iter().all(|r| r.state != OutboxState::Sent));
            break;
        }
        assert!(start.elapsed() < WAIT, "expected failed attempts: {rows:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(smtp.messages().is_empty(), "nothing may be sent without TLS");
}

/// STARTTLS and implicit TLS (smtps) with AUTH against a relay whose certificate is signed by
/// a private CA trusted through `LATCHKEY_SMTP_CA_FILE`; without that CA nothing is sent.
#[tokio::test]
async fn starttls_and_smtps_relays_with_a_private_ca() {
    use common::smtp::TestPki;
    let pki = TestPki::new();
    for implicit in [false, true] {
        let relay = SmtpServer::start_tls(&pki, implicit, "mailer", "s3cret").await;
        let scheme = if implicit { "smtps" } else { "smtp" };
        let url = format!("{scheme}://mailer:s3cret@localhost:{}", relay.addr.port());

        // Untrusted certificate: the worker retries and never sends.
        let untrusted = TestApp::spawn().await;
        let worker = untrusted.start_worker(Some(&url));
        untrusted.sign_up("tls@example.com").await;
        request_reset(&untrusted, "tls@example.com").await;
        let start = Instant::now();
        while !untrusted.store.list_outbox(None, 10).await.unwrap().iter().any(|r| r.attempts >= 1) {
            assert!(start.elapsed() < WAIT);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        worker.stop().await;
        assert!(relay.messages().is_empty(), "{scheme}: an untrusted certificate must not be accepted");

        let app = TestApp::spawn().await;
        let _worker = app.start_worker_with_ca(&url, pki.ca_pem.clone());
        app.sign_up("tls@example.com").await;
        request_reset(&app, "tls@example.com").await;
        let message = &relay.wait_for(1, WAIT).await[0];
        assert_eq!(message.to, vec!["tls@example.com"], "{scheme}");
        let token = token_of(&link_in(&message.data));
        let (s, b) = app.post("/auth/reset-password", json!({ "token": token, "newPassword": "n3w-S3cret!" })).await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
}
