//! The real `latchkey` binary on PostgreSQL (`LATCHKEY_DATABASE_URL=postgres://…`): two
//! `serve` processes share one fresh database (bootstrap once, sessions and revocation seen
//! by both, an API key made by the admin CLI works on both at once), the master key is
//! mandatory, and the pool size is validated.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use latchkey_store::testing::TempDatabase;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_latchkey");

/// A `latchkey` command on `db` with `master_key`, and nothing inherited from the caller's
/// `LATCHKEY_*` environment.
fn latchkey(db: &TempDatabase, master_key: Option<&str>) -> Command {
    on_database(Command::new(BIN), db, master_key)
}

/// `cmd` with the environment of [`latchkey`].
fn on_database(mut cmd: Command, db: &TempDatabase, master_key: Option<&str>) -> Command {
    for (key, _) in std::env::vars() {
        if key.starts_with("LATCHKEY_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("LATCHKEY_DATABASE_URL", db.url()).env("LATCHKEY_DATABASE_POOL_SIZE", "4").env("NO_COLOR", "1");
    // The data directory must not be needed with a server database: point it nowhere usable.
    cmd.env("LATCHKEY_DATA_DIR", "/nonexistent/latchkey-must-not-use-this");
    if let Some(key) = master_key {
        cmd.env("LATCHKEY_MASTER_KEY", key);
    }
    cmd
}

struct Server {
    child: Child,
    base: String,
    address: mpsc::Receiver<String>,
    stdout: mpsc::Receiver<String>,
}

impl Server {
    fn start(db: &TempDatabase, master_key: &str) -> Self {
        let mut command = latchkey(db, Some(master_key));
        command.args(["serve", "--bind", "127.0.0.1:0"]);
        let mut server = Self::spawn(command);
        server.wait_address();
        server
    }

    /// Spawns `command` (which must become `latchkey serve`) with JSON logs at info.
    fn spawn(mut command: Command) -> Self {
        let mut child = command
            .env("LATCHKEY_LOG_FORMAT", "json")
            .env("LATCHKEY_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let (address_tx, address_rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str::<Value>(&line)
                    && let Some(address) = event["fields"]["address"].as_str()
                {
                    let _ = address_tx.send(address.to_owned());
                }
            }
        });
        let (line_tx, stdout) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = line_tx.send(line);
            }
        });
        Self { child, base: String::new(), address: address_rx, stdout }
    }

    /// Waits until the server listens (after its bootstrap) and learns its address.
    fn wait_address(&mut self) {
        let address = self.address.recv_timeout(Duration::from_secs(30)).expect("server did not report its address");
        self.base = format!("http://{address}");
    }

    /// Lines printed on stdout so far (the first-start credentials, if any).
    fn printed(&self) -> Vec<String> {
        std::thread::sleep(Duration::from_millis(200));
        self.stdout.try_iter().collect()
    }

    fn stop(mut self) -> std::process::ExitStatus {
        // SAFETY: plain signal delivery to our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        self.child.wait().expect("wait for serve")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn field_after(lines: &[String], label: &str) -> Option<String> {
    lines.iter().find_map(|l| l.trim().strip_prefix(label).map(|rest| rest.trim().to_owned()))
}

fn post(base: &str, project: &str, key: &str, path: &str, body: Value) -> (u16, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(format!("{base}/v7/{project}{path}"))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    })
}

fn fresh_database() -> TempDatabase {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(TempDatabase::create())
}

