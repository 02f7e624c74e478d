//! The HTTP/1.1 server loop, shared by `latchkey serve` and the test harness: accepting
//! connections and serving the router on each, with the limits axum's `serve` lacks.
//!
//! - Header read timeout: a request's head must arrive within `header_timeout` of its first
//!   byte (or of the accept); otherwise the connection is closed without an answer.
//! - Body read timeout: a request body not fully received within `body_timeout` of its head
//!   fails the read; the JSON extractor answers 408 `request/body-timeout`, and the connection
//!   is closed after the answer (the rest of the body cannot be trusted to frame a next request).
//! - Idle timeout: a keep-alive connection with no request for `idle_timeout` is closed. It is
//!   separate from the header timeout so it can be longer than a load balancer's own idle
//!   timeout (which must close first, or it may send a request onto a closing connection).
//! - Connection cap: at most `max_connections` are served at once. One over the cap is
//!   answered `503 server/busy` with `Retry-After: 1` and closed (a few at a time; beyond that
//!   it is closed at once), so a client learns to retry instead of seeing a reset or a hang.
//! - Accept errors (e.g. `EMFILE`) back off from 10 ms to 1 s instead of spinning.
//! - Shutdown: stop accepting, let every in-flight request finish, close idle connections.
//!
//! hyper's own `header_read_timeout` is not used: it also runs while a keep-alive connection
//! waits for its next request, which would cap the idle timeout at the header timeout.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, header};
use hyper::body::{Bytes, Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// The connection limits (`LATCHKEY_HEADER_TIMEOUT`, `LATCHKEY_BODY_TIMEOUT`,
/// `LATCHKEY_IDLE_TIMEOUT`, `LATCHKEY_MAX_CONNECTIONS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

impl ConnectionLimits {
    pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
    /// Above the 60 s idle timeout of common load balancers, which should close first.
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(75);
    pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: Self::DEFAULT_HEADER_TIMEOUT,
            body_timeout: Self::DEFAULT_BODY_TIMEOUT,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Connections over the cap being answered 503 at once; more are closed without an answer.
pub const REFUSAL_SLOTS: usize = 64;
/// How long a refused connection may take to send its request head, and then to close.
const REFUSAL_STEP: Duration = Duration::from_secs(1);
const REFUSAL_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 72\r\n\
\r\n\
{\"error\":\"too many connections; retry in a moment\",\"code\":\"server/busy\"}";

/// A request body that did not arrive within the body timeout (see [`ConnectionLimits`]).
#[derive(Debug, thiserror::Error)]
#[error("the request body was not received within the body timeout")]
pub struct BodyTimeout;

/// Serves `app` on `listener` until `shutdown` completes, then drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let refusals = Arc::new(Semaphore::new(REFUSAL_SLOTS));
    let graceful = GracefulShutdown::new();
    let mut backoff = Duration::ZERO;
    let mut refusing = false;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                backoff = Duration::ZERO;
                stream
            }
            // The peer gave up before we accepted: nothing to do, nothing to wait for.
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of descriptors or memory: retrying at once would spin; wait for
                // connections to close, longer each time.
                backoff = (backoff * 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
                tracing::error!(error = %e, retry_in_ms = backoff.as_millis() as u64, "accept error; backing off");
                tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(backoff) => continue,
                }
            }
        };
        match Arc::clone(&permits).try_acquire_owned() {
            Ok(permit) => {
                if std::mem::take(&mut refusing) {
                    tracing::info!("below the connection limit again; accepting connections");
                }
                tokio::spawn(serve_connection(stream, app.clone(), limits, graceful.watcher(), permit));
            }
            Err(_) => {
                if !std::mem::replace(&mut refusing, true) {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "connection limit reached (LATCHKEY_MAX_CONNECTIONS): new connections are answered 503 \
                         server/busy until some close"
                    );
                }
                refuse(stream, &refusals);
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// Answers a connection over the cap with 503, reading its request head first and draining
/// what follows before closing, so the close is not a reset that discards the answer.
fn refuse(mut stream: TcpStream, slots: &Arc<Semaphore>) {
    let Ok(slot) = Arc::clone(slots).try_acquire_owned() else {
        return; // Dropped: closed at once.
    };
    tokio::spawn(async move {
        let _slot = slot;
        let mut buf = [0u8; 4096];
        let mut seen = Vec::new();
        let _ = tokio::time::timeout(REFUSAL_STEP, async {
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") && seen.len() < 16 * 1024 {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        if stream.write_all(REFUSAL_RESPONSE).await.is_err() || stream.shutdown().await.is_err() {
            return;
        }
        let _ = tokio::time::timeout(REFUSAL_STEP, async {
            while let Ok(n) = stream.read(&mut buf).await
                && n > 0
            {}
        })
        .await;
    });
}

async fn serve_connection(
    stream: TcpStream,
    app: Router,
    limits: ConnectionLimits,
    watcher: Watcher,
    _permit: OwnedSemaphorePermit,
) {
    let state = Arc::new(ConnState::new());
    let io = TokioIo::new(TimedIo::new(stream, Arc::clone(&state), limits));
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        state.begin_request();
        let deadline = Instant::now() + limits.body_timeout;
        let body_state = Arc::clone(&state);
        let request =
            request.map(|body| Body::new(DeadlineBody { inner: body, deadline, sleep: None, conn: body_state }));
        let response = tower::Service::call(&mut app.clone(), request);
        let state = Arc::clone(&state);
        async move {
            let mut response = match response.await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            if state.body_timed_out.load(Ordering::Relaxed) {
                response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            state.end_request();
            Ok::<_, Infallible>(response)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // Read deadlines are TimedIo's (see the module comment); no hyper timer is installed.
    builder.keep_alive(true).header_read_timeout(None);
    let connection = builder.serve_connection(io, service);
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!(error = %e, "connection closed with an error");
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for (the rest of) a request head, since the instant recorded.
    Head,
    /// A request is being handled; its body has its own deadline.
    Busy,
    /// Keep-alive: waiting for the next request since the instant recorded.
    Idle,
}

/// What a connection is doing, shared by its I/O (read deadlines) and its service (phases).
struct ConnState {
    phase: Mutex<(Phase, Instant)>,
    /// The task of the last read that waited without a deadline (during a request).
    reader: Mutex<Option<Waker>>,
    body_timed_out: AtomicBool,
}

impl ConnState {
    fn new() -> Self {
        Self {
            phase: Mutex::new((Phase::Head, Instant::now())),
            reader: Mutex::new(None),
            body_timed_out: AtomicBool::new(false),
        }
    }

    fn set(&self, phase: Phase) {
        if let Ok(mut current) = self.phase.lock() {
            *current = (phase, Instant::now());
        }
    }

    fn begin_request(&self) {
        self.set(Phase::Busy);
    }

    /// The response is ready: the connection is idle until the next request. hyper does not
    /// read again by itself before the socket has data, so the read that waited without a
    /// deadline during the request is woken to arm the idle one.
    fn end_request(&self) {
        self.set(Phase::Idle);
        if let Some(waker) = self.reader.lock().ok().and_then(|mut w| w.take()) {
            waker.wake();
        }
    }

    /// Bytes arrived: on an idle connection they start the next request's head.
    fn on_bytes(&self) {
        if let Ok(mut current) = self.phase.lock()
            && current.0 == Phase::Idle
        {
            *current = (Phase::Head, Instant::now());
        }
    }

    /// When a pending read must give up, and what it was waiting for.
    fn read_deadline(&self, limits: &ConnectionLimits) -> Option<(Instant, &'static str)> {
        let (phase, since) = *self.phase.lock().ok()?;
        match phase {
            Phase::Head => Some((since + limits.header_timeout, "request head not received within the header timeout")),
            Phase::Idle => Some((since + limits.idle_timeout, "idle keep-alive connection closed")),
            Phase::Busy => None,
        }
    }
}

/// The socket, with the header and idle deadlines applied to reads.
struct TimedIo {
    stream: TcpStream,
    conn: Arc<ConnState>,
    limits: ConnectionLimits,
    timer: Option<(Instant, Pin<Box<Sleep>>)>,
}

impl TimedIo {
    fn new(stream: TcpStream, conn: Arc<ConnState>, limits: ConnectionLimits) -> Self {
        Self { stream, conn, limits, timer: None }
    }
}

impl AsyncRead for TimedIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.conn.on_bytes();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                let Some((deadline, reason)) = this.conn.read_deadline(&this.limits) else {
                    if let Ok(mut reader) = this.conn.reader.lock() {
                        *reader = Some(cx.waker().clone());
                    }
                    return Poll::Pending;
                };
                let sleep = match &mut this.timer {
                    Some((armed, sleep)) if *armed == deadline => sleep,
                    Some((armed, sleep)) => {
                        sleep.as_mut().reset(deadline);
                        *armed = deadline;
                        sleep
                    }
                    None => &mut this.timer.insert((deadline, Box::pin(tokio::time::sleep_until(deadline)))).1,
                };
                if sleep.as_mut().poll(cx).is_ready() {
                    tracing::debug!(reason, "closing connection");
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, reason)));
                }
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for TimedIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// A request body that fails with [`BodyTimeout`] once its deadline has passed.
struct DeadlineBody {
    inner: Incoming,
    deadline: Instant,
    /// Made on the first wait only: most bodies arrive with their head.
    sleep: Option<Pin<Box<Sleep>>>,
    conn: Arc<ConnState>,
}

impl hyper::body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => {
                let deadline = this.deadline;
                let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if sleep.as_mut().poll(cx).is_ready() {
                    this.conn.body_timed_out.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(Box::new(BodyTimeout))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The soft `RLIMIT_NOFILE` before and after [`raise_open_file_limit`], and the hard limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFileLimit {
    pub before: u64,
    pub now: u64,
    pub hard: u64,
}

/// Raises the soft open-file limit to the hard limit: every connection is a descriptor, and
/// service managers often start processes with a soft limit of 1024.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not on every unix
pub fn raise_open_file_limit() -> io::Result<OpenFileLimit> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let before = limit.rlim_cur;
    // An unlimited hard limit cannot be the soft one for descriptors; Linux's default
    // fs.nr_open is 2^20.
    let target = if limit.rlim_max == libc::RLIM_INFINITY { 1 << 20 } else { limit.rlim_max };
    if before != libc::RLIM_INFINITY && before < target {
        let raised = libc::rlimit { rlim_cur: target, rlim_max: limit.rlim_max };
        // SAFETY: setrlimit only reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(io::Error::last_os_error());
        }
        limit.rlim_cur = target;
    }
    Ok(OpenFileLimit { before: before as u64, now: limit.rlim_cur as u64, hard: limit.rlim_max as u64 })
}

#[cfg(not(unix))]
pub fn raise_open_file_limit() -> io::Result<OpenFileLimit> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "no RLIMIT_NOFILE on this platform"))
}

/// Descriptors kept free beside the connections: refusals in progress, the database pool,
/// the SQLite files, listeners, outgoing SMTP and JWKS connections, standard streams.
pub fn descriptor_reserve(database_pool_size: u32) -> u64 {
    REFUSAL_SLOTS as u64 + u64::from(database_pool_size) + 64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_a_well_formed_response() {
        let text = std::str::from_utf8(REFUSAL_RESPONSE).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["code"], "server/busy");
    }
}
