//! Real PostgreSQL infrastructure for the outage and pooler tests: a private PostgreSQL
//! instance the test may stop (never the shared server), a real PgBouncer, and real
//! `latchkey serve` processes. Servers refuse to run as root, so both run as the `postgres`
//! OS user (tests run as root, as CI does).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_latchkey");
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// These tests need PostgreSQL; they run in scripts/test's PostgreSQL pass only.
pub fn postgres_pass() -> bool {
    if std::env::var("LATCHKEY_TEST_BACKEND").as_deref() == Ok("postgres") {
        return true;
    }
    eprintln!("skipped: a PostgreSQL-only test; it runs with LATCHKEY_TEST_BACKEND=postgres");
    false
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A directory owned by the `postgres` user, removed on drop.
fn postgres_owned_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix("latchkey-pg-").tempdir().unwrap();
    let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status().unwrap();
    assert!(status.success(), "chown the test directory to postgres");
    dir
}

/// Runs `program args` as the `postgres` user.
fn as_postgres(program: impl AsRef<Path>) -> Command {
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", "postgres", "--"]).arg(program.as_ref());
    cmd
}

/// A PostgreSQL 15 instance of its own (initdb into a temp dir, a free port, trust auth).
pub struct PrivatePostgres {
    dir: tempfile::TempDir,
    pub port: u16,
}