#[test]
fn two_processes_share_one_postgres_database() {
    let db = fresh_database();
    let (_, master) = latchkey_core::crypto::MasterKey::generate();

    let a = Server::start(&db, &master);
    let lines = a.printed();
    let project = field_after(&lines, "project id:").expect("the first start on an empty database bootstraps");
    let key = field_after(&lines, "api key:").expect("and prints an API key");
    let b = Server::start(&db, &master);
    assert_eq!(
        field_after(&b.printed(), "api key:"),
        None,
        "the second process finds the project and does not bootstrap"
    );

    // A user signed up through A signs in through B; a session refreshed on B is ended on A,
    // and B sees that at once: every piece of session state is in the database.
    let credentials = json!({"email": "shared@example.com", "password": "s3cur3P@ss"});
    let (status, created) = post(&a.base, &project, &key, "/auth/sign-up", credentials.clone());
    assert_eq!(status, 201, "{created}");
    let (status, signed_in) = post(&b.base, &project, &key, "/auth/sign-in", credentials);
    assert_eq!(status, 200, "{signed_in}");
    let refresh = signed_in["refreshToken"].as_str().unwrap();
    let (status, rotated) =
        post(&b.base, &project, &key, "/auth/request-new-access-token", json!({"refreshToken": refresh}));
    assert_eq!(status, 200, "{rotated}");
    let newest = rotated["refreshToken"].as_str().unwrap();
    let (status, _) = post(&a.base, &project, &key, "/auth/sign-out", json!({"refreshToken": newest}));
    assert_eq!(status, 204);
    let (status, refused) =
        post(&b.base, &project, &key, "/auth/request-new-access-token", json!({"refreshToken": newest}));
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("auth/refresh-token-invalid")),
        "a session ended on A is ended on B: {refused}"
    );

    // The admin CLI works on the same database while both serve; its key works on both.
    let output = latchkey(&db, Some(&master))
        .args(["api-key", "create", "--project", &project, "--name", "cli", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let created: Value = serde_json::from_slice(&output.stdout).unwrap();
    let cli_key = created["apiKey"].as_str().unwrap();
    for (server, email) in [(&a, "via-a@example.com"), (&b, "via-b@example.com")] {
        let body = json!({"email": email, "password": "s3cur3P@ss"});
        let (status, answer) = post(&server.base, &project, cli_key, "/auth/sign-up", body);
        assert_eq!(status, 201, "{answer}");
    }
    // The second sign-up of the same email through the other process is a conflict.
    let body = json!({"email": "via-a@example.com", "password": "s3cur3P@ss"});
    let (status, answer) = post(&b.base, &project, cli_key, "/auth/sign-up", body);
    assert_eq!((status, answer["code"].as_str()), (409, Some("DUPLICATE_EMAIL")), "{answer}");

    assert!(a.stop().success(), "graceful shutdown exits 0");
    assert!(b.stop().success());

    // A wrong master key is refused before serving, as with SQLite.
    let (_, wrong) = latchkey_core::crypto::MasterKey::generate();
    let output = latchkey(&db, Some(&wrong)).args(["project", "list"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("master key does not match"));
}

#[test]
fn postgres_settings_are_checked_at_start() {
    let db = fresh_database();
    let output = latchkey(&db, None).arg("serve").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("LATCHKEY_MASTER_KEY is required"), "no key is generated for a server database: {stderr}");

    let (_, master) = latchkey_core::crypto::MasterKey::generate();
    for size in ["0", "100000", "many"] {
        let output =
            latchkey(&db, Some(&master)).env("LATCHKEY_DATABASE_POOL_SIZE", size).arg("serve").output().unwrap();
        assert!(!output.status.success(), "pool size {size} must be refused");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("LATCHKEY_DATABASE_POOL_SIZE") || stderr.contains("database-pool-size"), "{stderr}");
    }

    // An unreachable server fails the start with a message (after the connect timeout's
    // retries, 5 s by default), not a hang or a panic.
    let output = latchkey(&db, Some(&master))
        .env("LATCHKEY_DATABASE_URL", "postgres://postgres:db-pw-never-printed@127.0.0.1:1/latchkey")
        .args(["project", "list"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot open the database"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("db-pw-never-printed"), "the database password is not printed: {stderr}");
}

/// Issue 8 item 6: three `serve` processes released at the same instant on an empty
/// database, over several rounds. Each round exactly one project exists afterwards and exactly
/// one process printed credentials, which work on every process.
#[test]
fn processes_started_together_on_an_empty_database_bootstrap_once() {
    const ROUNDS: usize = 5;
    const PROCESSES: usize = 3;
    let (_, master) = latchkey_core::crypto::MasterKey::generate();
    for round in 0..ROUNDS {
        let db = fresh_database();
        let gate = tempfile::tempdir().unwrap();
        let go = gate.path().join("go");
        // Each process waits in a shell for the gate file, then becomes `latchkey serve`:
        // all three are spawned first and released together (within the 5 ms poll).
        let mut servers: Vec<Server> = (0..PROCESSES)
            .map(|_| {
                let mut shell = Command::new("sh");
                shell
                    .args([
                        "-c",
                        r#"while [ ! -e "$GATE" ]; do sleep 0.005; done; exec "$BIN" serve --bind 127.0.0.1:0"#,
                    ])
                    .env("GATE", &go)
                    .env("BIN", BIN);
                Server::spawn(on_database(shell, &db, Some(&master)))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        std::fs::write(&go, b"").unwrap();
        for server in &mut servers {
            server.wait_address();
        }
        let printed: Vec<Vec<String>> = servers.iter().map(Server::printed).collect();
        let bootstrapped: Vec<&Vec<String>> =
            printed.iter().filter(|lines| field_after(lines, "api key:").is_some()).collect();
        assert_eq!(bootstrapped.len(), 1, "round {round}: exactly one process prints credentials: {printed:#?}");
        let output = latchkey(&db, Some(&master)).args(["project", "list", "--json"]).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let projects: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(projects.as_array().map(Vec::len), Some(1), "round {round}: exactly one project: {projects}");
        let project = field_after(bootstrapped[0], "project id:").unwrap();
        let key = field_after(bootstrapped[0], "api key:").unwrap();
        assert_eq!(projects[0]["id"], project.as_str(), "the printed project is the one that exists");
        for (n, server) in servers.iter().enumerate() {
            let body = json!({"email": format!("user{n}@example.com"), "password": "s3cur3P@ss"});
            let (status, answer) = post(&server.base, &project, &key, "/auth/sign-up", body);
            assert_eq!(status, 201, "round {round}: the printed key works on process {n}: {answer}");
        }
        for server in servers {
            assert!(server.stop().success());
        }
    }
}
