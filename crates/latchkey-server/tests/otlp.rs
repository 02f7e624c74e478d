//! OpenTelemetry traces over OTLP/HTTP, end to end: the real `latchkey serve`, with
//! `LATCHKEY_OTLP_ENDPOINT` pointing at a small OTLP receiver in this test (an axum server
//! accepting `POST /v1/traces` in protobuf, decoded with opentelemetry-proto's types).
//!
//! - Each request is a server span named by its route template, with method, status and
//!   request id, and child spans for password hashing and SQL statements; nothing exported
//!   holds an email, a password, a token, the API key or a query string.
//! - Spans still queued at SIGTERM are flushed before the process exits.
//! - A collector that never answers, or refuses connections, slows no request and fails none.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_latchkey");

// --- The receiver. ---

/// One post to the receiver: decoded, and its raw bytes (searched for secrets).
type Export = (ExportTraceServiceRequest, Vec<u8>);

/// What the receiver was sent, and any post it refused (wrong content type or body).
#[derive(Clone, Default)]
struct Collector {
    exports: Arc<Mutex<Vec<Export>>>,
    refused: Arc<Mutex<Vec<String>>>,
}

impl Collector {
    /// Listens on a loopback port; its base URL.
    async fn start() -> (String, Self) {
        let collector = Self::default();
        let app = axum::Router::new()
            .route("/v1/traces", axum::routing::post(receive))
            .fallback(|request: axum::extract::Request| async move {
                (StatusCode::NOT_FOUND, format!("{} {}", request.method(), request.uri()))
            })
            .with_state(collector.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the receiver");
        let addr = listener.local_addr().expect("receiver address");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("receiver") });
        (format!("http://{addr}"), collector)
    }

    /// Every span received so far, with its trace's resource attributes.
    fn spans(&self) -> Vec<(Vec<KeyValue>, Span)> {
        let exports = self.exports.lock().unwrap();
        let mut spans = Vec::new();
        for (export, _) in exports.iter() {
            for resource_spans in &export.resource_spans {
                let resource = resource_spans.resource.as_ref().map(|r| r.attributes.clone()).unwrap_or_default();
                for scope_spans in &resource_spans.scope_spans {
                    spans.extend(scope_spans.spans.iter().map(|span| (resource.clone(), span.clone())));
                }
            }
        }
        spans
    }

    /// Everything received, as bytes.
    fn raw(&self) -> Vec<u8> {
        self.exports.lock().unwrap().iter().flat_map(|(_, raw)| raw.clone()).collect()
    }

    /// Waits (up to 20 s) for the request span with this request id.
    async fn request_span(&self, request_id: &str) -> Span {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(span) = self.find_request(request_id) {
                return span;
            }
            assert!(Instant::now() < deadline, "no span with request_id {request_id}: {:#?}", self.names());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn find_request(&self, request_id: &str) -> Option<Span> {
        self.spans().into_iter().map(|(_, span)| span).find(|span| attribute(span, "request_id") == Some(request_id))
    }

    fn names(&self) -> Vec<String> {
        self.spans().into_iter().map(|(_, span)| span.name).collect()
    }
}

async fn receive(State(collector): State<Collector>, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if content_type != "application/x-protobuf" {
        collector.refused.lock().unwrap().push(format!("content type {content_type:?}"));
        return StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
    }
    match ExportTraceServiceRequest::decode(body.as_ref()) {
        Ok(export) => {
            collector.exports.lock().unwrap().push((export, body.to_vec()));
            let answer = ExportTraceServiceResponse::default().encode_to_vec();
            ([(header::CONTENT_TYPE, "application/x-protobuf")], answer).into_response()
        }
        Err(e) => {
            collector.refused.lock().unwrap().push(format!("undecodable: {e}"));
            StatusCode::BAD_REQUEST.into_response()
        }
    }
}

fn text(value: &Option<AnyValue>) -> Option<String> {
    match value.as_ref()?.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        any_value::Value::IntValue(n) => Some(n.to_string()),
        _ => None,
    }
}

fn find<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a KeyValue> {
    attributes.iter().find(|kv| kv.key == key)
}

fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    match find(&span.attributes, key)?.value.as_ref()?.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s),
        _ => None,
    }
}

fn int_attribute(span: &Span, key: &str) -> Option<i64> {
    match find(&span.attributes, key)?.value.as_ref()?.value.as_ref()? {
        any_value::Value::IntValue(n) => Some(*n),
        _ => None,
    }
}

// --- The server. ---

struct Server {
    child: Child,
    addr: String,
    project: String,
    api_key: String,
    _dir: tempfile::TempDir,
}

