//! The hosted reset page in a real headless Chromium (WebDriver): open the link from a
//! received email, set a new password, see success (and the link back to the project's app);
//! open it again, see "already used".
//! Screenshots of each page go to target/test-artifacts/.

mod common;

use std::time::Duration;

use common::TestApp;
use common::mail::{link_in, token_of};
use common::smtp::SmtpServer;
use common::webdriver::{Browser, artifact};
use latchkey_core::auth::{LinkStatus, ProjectChange};
use latchkey_core::domain::{Actor, LinkPurpose};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_password_in_a_real_browser() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(Some(&smtp.url()));
    app.sign_up("browser@example.com").await;
    // Where the outcome page's "Back to ..." link leads (a loopback http URL is allowed).
    let app_url = format!("{}/app?from=reset&step=2", app.addr);
    let change = ProjectChange { app_url: Some(Some(app_url.clone())), ..ProjectChange::default() };
    app.admin.projects.update(app.project, change, Actor::Cli).await.unwrap();
    let (status, _) = app.post("/auth/request-password-reset", json!({ "email": "browser@example.com" })).await;
    assert_eq!(status, StatusCode::OK);
    let message = &smtp.wait_for(1, Duration::from_secs(15)).await[0];
    let link = link_in(&message.data);
    let token = token_of(&link);

    // A mail scanner prefetches the link twice: plain GETs never consume the token.
    for _ in 0..2 {
        let page = app.http.get(&link).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().contains("Choose a new password"));
    }
    let status = app.services.email_links.link_status(app.project, LinkPurpose::PasswordReset, &token).await.unwrap();
    assert!(matches!(status, LinkStatus::Valid { .. }), "still valid after GETs: {status:?}");

    let browser = Browser::launch().await;
    browser.goto(&link).await;
    browser.wait_for("#password").await;
    assert_eq!(browser.text("h1").await, "Choose a new password");
    assert_eq!(browser.text(".project").await.to_lowercase(), "test project");
    browser.screenshot(&artifact("reset-1-form.png")).await;

    // A mismatch is caught and the form comes back with a message.
    browser.type_into("#password", "n3w-S3cret!").await;
    browser.type_into("#confirm", "something-else").await;
    browser.click("#submit").await;
    browser.wait_for("#error").await;
    assert!(browser.text("#error").await.contains("do not match"));
    browser.screenshot(&artifact("reset-2-mismatch.png")).await;

    browser.type_into("#password", "n3w-S3cret!").await;
    browser.type_into("#confirm", "n3w-S3cret!").await;
    browser.click("#submit").await;
    browser.wait_for("#heading").await;
    assert_eq!(browser.text("#heading").await, "Password changed");
    assert_eq!(browser.attribute("main", "data-outcome").await.as_deref(), Some("done"));
    assert_eq!(browser.text("#back").await, "Back to Test project");
    assert_eq!(browser.attribute("#back", "href").await.as_deref(), Some(app_url.as_str()), "read as set");
    browser.screenshot(&artifact("reset-3-done.png")).await;

    let (status, body) =
        app.post("/auth/sign-in", json!({ "email": "browser@example.com", "password": "n3w-S3cret!" })).await;
    assert_eq!(status, StatusCode::OK, "the new password works: {body}");

    // The same link again: already used.
    browser.goto(&link).await;
    browser.wait_for("#heading").await;
    assert_eq!(browser.text("#heading").await, "Link already used");
    assert_eq!(browser.attribute("main", "data-outcome").await.as_deref(), Some("used"));
    browser.screenshot(&artifact("reset-4-already-used.png")).await;
    browser.quit().await;
}
