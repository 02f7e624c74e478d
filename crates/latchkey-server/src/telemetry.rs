//! OpenTelemetry traces over OTLP/HTTP (protobuf), when a collector is configured:
//! `--otlp-endpoint` / `LATCHKEY_OTLP_ENDPOINT`, or the standard `OTEL_EXPORTER_OTLP_ENDPOINT`
//! / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`. With none of them set there is no exporter, no
//! thread, no layer: the subscriber is the plain log of `main.rs`.
//!
//! What is exported: each request's span (`app.rs`), as a server span named
//! `METHOD /route/{template}` with `http.request.method`, `http.route`,
//! `http.response.status_code` and `request_id`; under it the password hashing and each SQL
//! statement (text with placeholders, never values). No query string, token, email or
//! password is ever a span field.
//!
//! Export never slows or fails a request: a finished span goes into the SDK's bounded batch
//! queue (dropped when full), a thread of the SDK sends batches, and each post runs on the
//! server's runtime with a timeout. At shutdown (SIGTERM, after the requests have drained)
//! what is queued is flushed, within a bound.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
use opentelemetry::{Context, Key, KeyValue, Value};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, Span, SpanData, SpanProcessor,
};
use tracing::Level;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{FilterExt, Targets, dynamic_filter_fn};
use tracing_subscriber::registry::LookupSpan;

use crate::settings::ServeSettings;

/// The name of each request's span (`app.rs`).
pub const REQUEST_SPAN: &str = "request";

/// One post to the collector, connection included.
const POST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for the last batch.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Whether this process exports traces (the request span then records its status).
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// Where traces go, resolved from the settings and the standard variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceExport {
    /// The full URL spans are posted to; None: the exporter reads the `OTEL_EXPORTER_OTLP_*`
    /// variables itself.
    pub traces_url: Option<String>,
}

impl TraceExport {
    /// `LATCHKEY_OTLP_ENDPOINT` (a collector's base URL, or its full `/v1/traces` URL), else
    /// the standard variables when set; None when nothing is configured (or
    /// `OTEL_SDK_DISABLED=true`).
    pub fn resolve(settings: &ServeSettings) -> anyhow::Result<Option<Self>> {
        Self::resolve_with(settings, |name| std::env::var(name).ok())
    }

    fn resolve_with(settings: &ServeSettings, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Option<Self>> {
        let set = |name: &str| env(name).is_some_and(|value| !value.trim().is_empty());
        if env("OTEL_SDK_DISABLED").is_some_and(|value| value.trim().eq_ignore_ascii_case("true")) {
            return Ok(None);
        }
        let given = settings.otlp_endpoint.as_ref().map(|url| url.expose().trim()).filter(|url| !url.is_empty());
        let Some(text) = given else {
            let standard = set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
            return Ok(standard.then_some(Self { traces_url: None }));
        };
        let url = url::Url::parse(text).map_err(|e| {
            anyhow::anyhow!("LATCHKEY_OTLP_ENDPOINT is not a URL ({e}); example: http://127.0.0.1:4318")
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            bail!("LATCHKEY_OTLP_ENDPOINT must be an http(s) URL with a host, e.g. http://127.0.0.1:4318");
        }
        if url.query().is_some() || url.fragment().is_some() {
            bail!("LATCHKEY_OTLP_ENDPOINT must not have a query or a fragment");
        }
        let traces_url = if url.path().trim_end_matches('/').ends_with("/v1/traces") {
            url.to_string()
        } else {
            format!("{}/v1/traces", url.as_str().trim_end_matches('/'))
        };
        Ok(Some(Self { traces_url: Some(traces_url) }))
    }
}

/// The running exporter. [`Telemetry::shutdown`] flushes it.
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// Builds the exporter, posting through a client that runs on `runtime`.
    pub fn start(export: &TraceExport, runtime: tokio::runtime::Handle) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(POST_TIMEOUT / 2)
            .timeout(POST_TIMEOUT)
            .build()
            .context("cannot build the OTLP HTTP client")?;
        let mut exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(RuntimeClient { client, runtime })
            .with_protocol(Protocol::HttpBinary);
        if let Some(url) = &export.traces_url {
            exporter = exporter.with_endpoint(url.clone());
        }
        let exporter = exporter.build().context("cannot set up the OTLP trace exporter")?;
        // The SDK's batch settings: a queue of 2048 finished spans (more are dropped, never
        // waited for), sent every 5 s or by 512; OTEL_BSP_* variables change them.
        let processor =
            BatchSpanProcessor::builder(exporter).with_batch_config(BatchConfigBuilder::default().build()).build();
        let provider =
            SdkTracerProvider::builder().with_span_processor(RequestSpans(processor)).with_resource(resource()).build();
        EXPORTING.store(true, Ordering::Relaxed);
        Ok(Self { provider })
    }

    /// The tracing layer that turns spans into OpenTelemetry spans. It sees only Latchkey's
    /// own spans (DEBUG included) and the access log event, whatever `LATCHKEY_LOG` says about
    /// the log; and of those only the requests and what runs inside one: the statements of
    /// background work (the outbox worker polls) would each be a trace of their own.
    pub fn layer<S>(&self) -> impl Layer<S> + use<S>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    {
        let tracer = self.provider.tracer("latchkey");
        let ours = Targets::new()
            .with_target("latchkey_server", Level::INFO)
            .with_target("latchkey_core", Level::DEBUG)
            .with_target("latchkey_store", Level::DEBUG)
            .with_target("tower_http", Level::INFO);
        let in_request = dynamic_filter_fn(|metadata, context| {
            (metadata.is_span() && metadata.name() == REQUEST_SPAN) || context.lookup_current().is_some()
        });
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_location(false)
            .with_threads(false)
            .with_filter(ours.and(in_request))
    }