impl Server {
    /// `latchkey serve` on a fresh data directory, with `env` added; waits until it listens.
    fn start(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut command = Command::new(BIN);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LATCHKEY_DATA_DIR", dir.path())
            .env("LATCHKEY_LOG_FORMAT", "json")
            .env("LATCHKEY_LOG", "info")
            .envs(env.iter().copied())
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn latchkey");
        let (log_tx, log) = mpsc::channel::<String>();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = log_tx.send(line);
            }
        });
        let (out_tx, out) = mpsc::channel::<String>();
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = out_tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        let addr = loop {
            assert!(Instant::now() < deadline, "not listening: {seen:#?}");
            let Ok(line) = log.recv_timeout(Duration::from_millis(100)) else { continue };
            let event: Value = serde_json::from_str(&line).unwrap_or(Value::String(line.clone()));
            if event["fields"]["message"] == "latchkey listening" {
                break event["fields"]["address"].as_str().expect("address").to_owned();
            }
            seen.push(line);
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || while log.recv().is_ok() {});
        let printed = |label: &str| {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                assert!(Instant::now() < deadline, "{label} not printed");
                if let Ok(line) = out.recv_timeout(Duration::from_millis(100))
                    && let Some(rest) = line.trim().strip_prefix(label)
                {
                    return rest.trim().to_owned();
                }
            }
        };
        let project = printed("project id:");
        let api_key = printed("api key:");
        Self { child, addr: format!("http://{addr}"), project, api_key, _dir: dir }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v7/{}{}", self.addr, self.project, path)
    }

    /// SIGTERM; asserts a clean exit within `within`.
    fn stop(mut self, within: Duration) {
        // SAFETY: plain signal delivery to our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(Instant::now() < deadline, "did not stop within {within:?} of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "graceful shutdown exits 0, got {status}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client")
}

/// POSTs `body` to the project's `path` with the API key and `X-Request-Id: request_id`.
async fn post(server: &Server, path: &str, request_id: &str, body: Value) -> (StatusCode, Value) {
    let response = client()
        .post(server.url(path))
        .bearer_auth(&server.api_key)
        .header("x-request-id", request_id)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = StatusCode::from_u16(response.status().as_u16()).expect("status");
    (status, response.json().await.unwrap_or(Value::Null))
}

