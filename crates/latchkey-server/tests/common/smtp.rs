//! A real SMTP server on loopback for tests: mailin's protocol engine (the one inside
//! mailin-embedded) behind a small tokio accept loop we can start, stop and restart on the
//! same port. Received messages are kept in memory with their envelope.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailin::{Action, AuthMechanism, Handler, Response, SessionBuilder, response};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// How the test relay speaks TLS.
#[derive(Clone)]
pub enum TlsMode {
    Plain,
    /// Offers STARTTLS (`smtp://`).
    StartTls(TlsAcceptor),
    /// TLS from the first byte (`smtps://`).
    Implicit(TlsAcceptor),
}

/// A throwaway CA and a `localhost` certificate it signed.
pub struct TestPki {
    pub ca_pem: Vec<u8>,
    pub acceptor: TlsAcceptor,
}

impl TestPki {
    pub fn new() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "Latchkey test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap().signed_by(&leaf_key, &ca).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone()], key)
            .unwrap();
        Self { ca_pem: ca.pem().into_bytes(), acceptor: TlsAcceptor::from(Arc::new(config)) }
    }
}

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
    tls: TlsMode,
    accept: Option<JoinHandle<()>>,
}

impl SmtpServer {
    /// Listens on a free loopback port.
    pub async fn start() -> Self {
        Self::start_with(None, None).await
    }

    /// A relay that offers STARTTLS (or, `implicit`, speaks TLS at once) with AUTH.
    pub async fn start_tls(pki: &TestPki, implicit: bool, user: &str, password: &str) -> Self {
        let tls =
            if implicit { TlsMode::Implicit(pki.acceptor.clone()) } else { TlsMode::StartTls(pki.acceptor.clone()) };
        Self::start_full(None, Some((user.to_owned(), password.to_owned())), tls).await
    }

    /// Requires AUTH PLAIN/LOGIN with these credentials (over plain text: loopback only).
    pub async fn start_with_auth(user: &str, password: &str) -> Self {
        Self::start_with(None, Some((user.to_owned(), password.to_owned()))).await
    }

    async fn start_with(addr: Option<SocketAddr>, credentials: Option<(String, String)>) -> Self {
        Self::start_full(addr, credentials, TlsMode::Plain).await
    }

    async fn start_full(addr: Option<SocketAddr>, credentials: Option<(String, String)>, tls: TlsMode) -> Self {
        let listener =
            TcpListener::bind(addr.unwrap_or_else(|| "127.0.0.1:0".parse().unwrap())).await.expect("bind smtp");
        let addr = listener.local_addr().unwrap();
        let mut server = Self { addr, inbox: Arc::new(Mutex::new(Vec::new())), credentials, tls, accept: None };
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
            if matches!(self.tls, TlsMode::Plain) {
                builder.insecure_enable_plaintext_auth();
            }
        }
        if matches!(self.tls, TlsMode::StartTls(_)) {
            builder.enable_start_tls();
        }
        let collector =
            Collector { inbox: Arc::clone(&self.inbox), credentials: self.credentials.clone(), current: None };
        let tls = self.tls.clone();
        tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                let session = builder.build(peer.ip(), collector.clone());
                tokio::spawn(serve_connection(stream, session, tls.clone()));
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

async fn serve_connection<H: Handler>(stream: TcpStream, mut session: mailin::Session<H>, tls: TlsMode) {
    match tls {
        TlsMode::Plain => {
            drive(&mut BufReader::new(stream), &mut session, true).await;
        }
        TlsMode::Implicit(acceptor) => {
            let Ok(stream) = acceptor.accept(stream).await else { return };
            session.tls_active();
            drive(&mut BufReader::new(stream), &mut session, true).await;
        }
        TlsMode::StartTls(acceptor) => {
            let mut plain = BufReader::new(stream);
            if drive(&mut plain, &mut session, true).await != Some(Action::UpgradeTls) {
                return;
            }
            let Ok(stream) = acceptor.accept(plain.into_inner()).await else { return };
            session.tls_active();
            // After STARTTLS the client starts over with EHLO; no new greeting is sent.
            drive(&mut BufReader::new(stream), &mut session, false).await;
        }
    }
}

/// Runs the SMTP dialogue until the client leaves (None) or asks for TLS.
async fn drive<S, H>(stream: &mut S, session: &mut mailin::Session<H>, greet: bool) -> Option<Action>
where
    S: AsyncBufRead + AsyncWrite + Unpin,
    H: Handler,
{
    if greet && stream.write_all(&session.greeting().buffer().unwrap()).await.is_err() {
        return None;
    }
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        match stream.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        let response = session.process(&line);
        match response.action {
            Action::NoReply => {}
            Action::Reply => {
                if stream.write_all(&response.buffer().unwrap()).await.is_err() {
                    return None;
                }
            }
            Action::Close => {
                let _ = stream.write_all(&response.buffer().unwrap()).await;
                return None;
            }
            Action::UpgradeTls => {
                let _ = stream.write_all(&response.buffer().unwrap()).await;
                let _ = stream.flush().await;
                return Some(Action::UpgradeTls);
            }
        }
    }
}
