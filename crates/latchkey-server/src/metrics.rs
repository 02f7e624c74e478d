//! Prometheus metrics, served as text at `GET /metrics`.
//!
//! Labels are bounded and carry nothing secret: requests are labelled by method, the route
//! *template* axum matched (`/v7/{project_id}/auth/sign-in`, never the raw URI, so project ids
//! and query-string tokens never become labels) and the status class (`2xx` … `5xx`).
//! Unmatched paths share the route label `unmatched`.
//!
//! Each [`Metrics`] owns its own recorder (no global recorder), so tests can run many apps in
//! one process. Pool gauges are read from the hashing pool when `/metrics` is scraped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use latchkey_core::auth::Health;
use latchkey_core::mail::{DeliveryObserver, MailOutcome};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

pub const REQUESTS: &str = "latchkey_http_requests_total";
pub const DURATION: &str = "latchkey_http_request_duration_seconds";
pub const HASH_QUEUE: &str = "latchkey_hash_queue_depth";
pub const HASH_REJECTED: &str = "latchkey_hash_rejected_total";
pub const MAIL: &str = "latchkey_mail_deliveries_total";

/// Latency buckets (seconds): argon2 sign-ins sit around 20-100 ms, refreshes well under.
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let builder = PrometheusBuilder::new();
        // Only fails for an empty bucket list; fall back to summaries rather than no metrics.
        let builder = match builder.set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), BUCKETS) {
            Ok(b) => b,
            Err(_) => PrometheusBuilder::new(),
        };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let metrics = Self { recorder, handle };
        metrics.describe();
        Arc::new(metrics)
    }

    fn describe(&self) {
        metrics::with_local_recorder(&self.recorder, || {
            metrics::describe_counter!(REQUESTS, "HTTP requests by method, route template and status class");
            metrics::describe_histogram!(
                DURATION,
                metrics::Unit::Seconds,
                "HTTP request latency by method, route template and status class"
            );
            metrics::describe_gauge!(HASH_QUEUE, "Password-hashing jobs waiting for a thread");
            metrics::describe_counter!(
                HASH_REJECTED,
                "Password-hashing jobs refused because the queue was full (503 server/busy)"
            );
            metrics::describe_counter!(MAIL, "Outbox rows handled by the mail worker, by outcome");
        });
    }

    pub fn record_request(&self, method: &str, route: &str, status: StatusCode, elapsed: Duration) {
        let labels =
            [("method", method.to_owned()), ("route", route.to_owned()), ("status", status_class(status).to_owned())];
        metrics::with_local_recorder(&self.recorder, || {
            metrics::counter!(REQUESTS, &labels).increment(1);
            metrics::histogram!(DURATION, &labels).record(elapsed.as_secs_f64());
        });
    }

    pub fn record_mail(&self, outcome: MailOutcome) {
        metrics::with_local_recorder(&self.recorder, || {
            metrics::counter!(MAIL, "outcome" => outcome.as_str()).increment(1);
        });
    }

    /// The Prometheus text exposition, with the hashing pool read now.
    pub fn render(&self, health: &Health) -> String {
        let pool = health.hasher_stats();
        metrics::with_local_recorder(&self.recorder, || {
            metrics::gauge!(HASH_QUEUE).set(pool.queued as f64);
            metrics::counter!(HASH_REJECTED).absolute(pool.rejected);
        });
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// The outbox worker reports each handled row here.
impl DeliveryObserver for Metrics {
    fn delivered(&self, outcome: MailOutcome) {
        self.record_mail(outcome);
    }
}

fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Middleware: counts and times every request by its route template.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let response = next.run(request).await;
    metrics.record_request(&method, &route, response.status(), started.elapsed());
    response
}

/// `GET /metrics` handler state: the recorder and the service that reports the pool's load.
#[derive(Clone)]
pub struct Exposition {
    pub metrics: Arc<Metrics>,
    pub health: Health,
}

pub async fn serve_metrics(State(exposition): State<Exposition>) -> Response {
    let body = exposition.metrics.render(&exposition.health);
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A router serving only `GET /metrics`, for a separate listener (`LATCHKEY_METRICS_BIND`).
pub fn router(exposition: Exposition) -> axum::Router {
    axum::Router::new().route("/metrics", axum::routing::get(serve_metrics)).with_state(exposition)
}