impl PrivatePostgres {
    pub fn start() -> Self {
        let dir = postgres_owned_dir();
        let data = dir.path().join("data");
        let output = as_postgres(format!("{PG_BIN}/initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(output.status.success(), "initdb: {}", String::from_utf8_lossy(&output.stderr));
        let this = Self { port: free_port(), dir };
        this.pg_ctl_start();
        this
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn pg_ctl_start(&self) {
        let options =
            format!("-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off", self.port, self.dir.path().display());
        let output = as_postgres(format!("{PG_BIN}/pg_ctl"))
            .args(["-w", "-t", "60", "-o", &options, "-l"])
            .arg(self.dir.path().join("log"))
            .arg("-D")
            .arg(self.data())
            .arg("start")
            .output()
            .unwrap();
        assert!(output.status.success(), "pg_ctl start: {}", String::from_utf8_lossy(&output.stderr));
    }

    /// Stops the server at once, as a crash or a failover would (`-m immediate`).
    pub fn stop_immediately(&self) {
        let output = as_postgres(format!("{PG_BIN}/pg_ctl"))
            .args(["-w", "-m", "immediate", "-D"])
            .arg(self.data())
            .arg("stop")
            .output()
            .unwrap();
        assert!(output.status.success(), "pg_ctl stop: {}", String::from_utf8_lossy(&output.stderr));
    }

    /// Starts it again on the same port and data.
    pub fn restart(&self) {
        self.pg_ctl_start();
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = as_postgres(format!("{PG_BIN}/pg_ctl"))
            .args(["-m", "immediate", "-D"])
            .arg(self.data())
            .arg("stop")
            .output();
    }
}

/// A real PgBouncer in front of the shared server's database `database`, with a pool of
/// `pool_size` server connections.
pub struct PgBouncer {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
    database: String,
}

impl PgBouncer {
    pub fn start(database: &str, pool_mode: &str, pool_size: u32) -> Self {
        let dir = postgres_owned_dir();
        let port = free_port();
        let ini = dir.path().join("pgbouncer.ini");
        let users = dir.path().join("users.txt");
        std::fs::write(&users, "\"postgres\" \"\"\n").unwrap();
        std::fs::write(
            &ini,
            format!(
                "[databases]\n\
                 {database} = host=127.0.0.1 port=5432 dbname={database} pool_size={pool_size}\n\
                 [pgbouncer]\n\
                 listen_addr = 127.0.0.1\n\
                 listen_port = {port}\n\
                 unix_socket_dir =\n\
                 auth_type = trust\n\
                 auth_file = {users}\n\
                 pool_mode = {pool_mode}\n\
                 max_client_conn = 200\n\
                 logfile = {log}\n",
                users = users.display(),
                log = dir.path().join("pgbouncer.log").display(),
            ),
        )
        .unwrap();
        let _ = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status();
        // `-u`: pgbouncer refuses to run as root; it switches to `postgres` itself, so the
        // child is pgbouncer (SIGTERM: immediate shutdown).
        let child = Command::new("pgbouncer")
            .args(["-u", "postgres"])
            .arg(&ini)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pgbouncer (scripts/install-test-deps installs it)");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "pgbouncer did not listen: {}", Self::log_of(&dir));
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, dir, port, database: database.to_owned() }
    }

    fn log_of(dir: &tempfile::TempDir) -> String {
        std::fs::read_to_string(dir.path().join("pgbouncer.log")).unwrap_or_default()
    }

    pub fn log(&self) -> String {
        Self::log_of(&self.dir)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{}", self.port, self.database)
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        // SAFETY: plain signal delivery to our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `latchkey` command on `url` with `master_key` and `env`, nothing inherited from the
/// caller's `LATCHKEY_*` environment.
pub fn latchkey(url: &str, master_key: &str, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("LATCHKEY_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("LATCHKEY_DATABASE_URL", url)
        .env("LATCHKEY_MASTER_KEY", master_key)
        .env("LATCHKEY_DATABASE_POOL_SIZE", "4")
        .env("LATCHKEY_DATA_DIR", "/nonexistent/latchkey-must-not-use-this")
        .env("NO_COLOR", "1");
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd
}

/// A running `latchkey serve`.
pub struct Serve {
    child: Child,
    pub base: String,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
}

impl Serve {
    pub fn start(url: &str, master_key: &str, env: &[(&str, &str)]) -> Self {
        let mut child = latchkey(url, master_key, env)
            .env("LATCHKEY_LOG_FORMAT", "json")
            .env("LATCHKEY_LOG", "info")
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let (address_tx, address_rx) = mpsc::channel();
        let (err_tx, stderr) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str::<Value>(&line)
                    && let Some(address) = event["fields"]["address"].as_str()
                {
                    let _ = address_tx.send(address.to_owned());
                }
                let _ = err_tx.send(line);
            }
        });
        let (line_tx, stdout) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = line_tx.send(line);
            }
        });
        let Ok(address) = address_rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            let log: Vec<String> = stderr.try_iter().collect();
            panic!("serve did not report its address; its log:\n{}", log.join("\n"));
        };
        Self { child, base: format!("http://{address}"), stdout, stderr }
    }

    /// The first-start credentials printed on stdout: (project id, API key).
    pub fn bootstrap_credentials(&self) -> (String, String) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut lines = Vec::new();
        while Instant::now() < deadline {
            lines.extend(self.stdout.try_iter());
            let field = |label: &str| {
                lines.iter().find_map(|l: &String| l.trim().strip_prefix(label).map(|rest| rest.trim().to_owned()))
            };
            if let (Some(project), Some(key)) = (field("project id:"), field("api key:")) {
                return (project, key);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no first-start credentials printed: {lines:?}");
    }

    /// Its log lines so far.
    pub fn log(&self) -> Vec<String> {
        self.stderr.try_iter().collect()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer: status, JSON body (Null if none), and how long it took.
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub took: Duration,
}

impl Answer {
    pub fn code(&self) -> Option<&str> {
        self.body["code"].as_str()
    }
}

/// A client for one project of a running server.
#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
    pub project: String,
    pub key: String,
}

impl Api {
    pub fn new(base: &str, project: &str, key: &str) -> Self {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
        Self { client, base: base.to_owned(), project: project.to_owned(), key: key.to_owned() }
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        let started = Instant::now();
        let response = self
            .client
            .post(format!("{}/v7/{}{path}", self.base, self.project))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        Answer { status, body, took: started.elapsed() }
    }

    pub async fn get(&self, path: &str) -> Answer {
        let started = Instant::now();
        let response =
            self.client.get(format!("{}{path}", self.base)).send().await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        Answer { status, body, took: started.elapsed() }
    }

    pub async fn sign_up(&self, email: &str) -> Answer {
        self.post("/auth/sign-up", json!({"email": email, "password": "s3cur3P@ss"})).await
    }

    pub async fn sign_in(&self, email: &str) -> Answer {
        self.post("/auth/sign-in", json!({"email": email, "password": "s3cur3P@ss"})).await
    }

    pub async fn refresh(&self, token: &str) -> Answer {
        self.post("/auth/request-new-access-token", json!({"refreshToken": token})).await
    }

    pub async fn sign_out(&self, token: &str) -> Answer {
        self.post("/auth/sign-out", json!({"refreshToken": token})).await
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap()
}
