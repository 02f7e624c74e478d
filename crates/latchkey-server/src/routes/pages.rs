//! Hosted pages for email links (no API key: a person clicks them):
//! `GET/POST {base}/auth/reset-password-page` and `GET/POST {base}/auth/verify-email-link`.
//!
//! A GET only looks at the token (mail scanners prefetch links); the form's POST consumes it.
//! Pages are server-rendered HTML with inline CSS allowed by a per-response nonce, no script,
//! no third-party request. The POST is protected by a double-submit token (an HttpOnly,
//! SameSite=Strict cookie that must equal the form field) plus an Origin check.
//! Outcome pages link back to the project's app URL when it has one (a project setting, never
//! anything from the request). The templates may be overridden from a directory (`templates.rs`).

mod templates;

use std::sync::Arc;

use axum::Form;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use latchkey_core::CoreError;
use latchkey_core::auth::LinkStatus;
use latchkey_core::crypto::random_token;
use latchkey_core::domain::{LinkPurpose, Password, ProjectId, ProjectSettings};
use minijinja::{Value, context};
use serde::Deserialize;
use subtle::ConstantTimeEq;

pub use self::templates::{PageTemplateError, PageTemplates};
use crate::app::AppState;

pub fn router() -> Router<AppState> {
    let pages = Router::new()
        .route("/reset-password-page", get(reset_page).post(reset_submit))
        .route("/verify-email-link", get(verify_page).post(verify_submit));
    crate::app::with_page_headers(pages)
}

const CSRF_COOKIE: &str = "latchkey_csrf";

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
struct ResetForm {
    token: String,
    csrf: String,
    password: String,
    confirm: String,
}

#[derive(Deserialize)]
struct VerifyForm {
    token: String,
    csrf: String,
}

/// A page being answered: the project's display name and app URL, the flow, the templates.
struct Page {
    project: Option<ProjectId>,
    project_name: String,
    /// The project's setting, checked again here: only ever a URL `ProjectSettings::app_url`
    /// accepts reaches a page.
    app_url: Option<String>,
    purpose: LinkPurpose,
    secure_cookie: bool,
    templates: Arc<PageTemplates>,
}

impl Page {
    async fn load(state: &AppState, raw: &str, purpose: LinkPurpose) -> Self {
        let project = raw.parse::<ProjectId>().ok();
        let context = match project {
            Some(id) => state.services.projects.context(id).await.ok(),
            None => None,
        };
        let app_url = context.as_ref().and_then(|c| c.project.settings.app_url.as_deref());
        Self {
            project: project.filter(|_| context.is_some()),
            project_name: context.as_ref().map_or_else(|| "Latchkey".to_owned(), |c| c.project.name.clone()),
            app_url: app_url.and_then(|url| ProjectSettings::app_url(url).ok()),
            purpose,
            secure_cookie: state.services.policy().issuer.starts_with("https://"),
            templates: Arc::clone(&state.pages),
        }
    }

    /// Renders `template` with the variables every page gets (docs/EMAIL.md lists them) and
    /// `extra`.
    fn render(&self, status: StatusCode, template: &str, extra: Value, set_csrf: Option<&str>) -> Response {
        let nonce = random_token(16);
        let purpose = match self.purpose {
            LinkPurpose::PasswordReset => "password-reset",
            LinkPurpose::VerifyEmail => "verify-email",
        };
        let ctx = context! {
            project_name => self.project_name.clone(), nonce => nonce.clone(), purpose,
            app_url => self.app_url.clone(), min_password_chars => Password::MIN_CHARS, ..extra
        };
        let body = self.templates.render(self.project, template, ctx);
        let (status, body) = match body {
            Ok(html) => (status, html),
            Err(e) => {
                tracing::error!(error = %e, template, "page rendering failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "<!doctype html><title>Error</title><p>Something went wrong.</p>".into(),
                )
            }
        };
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        let csp = format!(
            "default-src 'none'; style-src 'nonce-{nonce}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        );
        // The fixed security headers come from `app::with_page_headers`; the policy carries
        // this page's nonce.
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        if let Ok(value) = HeaderValue::from_str(&csp) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
        if let (Some(csrf), Some(project)) = (set_csrf, self.project) {
            let cookie = Cookie::build((CSRF_COOKIE, csrf))
                .path(format!("/v7/{project}/auth/"))
                .max_age(cookie::time::Duration::hours(1))
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(self.secure_cookie);
            if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
                headers.append(header::SET_COOKIE, value);
            }
        }
        response
    }

    /// An outcome page (the built-in one links back to the project's app URL, if set).
    fn outcome(&self, status: StatusCode, outcome: &str, tone: &str, heading: &str, message: &str) -> Response {
        let extra = context! { title => heading, heading, message, tone, outcome };
        self.render(status, "outcome.html", extra, None)
    }

