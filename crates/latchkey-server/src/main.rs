use std::process::ExitCode;

use latchkey_server::cli::Invocation;
use latchkey_server::config::LogFormat;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    // Everything Latchkey creates (database, WAL, key file, data directory) is for its own
    // user only: the database holds password hashes and private profile data.
    // SAFETY: umask only sets the process's file-creation mask.
    #[cfg(unix)]
    unsafe {
        libc::umask(0o077);
    }
    // Settings errors found before logging starts exit 2, as clap's usage errors do.
    let loaded = Invocation::parse().load().and_then(|loaded| Ok((loaded.log_format()?, loaded)));
    let (format, loaded) = match loaded {
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
    init_tracing(format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(loaded.run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_env("LATCHKEY_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // Colour codes only for a person at a terminal: in a file or a log collector they are noise.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
