use std::process::ExitCode;

use latchkey_server::cli::Invocation;
use latchkey_server::config::LogFormat;
use latchkey_server::telemetry::{Telemetry, TraceExport};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

fn main() -> ExitCode {
    // Everything Latchkey creates (database, WAL, key file, data directory) is for its own
    // user only: the database holds password hashes and private profile data.
    // SAFETY: umask only sets the process's file-creation mask.
    #[cfg(unix)]
    unsafe {
        libc::umask(0o077);
    }
    // Settings errors found before logging starts exit 2, as clap's usage errors do.
    let loaded =
        Invocation::parse().load().and_then(|loaded| Ok(((loaded.log_format()?, loaded.trace_export()?), loaded)));
    let ((format, trace_export), loaded) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    // An admin command whose reader went away (`latchkey project list | head -1`) should end
    // quietly, as other command-line tools do, not panic on the failed write: restore the
    // default SIGPIPE action, which Rust's runtime sets to ignore. `serve` keeps ignoring it,
    // so a client closing its socket never kills the server.
    #[cfg(unix)]
    if !loaded.is_serve() {
        // SAFETY: resets one signal's disposition before any thread is started.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let telemetry = match trace_export.as_ref().map(|export| Telemetry::start(export, runtime.handle().clone())) {
        None => None,
        Some(Ok(telemetry)) => Some(telemetry),
        Some(Err(e)) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    init_tracing(format, telemetry.as_ref(), trace_export.as_ref());
    let code = match runtime.block_on(loaded.run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    };
    // The server has drained its requests: send the spans still queued while the runtime
    // that posts them is still up.
    if let Some(telemetry) = telemetry {
        telemetry.shutdown();
    }
    code
}

fn init_tracing(format: LogFormat, telemetry: Option<&Telemetry>, export: Option<&TraceExport>) {
    let filter = EnvFilter::try_from_env("LATCHKEY_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // Colour codes only for a person at a terminal: in a file or a log collector they are noise.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let Some(telemetry) = telemetry else {
        // No traces: the log alone, filtered globally (disabled spans cost nothing).
        let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
        match format {
            LogFormat::Json => builder.json().init(),
            LogFormat::Text => builder.init(),
        }
        return;
    };
    // Traces: the log keeps its own filter, and the exporter sees Latchkey's spans whatever
    // LATCHKEY_LOG says.
    let log = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(ansi);
    let log = match format {
        LogFormat::Json => log.json().boxed(),
        LogFormat::Text => log.boxed(),
    };
    tracing_subscriber::registry().with(log.with_filter(filter)).with(telemetry.layer()).init();
    let endpoint = export.and_then(|e| e.traces_url.as_deref()).unwrap_or("from OTEL_EXPORTER_OTLP_* variables");
    tracing::info!(endpoint = %redact_userinfo(endpoint), "exporting traces over OTLP/HTTP");
}

/// The URL without a password in its userinfo (a collector URL may carry one).
fn redact_userinfo(url: &str) -> String {
    latchkey_server::settings::SecretUrl::new(url).redacted()
}
