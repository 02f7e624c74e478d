//! Shared state and the router. No globals: tests build as many isolated apps as they like.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{HeaderName, HeaderValue, header};
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use latchkey_core::auth::Services;
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, OnResponse, TraceLayer};
use tracing::Level;

use crate::error::ApiError;
use crate::metrics::{Exposition, Metrics};
use crate::request_id::RequestId;
use crate::routes::pages::PageTemplates;
use crate::{openapi, routes};

#[derive(Clone)]
pub struct AppState {
    /// Every service, built once by `serve::Application::build`.
    pub services: Arc<Services>,
    /// The hosted pages' templates, loaded and checked at start-up.
    pub pages: Arc<PageTemplates>,
}

impl AppState {
    /// `services` with the built-in page templates.
    pub fn new(services: Arc<Services>) -> Self {
        Self { services, pages: Arc::new(PageTemplates::built_in()) }
    }
}

/// Default request body limit (API.md: 64 KiB).
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// How the router is assembled beyond its state.
#[derive(Clone)]
pub struct RouterOptions {
    pub body_limit: usize,
    /// Record request metrics into this recorder (None: no metrics at all).
    pub metrics: Option<Arc<Metrics>>,
    /// Serve `GET /metrics` on this router (false when metrics are off or served on a
    /// separate listener).
    pub expose_metrics: bool,
}

/// The full API with metrics recorded and exposed at `/metrics` (the `serve` default).
pub fn router(state: AppState, body_limit: usize) -> Router {
    router_with(state, RouterOptions { body_limit, metrics: Some(Metrics::new()), expose_metrics: true })
}

pub fn router_with(state: AppState, options: RouterOptions) -> Router {
    let health = state.services.health.clone();
    let mut app = Router::new()
        .merge(routes::health::router())
        .merge(routes::service::router())
        .route("/openapi.json", get(openapi::serve_document))
        .nest("/v7/{project_id}", routes::project_router())
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "route/method-not-allowed",
                "method not allowed for this route",
            )
        })
        .with_state(state);
    if let (Some(metrics), true) = (&options.metrics, options.expose_metrics) {
        app = app.merge(crate::metrics::router(Exposition { metrics: Arc::clone(metrics), health }));
    }
    let app = app
        .layer(DefaultBodyLimit::max(options.body_limit))
        .layer(
            // The access log: one INFO line per request when its response is sent, in a span
            // that every log line of the request shares. The route is axum's template, never
            // the raw path or the query string (email links carry tokens there). The same span
            // is the request's trace span when traces are exported (`telemetry.rs`).
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
                    let id = request.extensions().get::<RequestId>().map_or("", |id| &*id.0);
                    tracing::info_span!(
                        crate::telemetry::REQUEST_SPAN,
                        method = %request.method(),
                        route = %route,
                        request_id = %id,
                        status = tracing::field::Empty,
                    )
                })
                .on_request(())
                .on_response(|response: &axum::http::Response<_>, latency, span: &tracing::Span| {
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Micros)
                        .on_response(response, latency, span);
                    // After the log line (which has the status already): for the trace span.
                    // (An i64: the trace layer would turn an unsigned value into text.)
                    if crate::telemetry::exporting() {
                        span.record("status", i64::from(response.status().as_u16()));
                    }
                })
                .on_failure(()),
        )
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("handler panicked");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "server/internal", "internal server error").into_response()
        }));
    // Outermost, so a panic answered 500 is counted too. `Router::layer` wraps each route
    // after routing, so `MatchedPath` (the route template) is known here.
    let app = match options.metrics {
        Some(metrics) => app.layer(axum::middleware::from_fn_with_state(metrics, crate::metrics::track)),
        None => app,
    };
    // Outermost: every response, errors and panics included, carries the request's id.
    app.layer(axum::middleware::from_fn(crate::request_id::layer))
}

/// The hosted HTML pages' fixed security headers: no framing, no referrer, no caching, no
/// content sniffing, no shared opener. (Each page adds its own nonce-bearing
/// Content-Security-Policy.)
pub fn with_page_headers(pages: Router<AppState>) -> Router<AppState> {
    let fixed: [(HeaderName, &'static str); 5] = [
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ];
    fixed.into_iter().fold(pages, |pages, (name, value)| {
        pages.layer(SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value)))
    })
}
