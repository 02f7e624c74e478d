//! Hosted pages over plain HTTP: security headers, GET never consumes, CSRF protection of the
//! POST, and every outcome page (done, already used, expired, replaced, invalid).

mod common;

use std::time::Duration;

use common::TestApp;
use common::mail::{link_in, token_of};
use common::smtp::SmtpServer;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, SET_COOKIE};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(15);

fn assert_page_headers(headers: &HeaderMap) {
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("form-action 'self'") && !csp.contains("script-src"), "{csp}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
}

/// GETs the page and returns (html, csrf cookie value).
async fn open(app: &TestApp, link: &str) -> (String, String) {
    let response = app.http.get(link).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_page_headers(response.headers());
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let value = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    let html = response.text().await.unwrap();
    assert!(!html.contains("<script"), "no script on the page");
    assert!(!html.contains("http://") && !html.contains("https://"), "no external resources");
    (html, value)
}

fn page_url(app: &TestApp, page: &str) -> String {
    app.url(app.project, &format!("/auth/{page}"))
}

async fn reset_link(app: &TestApp, smtp: &SmtpServer, email: &str, n: usize) -> String {
    let (s, _) = app.post("/auth/request-password-reset", json!({ "email": email })).await;
    assert_eq!(s, StatusCode::OK);
    link_in(&smtp.wait_for(n, WAIT).await[n - 1].data)
}

#[tokio::test]
async fn reset_page_get_is_safe_and_post_needs_the_csrf_cookie() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(Some(&smtp.url()));
    app.sign_up("page@example.com").await;
    let link = reset_link(&app, &smtp, "page@example.com", 1).await;
    let token = token_of(&link);
    let (html, csrf) = open(&app, &link).await;
    assert!(html.contains("Choose a new password") && html.contains("Test project"));
    open(&app, &link).await; // twice: still a form

    let form = |csrf: &str| {
        vec![
            ("token", token.clone()),
            ("csrf", csrf.to_owned()),
            ("password", "n3w-S3cret!".into()),
            ("confirm", "n3w-S3cret!".into()),
        ]
    };
    let url = page_url(&app, "reset-password-page");
    // No cookie (a cross-site form post cannot carry our SameSite=Strict cookie): refused.
    let r = app.http.post(&url).form(&form(&csrf)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_page_headers(r.headers());
    // Cookie and field disagree: refused.
    let r = app
        .http
        .post(&url)
        .header("cookie", format!("latchkey_csrf={csrf}"))
        .form(&form("x".repeat(43).as_str()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Another site's Origin: refused even with the right pair.
    let r = app
        .http
        .post(&url)
        .header("cookie", format!("latchkey_csrf={csrf}"))
        .header("origin", "https://evil.example")
        .form(&form(&csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // None of that consumed the token; the real submission works once. Its Origin is the
    // public URL while Host is the loopback address, as behind a proxy that rewrites Host.
    let r = app
        .http
        .post(&url)
        .header("cookie", format!("latchkey_csrf={csrf}"))
        .header("origin", common::ISSUER)
        .form(&form(&csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Password changed"));
    let r =
        app.http.post(&url).header("cookie", format!("latchkey_csrf={csrf}")).form(&form(&csrf)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("already been used"));
    let r = app.http.get(&link).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("Link already used"));
}

#[tokio::test]
async fn reset_page_outcomes_for_expired_replaced_and_invalid_links() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(Some(&smtp.url()));
    app.sign_up("o@example.com").await;
    let first = reset_link(&app, &smtp, "o@example.com", 1).await;
    let second = reset_link(&app, &smtp, "o@example.com", 2).await;
    let r = app.http.get(&first).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("Link replaced"));
    app.advance(3601);
    let r = app.http.get(&second).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    assert_page_headers(r.headers());
    assert!(r.text().await.unwrap().contains("Link expired"));
    for bad in
        [format!("{}?token=garbage", page_url(&app, "reset-password-page")), page_url(&app, "reset-password-page")]
    {
        let r = app.http.get(&bad).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert!(r.text().await.unwrap().contains("Invalid link"));
    }
    let other = format!("{}/v7/{}/auth/reset-password-page?token=x", app.addr, uuid::Uuid::now_v7());
    assert_eq!(app.http.get(&other).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn verify_page_confirms_only_on_post() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(Some(&smtp.url()));
    let user_id = app.sign_up("vp@example.com").await["user"]["id"].as_str().unwrap().to_owned();
    let (s, _) = app.post("/auth/send-verification-email", json!({ "userId": user_id })).await;
    assert_eq!(s, StatusCode::OK);
    let link = link_in(&smtp.wait_for(1, WAIT).await[0].data);
    let (html, csrf) = open(&app, &link).await;
    assert!(html.contains("Confirm your email address"));
    let (_, b) = app.post("/auth/sign-in", json!({ "email": "vp@example.com", "password": "s3cur3P@ss" })).await;
    assert_eq!(b["user"]["isVerified"], false, "a GET verified nothing");

    let url = page_url(&app, "verify-email-link");
    let form = [("token", token_of(&link)), ("csrf", csrf.clone())];
    let r = app.http.post(&url).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no cookie, no verification");
    let r = app.http.post(&url).header("cookie", format!("latchkey_csrf={csrf}")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Email verified"));
    let (_, b) = app.post("/auth/sign-in", json!({ "email": "vp@example.com", "password": "s3cur3P@ss" })).await;
    assert_eq!(b["user"]["isVerified"], true);
    let r = app.http.get(&link).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("Link already used"));
}

#[tokio::test]
async fn two_tabs_of_one_link_both_submit_and_a_weak_password_is_explained_to_the_person() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(Some(&smtp.url()));
    app.sign_up("tabs@example.com").await;
    let link = reset_link(&app, &smtp, "tabs@example.com", 1).await;
    let csrf_field = |html: &str| {
        let after = html.split(r#"name="csrf" value=""#).nth(1).expect("csrf field");
        after.split('"').next().unwrap().to_owned()
    };

    // Tab one opens the link; tab two opens it in the same browser (which sends tab one's cookie).
    let (first_html, cookie) = open(&app, &link).await;
    let second = app.http.get(&link).header("cookie", format!("latchkey_csrf={cookie}")).send().await.unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    let replaced = second.headers().get(SET_COOKIE).map(|c| c.to_str().unwrap().to_owned());
    let second_html = second.text().await.unwrap();
    assert_eq!(csrf_field(&second_html), cookie, "the second tab's form uses the browser's cookie");
    assert!(replaced.as_ref().is_none_or(|c| c.contains(&cookie)), "the cookie is not replaced: {replaced:?}");

    // Tab one submits a weak password: told what to do, in words for a person.
    let url = page_url(&app, "reset-password-page");
    let submit = |csrf: String, password: &'static str| {
        let form =
            [("token", token_of(&link)), ("csrf", csrf), ("password", password.into()), ("confirm", password.into())];
        app.http.post(&url).header("cookie", format!("latchkey_csrf={cookie}")).form(&form).send()
    };
    let weak = submit(csrf_field(&first_html), "short").await.unwrap();
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);
    let weak_html = weak.text().await.unwrap();
    assert!(weak_html.contains("Please choose a stronger password: at least 8 characters"), "{weak_html}");
    assert!(!weak_html.contains("password must be"), "not the API's developer message");

    // Then tab one's form (issued first) still works.
    let done = submit(csrf_field(&first_html), "n3w-S3cret!").await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.unwrap().contains("Password changed"));
}
