//! Test harness: the app `latchkey serve` builds, on a real port-0 listener, over a fresh
//! database, with a manual clock. Each test gets its own app; nothing is shared between tests.
//!
//! The database is a SQLite file in a temporary directory, or, with
//! `LATCHKEY_TEST_BACKEND=postgres`, a database created for this app on the PostgreSQL server
//! of `LATCHKEY_TEST_POSTGRES_URL` (default: loopback, user `postgres`) and dropped with it.
#![allow(dead_code)]

pub mod mail;
pub mod smtp;
pub mod webdriver;

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use latchkey_core::auth::{Admin, Services};
use latchkey_core::clock::{Clock, ManualClock};
use latchkey_core::crypto::MasterKey;
use latchkey_core::domain::{ProjectId, ProjectSettings};
use latchkey_core::hashing::{HashCost, PoolSize};
use latchkey_core::store::Store;
use latchkey_server::config::{GlobalSettings, SecretUrl, ServeConfig, ServeSettings, StorageConfig};
use latchkey_server::connections::ConnectionLimits;
use latchkey_server::serve::{Application, StartOptions};
use latchkey_store::testing::TempDatabase;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const ISSUER: &str = "http://latchkey.test";

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub addr: String,
    pub project: ProjectId,
    pub api_key: String,
    pub clock: Arc<ManualClock>,
    /// The services the app was built with (the same instances its handlers call).
    pub services: Arc<Services>,
    /// The operator services (`services.admin`), as the admin commands use them.
    pub admin: Admin,
    pub store: Arc<dyn Store>,
    /// The master key the app seals secrets with (for tests that write keys to the store).
    pub master: MasterKey,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database of this app (dropped with it), when the backend is PostgreSQL.
    pub postgres: Option<TempDatabase>,
    /// Every response this app served whose status the OpenAPI document does not list for
    /// its route; checked when the app is dropped, so every test doubles as a spec check.
    pub undocumented: Undocumented,
    /// The database and master key, for [`TestApp::another_node`].
    pub storage: StorageConfig,
    /// Hashing cost and pool of this app, for [`TestApp::another_node`].
    options: Options,
}

/// The database the HTTP tests run on, from `LATCHKEY_TEST_BACKEND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `sqlite` (or unset) or `postgres`; anything else is a mistake that must not silently
    /// run the suite on the wrong backend.
    pub fn from_env() -> Self {
        match std::env::var("LATCHKEY_TEST_BACKEND").as_deref() {
            Err(_) | Ok("" | "sqlite") => Backend::Sqlite,
            Ok("postgres" | "postgresql") => Backend::Postgres,
            Ok(other) => panic!("LATCHKEY_TEST_BACKEND={other:?}: expected sqlite or postgres"),
        }
    }
}

/// Pool size for a test app on PostgreSQL: enough for the racing tests, small enough that two
/// parallel tests stay far below the server's `max_connections`.
const TEST_PG_POOL: u32 = 8;

/// A fresh database on `backend`: its URL, and the guard (if any) that drops the PostgreSQL
/// database. The app opens and migrates it as `latchkey serve` does.
pub async fn fresh_database(backend: Backend, dir: &std::path::Path) -> (String, Option<TempDatabase>) {
    match backend {
        Backend::Sqlite => (format!("sqlite://{}", dir.join("test.db").display()), None),
        Backend::Postgres => {
            let db = TempDatabase::create().await;
            (db.url().to_owned(), Some(db))
        }
    }
}

/// Responses the OpenAPI document does not describe, as `METHOD /template -> status`.
/// The app's handle fails the test when dropped with entries (unless it is already failing).
#[derive(Default)]
pub struct Undocumented(pub Arc<std::sync::Mutex<Vec<String>>>);

impl Undocumented {
    pub fn take(&self) -> Vec<String> {
        self.0.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default()
    }

    /// Wraps a router in a layer that records each response whose status is undocumented for
    /// its route.
    pub fn layer(&self) -> impl FnOnce(axum::Router) -> axum::Router + Send + 'static {
        let seen = Arc::clone(&self.0);
        move |router| Self::record_into(seen, router)
    }

    fn record_into(seen: Arc<std::sync::Mutex<Vec<String>>>, router: axum::Router) -> axum::Router {
        let doc = Arc::new(latchkey_server::openapi::document());
        router.layer(axum::middleware::from_fn(move |request: axum::extract::Request, next: axum::middleware::Next| {
            let seen = Arc::clone(&seen);
            let doc = Arc::clone(&doc);
            async move {
                let method = request.method().clone();
                let route = request.extensions().get::<axum::extract::MatchedPath>().map(|p| p.as_str().to_owned());
                let response = next.run(request).await;
                let status = response.status().as_u16();
                if let Some(route) = route
                    && latchkey_server::openapi::documents(&doc, &method, &route, status) == Some(false)
                    && let Ok(mut list) = seen.lock()
                {
                    list.push(format!("{method} {route} -> {status}"));
                }
                response
            }
        }))
    }
}

