//! The real Latchkey server (router, SQLite store, Argon2id pool), in-process on a port-0
//! listener over a fresh SQLite file, with a manual clock that starts at the real time, so
//! the SDK's local token checks (which use the real clock) see fresh tokens as fresh and a
//! clock set back as issuing expired ones. Same pattern as `latchkey-server/tests/common`.
#![allow(dead_code)]

pub mod smtp;

use std::sync::Arc;

use chrono::Utc;
use latchkey_client::Client;
use latchkey_core::auth::{Admin, AuthPolicy, Deps, Services};
use latchkey_core::clock::{Clock, ManualClock};
use latchkey_core::crypto::MasterKey;
use latchkey_core::domain::{ProjectId, ProjectSettings};
use latchkey_core::hashing::{HashCost, HasherPool, PoolSize};
use latchkey_core::store::Store;
use latchkey_server::app::{AppState, DEFAULT_BODY_LIMIT, router};

pub struct Server {
    /// `http://127.0.0.1:PORT`, also the server's public URL (the tokens' `iss`).
    pub base_url: String,
    pub project: ProjectId,
    pub api_key: String,
    pub clock: Arc<ManualClock>,
    /// The operator services (`services.admin`).
    pub admin: Admin,
    pub services: Arc<Services>,
    pub store: Arc<dyn Store>,
    /// Stops the outbox worker (when started) on drop.
    mail_worker: Option<tokio::sync::watch::Sender<bool>>,
    _dir: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = latchkey_store::open(&format!("sqlite://{}", dir.path().join("latchkey.db").display()))
            .await
            .expect("open store");
        let (master, _) = MasterKey::generate();
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let clock_dyn: Arc<dyn Clock> = clock.clone();
        // Cheap hashing keeps the suite fast; the production cost floor has its own tests.
        let hasher = Arc::new(
            HasherPool::start(
                HashCost { memory_kib: 256, iterations: 1, parallelism: 1 },
                PoolSize { threads: 2, queue: 256 },
            )
            .expect("hasher"),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let deps = Deps::new(Arc::clone(&store), master, clock_dyn);
        let services = Arc::new(Services::new(deps, hasher, AuthPolicy::new(base_url.clone())));
        let admin = services.admin.clone();
        let project = admin.projects.create_project("SDK test", ProjectSettings::default()).await.expect("project");
        let key = admin
            .projects
            .create_api_key(project.id, "sdk", latchkey_core::domain::ApiKeyScope::Auth)
            .await
            .expect("key");
        let app = router(AppState::new(Arc::clone(&services)), DEFAULT_BODY_LIMIT);
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Self {
            base_url,
            project: project.id,
            api_key: key.plaintext,
            clock,
            admin,
            services,
            store,
            mail_worker: None,
            _dir: dir,
        }
    }

    /// An SDK client for this server's project, with default settings.
    pub fn client(&self) -> Client {
        Client::new(&self.base_url, self.project.to_string(), &self.api_key).expect("client")
    }

    /// An SDK client for this server's project with a new `admin`-scope key, and the key's id
    /// (the audit trail's actor is `apiKey:<id>`).
    pub async fn admin_client(&self) -> (Client, String) {
        let key = self
            .admin
            .projects
            .create_api_key(self.project, "sdk-admin", latchkey_core::domain::ApiKeyScope::Admin)
            .await
            .expect("admin key");
        let client = Client::new(&self.base_url, self.project.to_string(), &key.plaintext).expect("client");
        (client, key.record.id.to_string())
    }

    /// A second project on the same server and an admin client for it.
    pub async fn another_admin_project(&self) -> Client {
        let project = self.admin.projects.create_project("Other", ProjectSettings::default()).await.expect("project");
        let key = self
            .admin
            .projects
            .create_api_key(project.id, "other-admin", latchkey_core::domain::ApiKeyScope::Admin)
            .await
            .expect("key");
        Client::new(&self.base_url, project.id.to_string(), &key.plaintext).expect("client")
    }

    /// Moves the server's clock (negative: into the past).
    pub fn shift_clock(&self, seconds: i64) {
        self.clock.advance(chrono::Duration::seconds(seconds));
    }

    /// A second project with its own key on the same server.
    pub async fn another_project(&self) -> (String, String) {
        let project = self.admin.projects.create_project("Other", ProjectSettings::default()).await.expect("project");
        let key = self
            .admin
            .projects
            .create_api_key(project.id, "other", latchkey_core::domain::ApiKeyScope::Auth)
            .await
            .expect("key");
        (project.id.to_string(), key.plaintext)
    }
}

impl Server {
    /// The server with its mailer pointed at `mailbox` (SMTP on loopback).
    /// Runs the server's real outbox worker and mailer (issue 3) with `mailbox` as the relay:
    /// plain SMTP on loopback, links pointing at this server's hosted pages.
    pub async fn start_with_mail(mailbox: &smtp::Mailbox) -> Self {
        use latchkey_core::mail::{OutboxWorker, WorkerOptions};
        use latchkey_server::mail::{EmlDrop, LinkMailer, MailerConfig, SmtpUrl, Templates};
        let mut server = Self::start().await;
        let config = MailerConfig {
            public_url: server.base_url.clone(),
            default_smtp: Some(
                SmtpUrl::parse(&format!("smtp://127.0.0.1:{}?tls=none", mailbox.port)).expect("smtp url"),
            ),
            default_from: "Latchkey SDK test <no-reply@latchkey.test>".into(),
            file_drop: EmlDrop { dir: server._dir.path().join("mail") },
            smtp_timeout: std::time::Duration::from_secs(5),
            templates: Arc::new(Templates::default()),
            smtp_ca_pem: None,
        };
        let options = WorkerOptions { poll: std::time::Duration::from_millis(50), ..Default::default() };
        let worker = OutboxWorker::new(Arc::new(server.services.outbox()), Arc::new(LinkMailer::new(config)), options);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(worker.run(stopped));
        server.mail_worker = Some(stop);
        server
    }

    /// The project's signing secret for external-user JWTs (HS256).
    /// Created with the server's own admin API, as `latchkey signing-secret create` does.
    pub async fn external_signing_secret(&self) -> String {
        self.admin.external.create_signing_secret(self.project).await.expect("signing secret").plaintext
    }
}