    /// Exports what is still queued (bounded by a timeout) and stops the exporter thread.
    /// Called outside the runtime, which must still be running.
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown_with_timeout(FLUSH_TIMEOUT) {
            tracing::warn!(error = %e, "traces not flushed at shutdown");
        }
    }
}

/// `service.name` `latchkey` (unless `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES` name
/// it), `service.version`, and the SDK's own attributes.
fn resource() -> Resource {
    let service_name = Key::from_static_str("service.name");
    let detected = Resource::builder().build();
    let named = detected.get(&service_name).is_some_and(|name| !name.as_str().starts_with("unknown_service"));
    let builder = Resource::builder().with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
    if named { builder.build() } else { builder.with_service_name("latchkey").build() }
}

/// Posts on the server's tokio runtime with its reqwest client: the SDK's exporter thread is
/// not a runtime thread, and this keeps one HTTP stack in the binary.
#[derive(Debug)]
struct RuntimeClient {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for RuntimeClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let client = self.client.clone();
        let sent = self.runtime.spawn(async move {
            let answer = client.execute(request).await?;
            let status = answer.status();
            Ok::<_, reqwest::Error>((status, answer.bytes().await?))
        });
        let (status, body) = sent.await??;
        let mut response = Response::new(body);
        *response.status_mut() = status;
        Ok(response)
    }
}

/// Shapes each request span as a server span before it is queued: named
/// `METHOD /route/{template}`, its fields under the HTTP semantic-convention keys, an error
/// status for 5xx. The tracing span keeps the short field names the log shows.
#[derive(Debug)]
struct RequestSpans<P>(P);

impl<P: SpanProcessor> SpanProcessor for RequestSpans<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.0.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        if span.name == REQUEST_SPAN {
            shape_request_span(&mut span);
        }
        self.0.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource);
    }
}

fn shape_request_span(span: &mut SpanData) {
    let (mut method, mut route, mut status) = (None, None, None);
    for attribute in &mut span.attributes {
        let key = match attribute.key.as_str() {
            "method" => {
                method = Some(attribute.value.as_str().into_owned());
                "http.request.method"
            }
            "route" => {
                route = Some(attribute.value.as_str().into_owned());
                "http.route"
            }
            "status" => {
                status = match &attribute.value {
                    Value::I64(code) => Some(*code),
                    other => other.as_str().parse().ok(),
                };
                "http.response.status_code"
            }
            _ => continue,
        };
        attribute.key = Key::from_static_str(key);
    }
    span.span_kind = SpanKind::Server;
    if let (Some(method), Some(route)) = (method, route) {
        span.name = format!("{method} {route}").into();
    }
    if status.is_some_and(|code| code >= 500) {
        span.status = Status::error("");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::SecretUrl;

    fn resolve(endpoint: Option<&str>, env: &[(&str, &str)]) -> anyhow::Result<Option<TraceExport>> {
        let settings = ServeSettings { otlp_endpoint: endpoint.map(SecretUrl::new), ..Default::default() };
        TraceExport::resolve_with(&settings, |name| {
            env.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned())
        })
    }

    fn url(export: Option<TraceExport>) -> Option<String> {
        export.and_then(|e| e.traces_url)
    }

    #[test]
    fn off_unless_an_endpoint_is_configured() {
        assert_eq!(resolve(None, &[]).unwrap(), None);
        assert_eq!(resolve(Some(" "), &[("OTEL_EXPORTER_OTLP_ENDPOINT", "")]).unwrap(), None);
        let standard = resolve(None, &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")]).unwrap();
        assert_eq!(standard, Some(TraceExport { traces_url: None }), "the exporter reads the variable itself");
        let traces = resolve(None, &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/v1/traces")]).unwrap();
        assert!(traces.is_some());
        let disabled = [("OTEL_SDK_DISABLED", "true"), ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")];
        assert_eq!(resolve(Some("http://c:4318"), &disabled).unwrap(), None);
    }

    #[test]
    fn the_endpoint_is_a_base_url_or_the_traces_url() {
        let base = resolve(Some("http://127.0.0.1:4318"), &[]).unwrap();
        assert_eq!(url(base).as_deref(), Some("http://127.0.0.1:4318/v1/traces"));
        let slash = resolve(Some("https://otel.example/prefix/"), &[]).unwrap();
        assert_eq!(url(slash).as_deref(), Some("https://otel.example/prefix/v1/traces"));
        let full = resolve(Some("http://c:4318/v1/traces"), &[]).unwrap();
        assert_eq!(url(full).as_deref(), Some("http://c:4318/v1/traces"));
        // The setting wins over the standard variable.
        let both = resolve(Some("http://mine:4318"), &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://theirs:4318")]);
        assert_eq!(url(both.unwrap()).as_deref(), Some("http://mine:4318/v1/traces"));
        for bad in ["collector:4318", "ftp://c", "http://c:4318/?token=x", "not a url"] {
            let err = resolve(Some(bad), &[]).unwrap_err().to_string();
            assert!(err.contains("LATCHKEY_OTLP_ENDPOINT"), "{bad}: {err}");
        }
    }
}
