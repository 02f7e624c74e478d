//! A real SMTP server on loopback for tests: mailin's protocol engine (the one inside
//! mailin-embedded) behind a small tokio accept loop we can start, stop and restart on the
//! same port. Received messages are kept in memory with their envelope.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailin::{Action, AuthMechanism, Handler, Response, SessionBuilder, response};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(&self.data).expect("received message is valid MIME")
    }
}

#[derive(Clone)]
struct Collector {
    inbox: Arc<Mutex<Vec<Received>>>,
    credentials: Option<(String, String)>,
    current: Option<Received>,
}

impl Handler for Collector {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Some(Received { from: from.to_owned(), to: to.to_vec(), data: Vec::new() });
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(current) = &mut self.current {
            current.data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some(message) = self.current.take() {
            self.inbox.lock().unwrap().push(message);
        }
        response::OK
    }

    fn auth_plain(&mut self, _authz: &str, user: &str, password: &str) -> Response {
        self.check(user, password)
    }

    fn auth_login(&mut self, user: &str, password: &str) -> Response {
        self.check(user, password)
    }
}

impl Collector {
    fn check(&self, user: &str, password: &str) -> Response {
        match &self.credentials {
            Some((u, p)) if u == user && p == password => response::AUTH_OK,
            _ => response::INVALID_CREDENTIALS,
        }
    }
}

pub struct SmtpServer {
    pub addr: SocketAddr,
    inbox: Arc<Mutex<Vec<Received>>>,
    credentials: Option<(String, String)>,
    accept: Option<JoinHandle<()>>,
}

impl SmtpServer {
    /// Listens on a free loopback port.
    pub async fn start() -> Self {
        Self::start_with(None, None).await
    }

    /// Requires AUTH PLAIN/LOGIN with these credentials (over plain text: loopback only).
    pub async fn start_with_auth(user: &str, password: &str) -> Self {
        Self::start_with(None, Some((user.to_owned(), password.to_owned()))).await
    }

    async fn start_with(addr: Option<SocketAddr>, credentials: Option<(String, String)>) -> Self {
        let listener =
            TcpListener::bind(addr.unwrap_or_else(|| "127.0.0.1:0".parse().unwrap())).await.expect("bind smtp");
        let addr = listener.local_addr().unwrap();
        let mut server = Self { addr, inbox: Arc::new(Mutex::new(Vec::new())), credentials, accept: None };
        server.accept = Some(server.spawn(listener));
        server
    }

    /// A free loopback address with nothing listening on it (for "the relay is down").
    pub fn unused_addr() -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    }

    /// Starts a server on `addr` (used to bring a "down" relay back), keeping no mail.
    pub async fn start_on(addr: SocketAddr) -> Self {
        Self::start_with(Some(addr), None).await
    }

    fn spawn(&self, listener: TcpListener) -> JoinHandle<()> {
        let mut builder = SessionBuilder::new("smtp.test");
        if self.credentials.is_some() {
            builder.enable_auth(AuthMechanism::Plain).enable_auth(AuthMechanism::Login);
            builder.insecure_enable_plaintext_auth();
        }
        let collector =
            Collector { inbox: Arc::clone(&self.inbox), credentials: self.credentials.clone(), current: None };
        tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                let session = builder.build(peer.ip(), collector.clone());
                tokio::spawn(serve_connection(stream, session, peer.ip()));
            }
        })
    }

    /// `smtp://127.0.0.1:PORT?tls=none`
    pub fn url(&self) -> String {
        format!("smtp://{}?tls=none", self.addr)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }

    /// Waits until at least `n` messages arrived (panics after `timeout`).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            assert!(start.elapsed() < timeout, "expected {n} messages within {timeout:?}, got {}", messages.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn stop(&mut self) {
        if let Some(accept) = self.accept.take() {
            accept.abort();
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve_connection<H: Handler>(stream: tokio::net::TcpStream, mut session: mailin::Session<H>, _peer: IpAddr) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    if write.write_all(&session.greeting().buffer().unwrap()).await.is_err() {
        return;
    }
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let response = session.process(&line);
        match response.action {
            Action::NoReply => {}
            Action::Reply => {
                if write.write_all(&response.buffer().unwrap()).await.is_err() {
                    return;
                }
            }
            Action::Close | Action::UpgradeTls => {
                let _ = write.write_all(&response.buffer().unwrap()).await;
                return;
            }
        }
    }
}