    /// The page for a token that cannot be used (or no token at all).
    fn unusable(&self, purpose: LinkPurpose, status: LinkStatus) -> Response {
        let again = match purpose {
            LinkPurpose::PasswordReset => "Request a new password reset link to try again.",
            LinkPurpose::VerifyEmail => "Ask for a new verification email to try again.",
        };
        let used = match purpose {
            LinkPurpose::PasswordReset => "This link has already been used to reset your password.",
            LinkPurpose::VerifyEmail => "This link has already been used; your email address is verified.",
        };
        match status {
            LinkStatus::Used => self.outcome(StatusCode::GONE, "used", "bad", "Link already used", used),
            LinkStatus::Expired => self.outcome(
                StatusCode::GONE,
                "expired",
                "bad",
                "Link expired",
                &format!("This link has expired. {again}"),
            ),
            LinkStatus::Superseded => self.outcome(
                StatusCode::GONE,
                "superseded",
                "bad",
                "Link replaced",
                &format!("A newer link was sent after this one, so this one no longer works. {again}"),
            ),
            LinkStatus::Invalid | LinkStatus::Valid { .. } => self.outcome(
                StatusCode::NOT_FOUND,
                "invalid",
                "bad",
                "Invalid link",
                &format!("This link is not valid. Check that you copied it completely. {again}"),
            ),
        }
    }

    fn form(&self, purpose: LinkPurpose, token: &str, expires_at: String, csrf: &str, error: Option<&str>) -> Response {
        let (template, title) = match purpose {
            LinkPurpose::PasswordReset => ("reset_form.html", "Choose a new password"),
            LinkPurpose::VerifyEmail => ("verify_form.html", "Confirm your email address"),
        };
        let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
        let extra = context! { title, token, csrf, expires_at, error, tone => "form", outcome => "form" };
        self.render(status, template, extra, Some(csrf))
    }

    fn forbidden(&self) -> Response {
        self.outcome(
            StatusCode::FORBIDDEN,
            "forbidden",
            "bad",
            "Please try again",
            "This form could not be verified (it may have been open too long or come from another site). \
             Open the link from your email again.",
        )
    }
}

async fn reset_page(
    State(state): State<AppState>,
    Path(project): Path<String>,
    Query(q): Query<TokenQuery>,
    cookies: CookieJar,
) -> Response {
    show(&state, &project, LinkPurpose::PasswordReset, q.token.as_deref(), &cookies).await
}

async fn verify_page(
    State(state): State<AppState>,
    Path(project): Path<String>,
    Query(q): Query<TokenQuery>,
    cookies: CookieJar,
) -> Response {
    show(&state, &project, LinkPurpose::VerifyEmail, q.token.as_deref(), &cookies).await
}

/// The CSRF value for a new form: the browser's current one when it has one, so a second tab
/// (or a reload) does not replace the cookie the first tab's form was issued against.
fn csrf_for_form(cookies: &CookieJar) -> String {
    match cookies.get(CSRF_COOKIE).map(Cookie::value) {
        Some(existing) if is_csrf_value(existing) => existing.to_owned(),
        _ => random_token(32),
    }
}

