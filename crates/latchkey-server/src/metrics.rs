//! Prometheus metrics, served as text at `GET /metrics`.
//!
//! Labels are bounded and carry nothing secret: requests are labelled by method, the route
//! *template* axum matched (`/v7/{project_id}/auth/sign-in`, never the raw URI, so project ids
//! and query-string tokens never become labels) and the status class (`2xx` … `5xx`).
//! Unmatched paths share the route label `unmatched`.
//!
//! Auth outcomes are counted as the core services decide them ([`AuthObserver`]), by outcome
//! only: never by project, user or address.
//!
//! Each [`Metrics`] owns its own recorder (no global recorder), so tests can run many apps in
//! one process. Gauges of the hashing pool, the database connection pools and the process are
//! read when `/metrics` is scraped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use latchkey_core::auth::{AuthObserver, AuthOutcome, Health};
use latchkey_core::mail::{DeliveryObserver, MailOutcome};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

pub const REQUESTS: &str = "latchkey_http_requests_total";
pub const DURATION: &str = "latchkey_http_request_duration_seconds";
pub const HASH_QUEUE: &str = "latchkey_hash_queue_depth";
pub const HASH_REJECTED: &str = "latchkey_hash_rejected_total";
pub const HASH_THREADS: &str = "latchkey_hash_threads";
pub const HASH_BUSY: &str = "latchkey_hash_busy_threads";
pub const HASH_JOBS: &str = "latchkey_hash_jobs_total";
pub const MAIL: &str = "latchkey_mail_deliveries_total";
pub const SIGN_UPS: &str = "latchkey_auth_sign_ups_total";
pub const SIGN_INS: &str = "latchkey_auth_sign_ins_total";
pub const REFRESHES: &str = "latchkey_auth_refreshes_total";
pub const DB_OPEN: &str = "latchkey_db_pool_open_connections";
pub const DB_IDLE: &str = "latchkey_db_pool_idle_connections";
pub const DB_IN_USE: &str = "latchkey_db_pool_in_use_connections";
pub const DB_MAX: &str = "latchkey_db_pool_max_connections";
// The process, under the names Prometheus's own client libraries use.
pub const PROCESS_CPU: &str = "process_cpu_seconds_total";
pub const PROCESS_RSS: &str = "process_resident_memory_bytes";
pub const PROCESS_VSIZE: &str = "process_virtual_memory_bytes";
pub const PROCESS_THREADS: &str = "process_threads";
pub const PROCESS_OPEN_FDS: &str = "process_open_fds";
pub const PROCESS_MAX_FDS: &str = "process_max_fds";
pub const PROCESS_START: &str = "process_start_time_seconds";

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
            metrics::describe_gauge!(HASH_THREADS, "Password-hashing threads");
            metrics::describe_gauge!(HASH_BUSY, "Password-hashing threads hashing or verifying now");
            metrics::describe_counter!(HASH_JOBS, "Password hashes and verifications finished");
            metrics::describe_counter!(MAIL, "Outbox rows handled by the mail worker, by outcome");
            metrics::describe_counter!(SIGN_UPS, "Sign-ups by outcome: created, duplicate (email or username taken)");
            metrics::describe_counter!(
                SIGN_INS,
                "Password sign-ins by outcome: success, failure (unknown email or wrong password), \
                 locked (too many failures), denied (account disabled or suspended)"
            );
            metrics::describe_counter!(
                REFRESHES,
                "Refresh-token exchanges by outcome: rotated, grace (previous token replayed in the grace \
                 window), reuse_detected (session revoked)"
            );
            metrics::describe_gauge!(DB_OPEN, "Database connections open (idle or in use), by pool");
            metrics::describe_gauge!(DB_IDLE, "Database connections open and idle, by pool");
            metrics::describe_gauge!(DB_IN_USE, "Database connections in use, by pool");
            metrics::describe_gauge!(DB_MAX, "Most database connections the pool opens, by pool");
            metrics::describe_gauge!(PROCESS_CPU, metrics::Unit::Seconds, "User and system CPU time spent");
            metrics::describe_gauge!(PROCESS_RSS, metrics::Unit::Bytes, "Resident memory size");
            metrics::describe_gauge!(PROCESS_VSIZE, metrics::Unit::Bytes, "Virtual memory size");
            metrics::describe_gauge!(PROCESS_THREADS, "OS threads of the process");
            metrics::describe_gauge!(PROCESS_OPEN_FDS, "Open file descriptors");
            metrics::describe_gauge!(PROCESS_MAX_FDS, "The open-file limit (soft)");
            metrics::describe_gauge!(PROCESS_START, metrics::Unit::Seconds, "Start time of the process (Unix time)");
            // Every outcome from zero, so a rate over a quiet series is 0, not absent.
            for outcome in AuthOutcome::ALL {
                metrics::counter!(auth_metric(outcome), "outcome" => outcome.as_str()).absolute(0);
            }
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

    pub fn record_auth(&self, outcome: AuthOutcome) {
        metrics::with_local_recorder(&self.recorder, || {
            metrics::counter!(auth_metric(outcome), "outcome" => outcome.as_str()).increment(1);
        });
    }

    /// The Prometheus text exposition, with the pools and the process read now.
    pub fn render(&self, health: &Health) -> String {
        let hashing = health.hasher_stats();
        let databases = health.connection_pools();
        let process = crate::process_stats::read();
        metrics::with_local_recorder(&self.recorder, || {
            metrics::gauge!(HASH_QUEUE).set(hashing.queued as f64);
            metrics::counter!(HASH_REJECTED).absolute(hashing.rejected);
            metrics::gauge!(HASH_THREADS).set(hashing.threads as f64);
            metrics::gauge!(HASH_BUSY).set(hashing.busy as f64);
            metrics::counter!(HASH_JOBS).absolute(hashing.completed);
            for pool in &databases {
                let label = [("pool", pool.pool)];
                metrics::gauge!(DB_OPEN, &label).set(f64::from(pool.open));
                metrics::gauge!(DB_IDLE, &label).set(f64::from(pool.idle));
                metrics::gauge!(DB_IN_USE, &label).set(f64::from(pool.open.saturating_sub(pool.idle)));
                metrics::gauge!(DB_MAX, &label).set(f64::from(pool.max));
            }
            if let Some(process) = process {
                // CPU seconds are fractional; the facade's counters hold integers.
                metrics::gauge!(PROCESS_CPU).set(process.cpu_seconds);
                metrics::gauge!(PROCESS_RSS).set(process.resident_memory_bytes as f64);
                metrics::gauge!(PROCESS_VSIZE).set(process.virtual_memory_bytes as f64);
                metrics::gauge!(PROCESS_THREADS).set(process.threads as f64);
                metrics::gauge!(PROCESS_OPEN_FDS).set(process.open_fds as f64);
                metrics::gauge!(PROCESS_MAX_FDS).set(process.max_fds as f64);
                metrics::gauge!(PROCESS_START).set(process.start_time_seconds);
            }
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

/// The core services report each sign-up, sign-in and refresh outcome here.
impl AuthObserver for Metrics {
    fn observed(&self, outcome: AuthOutcome) {
        self.record_auth(outcome);
    }
}

/// The counter of an outcome's flow.
fn auth_metric(outcome: AuthOutcome) -> &'static str {
    match outcome {
        AuthOutcome::SignUpCreated | AuthOutcome::SignUpDuplicate => SIGN_UPS,
        AuthOutcome::SignInSucceeded
        | AuthOutcome::SignInFailed
        | AuthOutcome::SignInLocked
        | AuthOutcome::SignInDenied => SIGN_INS,
        AuthOutcome::RefreshRotated | AuthOutcome::RefreshGrace | AuthOutcome::RefreshReuseDetected => REFRESHES,
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
