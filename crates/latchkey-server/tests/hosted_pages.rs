//! Hosted pages over plain HTTP: security headers, GET never consumes, CSRF protection of the
//! POST, every outcome page (done, already used, expired, replaced, invalid), the project's
//! "back to the app" link, and template overrides (`LATCHKEY_PAGE_TEMPLATES`).

mod common;

use std::time::Duration;

use common::TestApp;
use common::mail::{link_in, token_of};
use common::smtp::SmtpServer;
use latchkey_core::auth::ProjectChange;
use latchkey_core::domain::Actor;
use latchkey_server::config::ServeSettings;
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

/// The outcome page's "back to the app" link: (href as the browser reads it, link text).
fn back_link(html: &str) -> Option<(String, String)> {
    let tag = html.split("<a ").find(|t| t.contains(r#"id="back""#))?;
    let href = tag.split(r#"href=""#).nth(1)?.split('"').next()?;
    let text = tag.split('>').nth(1)?.split("</a").next()?;
    Some((unescape(href), unescape(text)))
}

/// Undoes minijinja's HTML escaping.
fn unescape(text: &str) -> String {
    [("&#x2f;", "/"), ("&#x27;", "'"), ("&quot;", "\""), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")]
        .iter()
        .fold(text.to_owned(), |t, (from, to)| t.replace(from, to))
}

async fn set_app_url(app: &TestApp, project: latchkey_core::domain::ProjectId, url: Option<&str>) {
    let change = ProjectChange { app_url: Some(url.map(str::to_owned)), ..ProjectChange::default() };
    app.admin.projects.update(project, change, Actor::Cli).await.expect("app URL accepted");
}

#[tokio::test]
async fn outcome_pages_link_back_to_the_project_app_url_and_nowhere_else() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(Some(&smtp.url()));
    let app_url = "https://acme.example/app?from=reset&x=1";
    set_app_url(&app, app.project, Some(app_url)).await;
    let back = Some((app_url.to_owned(), "Back to Test project".to_owned()));
    let user_id = app.sign_up("back@example.com").await["user"]["id"].as_str().unwrap().to_owned();

    // Verification (before the reset, which verifies the address too): done links back.
    let (s, _) = app.post("/auth/send-verification-email", json!({ "userId": user_id })).await;
    assert_eq!(s, StatusCode::OK);
    let link = link_in(&smtp.wait_for(1, WAIT).await[0].data);
    let (_, csrf) = open(&app, &link).await;
    let r = app
        .http
        .post(page_url(&app, "verify-email-link"))
        .header("cookie", format!("latchkey_csrf={csrf}"))
        .form(&[("token", token_of(&link)), ("csrf", csrf.clone())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("Email verified"));
    assert_eq!(back_link(&html), back);

    // The form itself has no way out (open() checks that it names no external URL).
    let link = reset_link(&app, &smtp, "back@example.com", 2).await;
    let (_, csrf) = open(&app, &link).await;
    let url = page_url(&app, "reset-password-page");
    let form = [
        ("token", token_of(&link)),
        ("csrf", csrf.clone()),
        ("password", "n3w-S3cret!".into()),
        ("confirm", "n3w-S3cret!".into()),
    ];
    // Refused (no cookie), done, already used: each outcome links back.
    let r = app.http.post(&url).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(back_link(&r.text().await.unwrap()), back);
    let post = || app.http.post(&url).header("cookie", format!("latchkey_csrf={csrf}")).form(&form).send();
    let r = post().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("Password changed"));
    assert_eq!(back_link(&html), back, "{html}");
    let r = post().await.unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    assert_eq!(back_link(&r.text().await.unwrap()), back);

    // Expired and invalid links; the request cannot choose where the link goes.
    let expiring = reset_link(&app, &smtp, "back@example.com", 3).await;
    app.advance(3601);
    let r = app.http.get(&expiring).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    assert_eq!(back_link(&r.text().await.unwrap()), back);
    let sneaky =
        format!("{url}?token=nope&app_url=https://evil.example/&appUrl=https://evil.example/&next=//evil.example");
    let r = app.http.get(&sneaky).header("referer", "https://evil.example/").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let html = r.text().await.unwrap();
    assert_eq!(back_link(&html), back);
    assert!(!html.contains("evil"), "{html}");

    // Another project's pages, an unknown project's, and this one's once cleared: no link.
    let (other, _) = app.another_project().await;
    for page in [
        app.url(other, "/auth/reset-password-page?token=nope"),
        format!("{}/v7/{}/auth/reset-password-page?token=nope", app.addr, uuid::Uuid::now_v7()),
    ] {
        let html = app.http.get(&page).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Invalid link") && back_link(&html).is_none(), "{html}");
    }
    set_app_url(&app, app.project, None).await;
    let html = app.http.get(format!("{url}?token=nope")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Invalid link") && back_link(&html).is_none(), "{html}");
}

#[tokio::test]
async fn the_app_link_is_escaped_and_its_project_name_too() {
    let app = TestApp::spawn().await;
    // The URL parser percent-encodes what could end the attribute; the name is escaped.
    set_app_url(&app, app.project, Some(r#"https://acme.example/?q="><script>alert(1)</script>'"#)).await;
    app.admin.projects.rename(app.project, r#"Acme "<b>Shop</b>""#, Actor::Cli).await.unwrap();
    let html = app.http.get(page_url(&app, "reset-password-page")).send().await.unwrap().text().await.unwrap();
    let (href, text) = back_link(&html).expect("a link");
    assert_eq!(href, "https://acme.example/?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E%27");
    assert_eq!(text, r#"Back to Acme "<b>Shop</b>""#);
    assert!(!html.contains("<script") && !html.contains("<b>"), "{html}");
}

/// A directory of page template overrides: one for every project, one for `project` only.
fn override_dir(project: latchkey_core::domain::ProjectId) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("outcome.html"),
        r#"<!doctype html><title>{{ title }}</title><style nonce="{{ nonce }}">h1 { color: teal; }</style>
<main data-outcome="{{ outcome }}"><h1 id="custom-outcome">{{ heading }} ({{ purpose }})</h1><p>{{ message }}</p>
{% if app_url %}<a id="back" href="{{ app_url }}">Return to {{ project_name }}</a>{% endif %}</main>"#,
    )
    .unwrap();
    let own = dir.path().join(project.to_string());
    std::fs::create_dir(&own).unwrap();
    std::fs::write(
        own.join("reset_form.html"),
        r#"{% extends "base.html" %}{% block content %}<h1 id="custom-form">{{ project_name }}: pick a password</h1>
{% if error %}<p id="error">{{ error }}</p>{% endif %}
<form method="post" action="reset-password-page">
<input type="hidden" name="token" value="{{ token }}"><input type="hidden" name="csrf" value="{{ csrf }}">
<input type="password" name="password" minlength="{{ min_password_chars }}">
<input type="password" name="confirm"><button>Save</button></form>{% endblock %}"#,
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn overridden_templates_are_served_for_their_projects_with_the_nonce_and_csrf_working() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn().await;
    let _worker = app.start_worker(Some(&smtp.url()));
    let (other, other_key) = app.another_project().await;
    set_app_url(&app, app.project, Some("https://acme.example/")).await;
    let dir = override_dir(app.project);
    let node = app
        .another_node(ServeSettings { page_templates_dir: Some(dir.path().to_owned()), ..Default::default() })
        .await
        .expect("the overrides pass the start-up check");
    // The mail links name the first node; the same path on the second.
    let on_node = |link: &str| link.replacen(&app.addr, &node, 1);

    // This project: its own form (with the shared layout), and the shared outcome page.
    app.sign_up("own@example.com").await;
    let link = on_node(&reset_link(&app, &smtp, "own@example.com", 1).await);
    let r = app.http.get(&link).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_page_headers(r.headers());
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let cookie = r.headers()[SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"<h1 id="custom-form">Test project: pick a password</h1>"#), "{html}");
    let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap();
    assert!(html.contains(&format!(r#"<style nonce="{nonce}">"#)), "the layout's style carries this page's nonce");
    let csrf = cookie.split_once('=').unwrap().1.to_owned();
    assert!(html.contains(&format!(r#"name="csrf" value="{csrf}""#)), "{html}");
    let url = format!("{node}/v7/{}/auth/reset-password-page", app.project);
    let form = [
        ("token", token_of(&link)),
        ("csrf", csrf.clone()),
        ("password", "n3w-S3cret!".into()),
        ("confirm", "n3w-S3cret!".into()),
    ];
    let r = app.http.post(&url).header("cookie", &cookie).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the overridden form submits");
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"<h1 id="custom-outcome">Password changed (password-reset)</h1>"#), "{html}");
    let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap();
    assert!(html.contains(&format!(r#"<style nonce="{nonce}">"#)), "{html}");
    assert!(html.contains(r#"<a id="back" href="https:&#x2f;&#x2f;acme.example&#x2f;">Return to Test project</a>"#));
    let (s, _) = app.post("/auth/sign-in", json!({ "email": "own@example.com", "password": "n3w-S3cret!" })).await;
    assert_eq!(s, StatusCode::OK, "the password was changed");

    // The other project: the built-in form, the shared outcome page.
    let (s, _) = app
        .post_as(other, &other_key, "/auth/sign-up", json!({ "email": "o@example.com", "password": "s3cur3P@ss" }))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) =
        app.post_as(other, &other_key, "/auth/request-password-reset", json!({ "email": "o@example.com" })).await;
    assert_eq!(s, StatusCode::OK);
    let link = on_node(&link_in(&smtp.wait_for(2, WAIT).await[1].data));
    let html = app.http.get(&link).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Choose a new password") && !html.contains("custom-form"), "{html}");
    let html =
        app.http.get(format!("{node}/v7/{other}/auth/verify-email-link")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(r#"<h1 id="custom-outcome">Invalid link (verify-email)</h1>"#), "{html}");
    assert!(!html.contains(r#"id="back""#), "no app URL for that project");

    // The first node, started without the directory, still serves the built-ins.
    let html = app.http.get(format!("{}?token=nope", page_url(&app, "reset-password-page"))).send().await.unwrap();
    assert!(!html.text().await.unwrap().contains("custom-outcome"));
}

#[tokio::test]
async fn a_broken_page_template_stops_start_up_naming_the_file() {
    let app = TestApp::spawn().await;
    let start = |dir: &std::path::Path| {
        app.another_node(ServeSettings { page_templates_dir: Some(dir.to_owned()), ..Default::default() })
    };
    let dir = override_dir(app.project);
    let own = dir.path().join(app.project.to_string()).join("reset_form.html");
    std::fs::write(&own, "{% extends \"base.html\" %}{% block content %}{% if error %}{{ error }}{% endblock %}")
        .unwrap();
    let message = format!("{:#}", start(dir.path()).await.expect_err("a syntax error stops start-up"));
    assert!(message.contains("LATCHKEY_PAGE_TEMPLATES") && message.contains(&own.display().to_string()), "{message}");
    assert!(message.contains("syntax error") || message.contains("unexpected"), "{message}");

    // A misspelt file name would never be used: refused too, and so is a form without its CSRF field.
    let dir = override_dir(app.project);
    std::fs::write(dir.path().join("outcome-page.html"), "never used").unwrap();
    let message = format!("{:#}", start(dir.path()).await.expect_err("an unknown template name stops start-up"));
    assert!(message.contains("outcome-page.html"), "{message}");
    let dir = override_dir(app.project);
    let own = dir.path().join(app.project.to_string()).join("reset_form.html");
    std::fs::write(&own, r#"<form method="post"><input name="token" value="{{ token }}"><button>Go</button></form>"#)
        .unwrap();
    let message = format!("{:#}", start(dir.path()).await.expect_err("a form without its CSRF field"));
    assert!(message.contains(&own.display().to_string()) && message.contains("csrf"), "{message}");
    let missing = app.dir.path().join("no-such-dir");
    let message = format!("{:#}", start(&missing).await.expect_err("a missing directory"));
    assert!(message.contains("LATCHKEY_PAGE_TEMPLATES must be an existing directory"), "{message}");
}