/// What `random_token(32)` produces: 43 URL-safe base64 characters (a cookie someone planted
/// with another shape is replaced, not reused).
fn is_csrf_value(value: &str) -> bool {
    value.len() == 43 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// GET: look, never consume.
async fn show(
    state: &AppState,
    raw_project: &str,
    purpose: LinkPurpose,
    token: Option<&str>,
    cookies: &CookieJar,
) -> Response {
    let page = Page::load(state, raw_project, purpose).await;
    let (Some(project), Some(token)) = (page.project, token) else {
        return page.unusable(purpose, LinkStatus::Invalid);
    };
    match state.services.email_links.link_status(project, purpose, token).await {
        Ok(LinkStatus::Valid { expires_at }) => {
            page.form(purpose, token, format_time(expires_at), &csrf_for_form(cookies), None)
        }
        Ok(other) => page.unusable(purpose, other),
        Err(e) => server_error(&page, &e),
    }
}

async fn reset_submit(
    State(state): State<AppState>,
    Path(project): Path<String>,
    headers: HeaderMap,
    cookies: CookieJar,
    form: Result<Form<ResetForm>, FormRejection>,
) -> Response {
    let page = Page::load(&state, &project, LinkPurpose::PasswordReset).await;
    let (Some(project), Ok(Form(form))) = (page.project, form) else {
        return page.unusable(LinkPurpose::PasswordReset, LinkStatus::Invalid);
    };
    if !csrf_ok(&headers, &cookies, &form.csrf, &state.services.policy().issuer) {
        return page.forbidden();
    }
    let purpose = LinkPurpose::PasswordReset;
    if form.password != form.confirm {
        return retry_reset(&state, &page, project, &form, "The two passwords do not match.").await;
    }
    match state.services.email_links.reset_password(project, &form.token, form.password.clone()).await {
        Ok(()) => page.outcome(
            StatusCode::OK,
            "done",
            "ok",
            "Password changed",
            "Your password has been changed and every device was signed out. You can now sign in with your new password.",
        ),
        Err(CoreError::InvalidResetToken) => match state.services.email_links.link_status(project, purpose, &form.token).await {
            Ok(status) => page.unusable(purpose, status),
            Err(e) => server_error(&page, &e),
        },
        // Written for the person at the page, not the developer's field-level message.
        Err(CoreError::WeakPassword(_)) => {
            let message = format!(
                "Please choose a stronger password: at least {} characters, not one character repeated.",
                Password::MIN_CHARS
            );
            retry_reset(&state, &page, project, &form, &message).await
        }
        Err(CoreError::InvalidInput { .. }) => {
            retry_reset(&state, &page, project, &form, "That password is too long. Please choose a shorter one.").await
        }
        Err(CoreError::Busy) => {
            retry_reset(&state, &page, project, &form, "The server is busy. Please try again in a moment.").await
        }
        Err(e) => server_error(&page, &e),
    }
}

/// Shows the reset form again with `message`, if the token still allows it.
async fn retry_reset(state: &AppState, page: &Page, project: ProjectId, form: &ResetForm, message: &str) -> Response {
    let purpose = LinkPurpose::PasswordReset;
    match state.services.email_links.link_status(project, purpose, &form.token).await {
        Ok(LinkStatus::Valid { expires_at }) => {
            page.form(purpose, &form.token, format_time(expires_at), &form.csrf, Some(message))
        }
        Ok(other) => page.unusable(purpose, other),
        Err(e) => server_error(page, &e),
    }
}

async fn verify_submit(
    State(state): State<AppState>,
    Path(project): Path<String>,
    headers: HeaderMap,
    cookies: CookieJar,
    form: Result<Form<VerifyForm>, FormRejection>,
) -> Response {
    let page = Page::load(&state, &project, LinkPurpose::VerifyEmail).await;
    let (Some(project), Ok(Form(form))) = (page.project, form) else {
        return page.unusable(LinkPurpose::VerifyEmail, LinkStatus::Invalid);
    };
    if !csrf_ok(&headers, &cookies, &form.csrf, &state.services.policy().issuer) {
        return page.forbidden();
    }
    match state.services.email_links.verify_email(project, &form.token).await {
        Ok(()) => {
            page.outcome(StatusCode::OK, "done", "ok", "Email verified", "Thank you: your email address is confirmed.")
        }
        Err(CoreError::InvalidOrExpiredToken) => {
            match state.services.email_links.link_status(project, LinkPurpose::VerifyEmail, &form.token).await {
                Ok(status) => page.unusable(LinkPurpose::VerifyEmail, status),
                Err(e) => server_error(&page, &e),
            }
        }
        Err(e) => server_error(&page, &e),
    }
}

fn server_error(page: &Page, error: &CoreError) -> Response {
    tracing::error!(%error, "hosted page failed");
    page.outcome(
        StatusCode::SERVICE_UNAVAILABLE,
        "error",
        "bad",
        "Something went wrong",
        "The service could not complete this step. Please try again in a moment.",
    )
}

/// Double submit: the form's token must equal the cookie set with the form. The cookie is
/// SameSite=Strict, so another site cannot make the browser send it. An `Origin` naming
/// another host is refused outright (`null`, sent under `no-referrer`, is left to the cookie).
/// The Origin may name the public URL (behind a proxy that rewrites `Host`) or the `Host`.
fn csrf_ok(headers: &HeaderMap, cookies: &CookieJar, field: &str, public_url: &str) -> bool {
    if let Some(origin) = header_str(headers, header::ORIGIN)
        && origin != "null"
    {
        let same_as_public = url::Url::parse(public_url).is_ok_and(|u| u.origin().ascii_serialization() == origin);
        let same_as_host = header_str(headers, header::HOST)
            .is_some_and(|host| origin.split_once("://").map(|(_, rest)| rest) == Some(host));
        if !same_as_public && !same_as_host {
            return false;
        }
    }
    match cookies.get(CSRF_COOKIE).map(Cookie::value) {
        Some(cookie) if cookie.len() >= 32 => cookie.as_bytes().ct_eq(field.as_bytes()).into(),
        _ => false,
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn format_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}
