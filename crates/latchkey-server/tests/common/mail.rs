//! Mail helpers: run the real outbox worker against a test app, and read links out of
//! received MIME messages.

use std::time::Duration;

use latchkey_core::mail::{OutboxWorker, WorkerOptions};
use latchkey_server::mail::{EmlDrop, LinkMailer, MailerConfig, SmtpUrl, Templates};
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::TestApp;

/// A running outbox worker; stops (and is awaited) on [`Worker::stop`].
pub struct Worker {
    stop: watch::Sender<bool>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(handle) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(10), handle).await.expect("worker stops").expect("worker task");
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Quick retries so outage tests take seconds, not minutes.
pub fn fast_options() -> WorkerOptions {
    WorkerOptions {
        poll: Duration::from_millis(50),
        lease: Duration::from_secs(20),
        retry_base: Duration::from_millis(100),
        retry_max: Duration::from_millis(400),
        max_attempts: 1000,
        ..WorkerOptions::default()
    }
}

impl TestApp {
    /// Mailer settings for this app: links point at this server; `smtp: None` is the file transport.
    pub fn mailer_config(&self, smtp: Option<&str>) -> MailerConfig {
        self.mailer_config_with_ca(smtp, None)
    }

    /// As [`TestApp::mailer_config`], also trusting `ca_pem` for TLS relays.
    pub fn mailer_config_with_ca(&self, smtp: Option<&str>, ca_pem: Option<Vec<u8>>) -> MailerConfig {
        MailerConfig {
            public_url: self.addr.clone(),
            default_smtp: smtp.map(|u| SmtpUrl::parse(u).expect("smtp url")),
            default_from: "Latchkey Test <no-reply@latchkey.test>".into(),
            file_drop: EmlDrop { dir: self.dir.path().join("mail") },
            smtp_timeout: Duration::from_secs(3),
            templates: Arc::new(Templates::default()),
            smtp_ca_pem: ca_pem,
        }
    }

    pub fn outbox_worker(&self, smtp: Option<&str>, options: WorkerOptions) -> OutboxWorker {
        self.outbox_worker_for(self.mailer_config(smtp), options)
    }

    pub fn outbox_worker_for(&self, config: MailerConfig, options: WorkerOptions) -> OutboxWorker {
        OutboxWorker::new(Arc::new(self.services.outbox()), Arc::new(LinkMailer::new(config)), options)
    }

    /// A worker for a TLS relay whose certificate is signed by `ca_pem`.
    pub fn start_worker_with_ca(&self, smtp: &str, ca_pem: Vec<u8>) -> Worker {
        let worker = self.outbox_worker_for(self.mailer_config_with_ca(Some(smtp), Some(ca_pem)), fast_options());
        let (stop, stopped) = watch::channel(false);
        Worker { stop, handle: Some(tokio::spawn(worker.run(stopped))) }
    }

    pub fn start_worker(&self, smtp: Option<&str>) -> Worker {
        self.start_worker_with(smtp, fast_options())
    }

    pub fn start_worker_with(&self, smtp: Option<&str>, options: WorkerOptions) -> Worker {
        let worker = self.outbox_worker(smtp, options);
        let (stop, stopped) = watch::channel(false);
        Worker { stop, handle: Some(tokio::spawn(worker.run(stopped))) }
    }
}

/// The decoded text/plain and text/html parts of a message.
pub fn parts(raw: &[u8]) -> (String, String) {
    let parsed = mailparse::parse_mail(raw).expect("valid MIME");
    let mut text = String::new();
    let mut html = String::new();
    for part in parsed.parts() {
        match part.ctype.mimetype.as_str() {
            "text/plain" => text = part.get_body().expect("text body"),
            "text/html" => html = part.get_body().expect("html body"),
            _ => {}
        }
    }
    (text, html)
}

/// The first http(s) link with a `token=` in the message's plain-text part.
pub fn link_in(raw: &[u8]) -> String {
    let (text, _) = parts(raw);
    text.split_whitespace()
        .find(|word| word.starts_with("http") && word.contains("token="))
        .unwrap_or_else(|| panic!("no link in message text:\n{text}"))
        .to_owned()
}

pub fn token_of(link: &str) -> String {
    let url = url::Url::parse(link).expect("link is a URL");
    url.query_pairs().find(|(k, _)| k == "token").map(|(_, v)| v.into_owned()).expect("token parameter")
}

/// A header of a raw message (decoded).
pub fn header(raw: &[u8], name: &str) -> Option<String> {
    use mailparse::MailHeaderMap;
    mailparse::parse_mail(raw).ok()?.headers.get_first_value(name)
}
