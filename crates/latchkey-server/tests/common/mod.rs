//! Test harness: a real router on a real port-0 listener, over a fresh database, with a
//! manual clock. Each test gets its own app; nothing is shared between tests.
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
use latchkey_core::auth::{Admin, AuthPolicy, AuthService};
use latchkey_core::clock::{Clock, ManualClock};
use latchkey_core::crypto::MasterKey;
use latchkey_core::domain::{ProjectId, ProjectSettings};
use latchkey_core::hashing::{HashCost, HasherPool, PoolSize};
use latchkey_core::store::Store;
use latchkey_server::app::{AppState, DEFAULT_BODY_LIMIT, router};
use latchkey_server::connections::ConnectionLimits;
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
    pub auth: Arc<AuthService>,
    pub admin: Admin,
    pub store: Arc<dyn Store>,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database of this app (dropped with it), when the backend is PostgreSQL.
    pub postgres: Option<TempDatabase>,
    /// Every response this app served whose status the OpenAPI document does not list for
    /// its route; checked when the app is dropped, so every test doubles as a spec check.
    pub undocumented: Undocumented,
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

/// A fresh, migrated store on `backend`; the guard (if any) drops the PostgreSQL database.
pub async fn fresh_store(backend: Backend, dir: &std::path::Path) -> (Arc<dyn Store>, Option<TempDatabase>) {
    match backend {
        Backend::Sqlite => {
            let store =
                latchkey_store::open(&format!("sqlite://{}", dir.join("test.db").display())).await.expect("open store");
            (store, None)
        }
        Backend::Postgres => {
            let db = TempDatabase::create().await;
            let store = latchkey_store::PgStore::open_with_pool_size(db.url(), TEST_PG_POOL)
                .await
                .expect("open postgres store");
            (Arc::new(store), Some(db))
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

    /// A layer that records each response whose status is undocumented for its route.
    pub fn layer(&self, router: axum::Router) -> axum::Router {
        let seen = Arc::clone(&self.0);
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

    pub async fn spawn_with(options: Options) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, postgres) = fresh_store(Backend::from_env(), dir.path()).await;
        let (master, _) = MasterKey::generate();
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()));
        let clock_dyn: Arc<dyn Clock> = clock.clone();
        let admin = Admin::new(Arc::clone(&store), master.clone(), clock_dyn.clone());
        let project = admin.create_project("Test project", ProjectSettings::default()).await.expect("project");
        let key = admin.create_api_key(project.id, "test").await.expect("key");
        let hasher = Arc::new(HasherPool::start(options.hash_cost, options.pool).expect("hasher"));
        let auth = Arc::new(AuthService::new(Arc::clone(&store), hasher, master, clock_dyn, AuthPolicy::new(ISSUER)));
        let undocumented = Undocumented::default();
        let app = undocumented.layer(router(AppState { auth: Arc::clone(&auth) }, DEFAULT_BODY_LIMIT));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = format!("http://{}", listener.local_addr().expect("addr"));
        // The production server loop (timeouts, connection cap), as `latchkey serve` runs it.
        let limits = options.connections;
        tokio::spawn(async move {
            latchkey_server::connections::serve(listener, app, limits, std::future::pending()).await.expect("serve");
        });
        Self {
            addr,
            project: project.id,
            api_key: key.plaintext,
            clock,
            auth,
            admin,
            store,
            http: reqwest::Client::new(),
            dir,
            postgres,
            undocumented,
        }
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

    /// A second project with its own key, on the same server.
    pub async fn another_project(&self) -> (ProjectId, String) {
        let project = self.admin.create_project("Other", ProjectSettings::default()).await.expect("project");
        let key = self.admin.create_api_key(project.id, "other").await.expect("key");
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