impl Drop for Undocumented {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let mut list = self.take();
            list.sort();
            list.dedup();
            assert!(list.is_empty(), "responses not documented in /openapi.json: {list:?}");
        }
    }
}

/// Options for [`TestApp::spawn_with`].
#[derive(Clone)]
pub struct Options {
    pub hash_cost: HashCost,
    pub pool: PoolSize,
    /// Timeouts and the connection cap of the server loop (production defaults).
    pub connections: ConnectionLimits,
}

impl Default for Options {
    fn default() -> Self {
        // Cheap hashing keeps the suite fast; the production floor is pinned by its own tests.
        Self {
            hash_cost: HashCost { memory_kib: 256, iterations: 1, parallelism: 1 },
            pool: PoolSize { threads: 2, queue: 256 },
            connections: ConnectionLimits::default(),
        }
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Options::default()).await
    }

    /// Builds the app through [`Application::build`], the start-up path of `latchkey serve`,
    /// with a manual clock, port 0, no bootstrap and no outbox worker (tests run their own).
    pub async fn spawn_with(options: Options) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let (database_url, postgres) = fresh_database(Backend::from_env(), dir.path()).await;
        let global = GlobalSettings {
            database_url: Some(SecretUrl::new(database_url)),
            database_pool_size: TEST_PG_POOL,
            data_dir: dir.path().to_owned(),
            ..Default::default()
        };
        let storage = StorageConfig::resolve(&global, Some(MasterKey::generate().1)).expect("storage settings");
        let master = storage.master_key.clone();
        let settings =
            ServeSettings { bind: "127.0.0.1:0".into(), public_url: Some(ISSUER.into()), ..Default::default() };
        let mut config = ServeConfig::resolve(&settings).expect("serve config");
        // Cheap hashing keeps the suite fast; the production floor is pinned by its own tests.
        config.hash_cost = options.hash_cost;
        config.hash_pool = options.pool;
        config.connections = options.connections;
        let options_kept = options.clone();
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()));
        let clock_dyn: Arc<dyn Clock> = clock.clone();
        let undocumented = Undocumented::default();
        let start = StartOptions {
            clock: clock_dyn,
            bootstrap: false,
            outbox_worker: false,
            wrap_router: Some(Box::new(undocumented.layer())),
        };
        let app = Application::build(&storage, config, start).await.expect("build the app");
        let addr = format!("http://{}", app.address().expect("addr"));
        let (services, store) = (Arc::clone(app.services()), Arc::clone(app.store()));
        tokio::spawn(async move { app.run_until_stopped(std::future::pending()).await.expect("serve") });
        let admin = services.admin.clone();
        let project = admin.projects.create_project("Test project", ProjectSettings::default()).await.expect("project");
        let key = admin
            .projects
            .create_api_key(project.id, "test", latchkey_core::domain::ApiKeyScope::Auth)
            .await
            .expect("key");
        Self {
            addr,
            project: project.id,
            api_key: key.plaintext,
            clock,
            services,
            admin,
            store,
            master,
            http: reqwest::Client::new(),
            dir,
            postgres,
            undocumented,
            storage,
            options: options_kept,
        }
    }

    /// A second server on this app's database, master key and clock, as another node of the
    /// deployment, started through [`Application::build`] with `settings` (bind and public URL
    /// are set here). Its address, or the start-up error.
    pub async fn another_node(&self, settings: ServeSettings) -> anyhow::Result<String> {
        let settings = ServeSettings { bind: "127.0.0.1:0".into(), public_url: Some(ISSUER.into()), ..settings };
        let mut config = ServeConfig::resolve(&settings)?;
        config.hash_cost = self.options.hash_cost;
        config.hash_pool = self.options.pool;
        config.connections = self.options.connections;
        let start = StartOptions {
            clock: self.clock.clone(),
            bootstrap: false,
            outbox_worker: false,
            wrap_router: Some(Box::new(self.undocumented.layer())),
        };
        let app = Application::build(&self.storage, config, start).await?;
        let addr = format!("http://{}", app.address()?);
        tokio::spawn(async move { app.run_until_stopped(std::future::pending()).await.expect("serve") });
        Ok(addr)
    }

    /// Everything the database holds, as bytes to search for secrets: the SQLite file and
    /// its WAL, or every PostgreSQL row as text plus the raw bytes of every BYTEA value.
    pub async fn database_bytes(&self) -> Vec<u8> {
        match &self.postgres {
            Some(db) => db.contents().await,
            None => ["test.db", "test.db-wal"]
                .iter()
                .flat_map(|file| std::fs::read(self.dir.path().join(file)).unwrap_or_default())
                .collect(),
        }
    }

    /// Every row of every table as `(table, row as text)`, read through SQL on either backend
    /// (a deleted row left in a free page of the SQLite file is not a row).
    pub async fn database_rows(&self) -> Vec<(String, String)> {
        match &self.postgres {
            Some(db) => db.rows().await,
            None => latchkey_store::testing::sqlite_rows(&self.dir.path().join("test.db")).await,
        }
    }

    /// A second project with its own key, on the same server.
    /// Gives `email`'s account in `project` a deliberately slow password hash (`iterations` of
    /// Argon2id at 8 MiB): a stored hash's own parameters decide what verifying it costs, so its
    /// sign-ins hold a hashing thread that long.
    pub async fn make_password_slow(&self, project: ProjectId, email: &str, password: &str, iterations: u32) {
        let slow = latchkey_core::hashing::HasherPool::start(
            HashCost { memory_kib: 8 * 1024, iterations, parallelism: 1 },
            PoolSize { threads: 1, queue: 1 },
        )
        .expect("slow pool");
        let password = latchkey_core::domain::Password::candidate(password.into()).expect("password");
        let slow_hash = slow.hash(project, password).await.expect("slow hash");
        let user = self.store.find_user_by_email(project, email).await.unwrap().expect("user");
        let old = user.password_hash.clone().expect("hash");
        assert!(self.store.upgrade_password_hash(project, user.id, &old, &slow_hash, self.clock.now()).await.unwrap());
    }

    pub async fn another_project(&self) -> (ProjectId, String) {
        let project = self.admin.projects.create_project("Other", ProjectSettings::default()).await.expect("project");
        let key = self
            .admin
            .projects
            .create_api_key(project.id, "other", latchkey_core::domain::ApiKeyScope::Auth)
            .await
            .expect("key");
        (project.id, key.plaintext)
    }

    pub fn url(&self, project: ProjectId, path: &str) -> String {
        format!("{}/v7/{}{}", self.addr, project, path)
    }

    /// The server's current time as a Unix timestamp.
    pub fn clock_now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    pub fn advance(&self, seconds: i64) {
        self.clock.advance(Duration::seconds(seconds));
    }

    /// POST JSON to this project's `path` with this project's key.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.post_as(self.project, &self.api_key, path, body).await
    }

    pub async fn post_as(&self, project: ProjectId, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let response =
            self.http.post(self.url(project, path)).bearer_auth(key).json(&body).send().await.expect("request");
        read(response).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response =
            self.http.get(self.url(self.project, path)).bearer_auth(&self.api_key).send().await.expect("request");
        read(response).await
    }

    /// A new `admin`-scope API key of `project`.
    pub async fn admin_key_of(&self, project: ProjectId) -> String {
        let scope = latchkey_core::domain::ApiKeyScope::Admin;
        self.admin.projects.create_api_key(project, "admin", scope).await.expect("admin key").plaintext
    }

    /// A call of this project's admin API (`path` after `/admin`) with `key`; `body` is sent
    /// as JSON unless it is `Value::Null`.
    pub async fn admin_call(&self, method: reqwest::Method, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let url = self.url(self.project, &format!("/admin{path}"));
        let mut request = self.http.request(method, url).bearer_auth(key);
        if !body.is_null() {
            request = request.json(&body);
        }
        read(request.send().await.expect("request")).await
    }

    /// Signs up `email` with a valid password and returns the response body.
    pub async fn sign_up(&self, email: &str) -> Value {
        let (status, body) = self.post("/auth/sign-up", json!({ "email": email, "password": "s3cur3P@ss" })).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }
}

pub async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, body)
}

/// Asserts an API error shape and returns its body.
#[track_caller]
pub fn assert_error(actual: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(actual.0, status, "body: {}", actual.1);
    assert_eq!(actual.1["code"], code, "body: {}", actual.1);
    assert!(actual.1["error"].as_str().is_some_and(|s| !s.is_empty()), "error message missing: {}", actual.1);
}

/// The fields of API.md's AuthUser object, exactly.
pub const AUTH_USER_FIELDS: [&str; 20] = [
    "id",
    "projectId",
    "foreignId",
    "role",
    "email",
    "name",
    "username",
    "avatar",
    "bio",
    "birthdate",
    "location",
    "metadata",
    "reputation",
    "isVerified",
    "isActive",
    "lastActive",
    "createdAt",
    "updatedAt",
    "suspensions",
    "authMethods",
];