// --- The tests. ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_exported_as_server_spans_without_secrets() {
    let (endpoint, collector) = Collector::start().await;
    let server = Server::start(&[("LATCHKEY_OTLP_ENDPOINT", &endpoint), ("OTEL_BSP_SCHEDULE_DELAY", "100")]);
    let (email, password) = ("traced.person@example.com", "Tr4ced-Passw0rd!");

    let (status, signed_up) =
        post(&server, "/auth/sign-up", "otel-sign-up", json!({"email": email, "password": password})).await;
    assert_eq!(status, StatusCode::CREATED, "{signed_up}");
    let (status, signed_in) =
        post(&server, "/auth/sign-in", "otel-sign-in", json!({"email": email, "password": password})).await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    let refresh = signed_in["refreshToken"].as_str().expect("refresh token").to_owned();
    let (status, refreshed) =
        post(&server, "/auth/request-new-access-token", "otel-refresh", json!({"refreshToken": refresh})).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    // A token in a query string (email links carry them there).
    let query_secret = "Qu3ryT0kenMustNeverBeExported";
    let page = client()
        .get(server.url(&format!("/auth/verify-email-link?token={query_secret}")))
        .header("x-request-id", "otel-page")
        .send()
        .await
        .expect("page");
    assert!(page.status().is_client_error(), "{}", page.status());

    let sign_up = collector.request_span("otel-sign-up").await;
    let sign_in = collector.request_span("otel-sign-in").await;
    let refresh_span = collector.request_span("otel-refresh").await;
    let page_span = collector.request_span("otel-page").await;

    // One server span per request, named and labelled by its route template.
    for (span, method, route, status) in [
        (&sign_up, "POST", "/v7/{project_id}/auth/sign-up", 201),
        (&sign_in, "POST", "/v7/{project_id}/auth/sign-in", 200),
        (&refresh_span, "POST", "/v7/{project_id}/auth/request-new-access-token", 200),
        (&page_span, "GET", "/v7/{project_id}/auth/verify-email-link", i64::from(page.status().as_u16())),
    ] {
        assert_eq!(span.name, format!("{method} {route}"));
        assert_eq!(span.kind, SpanKind::Server as i32, "{}", span.name);
        assert_eq!(attribute(span, "http.route"), Some(route));
        assert_eq!(attribute(span, "http.request.method"), Some(method));
        assert_eq!(int_attribute(span, "http.response.status_code"), Some(status), "{}", span.name);
        assert!(span.parent_span_id.is_empty(), "a request span is a root span");
    }

    // Children: the hash of the sign-up, the verification of the sign-in, SQL statements.
    let spans = collector.spans();
    let children = |parent: &Span| -> Vec<Span> {
        spans
            .iter()
            .map(|(_, span)| span.clone())
            .filter(|span| span.trace_id == parent.trace_id && span.parent_span_id == parent.span_id)
            .collect()
    };
    let names = |spans: &[Span]| spans.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
    let (up, in_) = (children(&sign_up), children(&sign_in));
    assert!(names(&up).contains(&"password.hash".to_owned()), "{:?}", names(&up));
    assert!(names(&in_).contains(&"password.verify".to_owned()), "{:?}", names(&in_));
    let statement = up.iter().find(|s| s.name == "db.statement").expect("a SQL statement under the sign-up");
    assert_eq!(attribute(statement, "db.system.name"), Some("sqlite"));
    assert!(attribute(statement, "db.query.text").is_some_and(|sql| sql.contains('$')), "placeholders, not values");

    // Only requests are traces: background work (the outbox worker's polling statements)
    // makes no root spans of its own.
    for (_, span) in &spans {
        if span.parent_span_id.is_empty() {
            assert_eq!(span.kind, SpanKind::Server as i32, "a root span that is no request: {}", span.name);
        }
    }

    // The resource: service name and version.
    let (resource, _) = spans.first().expect("spans");
    let resource_text = |key: &str| find(resource, key).and_then(|kv| text(&kv.value));
    assert_eq!(resource_text("service.name").as_deref(), Some("latchkey"));
    assert_eq!(resource_text("service.version").as_deref(), Some(env!("CARGO_PKG_VERSION")));

    // Nothing secret or personal in anything exported.
    let raw = collector.raw();
    let access = signed_in["accessToken"].as_str().expect("access token");
    let refreshed_token = refreshed["refreshToken"].as_str().expect("new refresh token");
    for secret in [email, password, &refresh, access, refreshed_token, &server.api_key, query_secret, "token="] {
        assert!(!contains(&raw, secret.as_bytes()), "exported spans contain {secret:?}");
    }
    assert!(collector.refused.lock().unwrap().is_empty(), "{:?}", collector.refused.lock().unwrap());
    server.stop(Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_still_queued_are_flushed_at_sigterm() {
    let (endpoint, collector) = Collector::start().await;
    // Batches are due only every ten minutes: what arrives was sent by the shutdown flush.
    let server = Server::start(&[("LATCHKEY_OTLP_ENDPOINT", &endpoint), ("OTEL_BSP_SCHEDULE_DELAY", "600000")]);
    let response = client()
        .get(format!("{}/healthz", server.addr))
        .header("x-request-id", "flushed-at-shutdown")
        .send()
        .await
        .expect("healthz");
    assert_eq!(response.status().as_u16(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(collector.find_request("flushed-at-shutdown").is_none(), "not exported before the flush");
    tokio::task::spawn_blocking(move || server.stop(Duration::from_secs(20))).await.expect("stop");
    // Exported before the process exited.
    let span = collector.find_request("flushed-at-shutdown").expect("the queued span was flushed at SIGTERM");
    assert_eq!(span.name, "GET /healthz");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_collector_slows_and_fails_no_request() {
    // A collector that accepts connections and never answers (the export waits for its
    // timeout), and an address where nothing listens (refused at once).
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_addr = silent.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming().map_while(Result::ok) {
            held.push(stream);
        }
    });
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_addr = closed.local_addr().expect("addr");
    drop(closed);

    for collector in [format!("http://{silent_addr}"), format!("http://{closed_addr}")] {
        // Frequent, small batches and a tiny queue: exports are attempted all the time and the
        // queue overflows.
        let env = [
            ("LATCHKEY_OTLP_ENDPOINT", collector.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "20"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "8"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4"),
        ];
        let server = Server::start(&env);
        let http = client();
        let mut slowest = Duration::ZERO;
        for n in 0..60 {
            let started = Instant::now();
            let response = http.get(format!("{}/healthz", server.addr)).send().await.expect("healthz");
            slowest = slowest.max(started.elapsed());
            assert_eq!(response.status().as_u16(), 200, "request {n} with collector {collector}");
        }
        assert!(slowest < Duration::from_millis(500), "a health check took {slowest:?} (collector {collector})");
        let started = Instant::now();
        let (status, body) = post(
            &server,
            "/auth/sign-up",
            "collector-down",
            json!({"email": "down@example.com", "password": "s3cur3P@ss"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(started.elapsed() < Duration::from_secs(3), "sign-up took {:?}", started.elapsed());
        // Shutdown gives up on the flush after its bound instead of hanging.
        tokio::task::spawn_blocking(move || server.stop(Duration::from_secs(20))).await.expect("stop");
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}
