//! The real `latchkey` binary: first start, restart, admin subcommands against a running
//! server, start-up validation, graceful shutdown, and logs free of secrets.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_latchkey");

fn latchkey(data_dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("LATCHKEY_DATA_DIR", data_dir);
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Server {
    child: Child,
    base: String,
    stdout: std::sync::mpsc::Receiver<String>,
    stderr: std::thread::JoinHandle<String>,
}

impl Server {
    fn start(data_dir: &Path) -> Self {
        let port = free_port();
        let mut child = latchkey(data_dir)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("LATCHKEY_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn latchkey");
        let (tx, stdout) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err.read_to_string(&mut text);
            text
        });
        let base = format!("http://127.0.0.1:{port}");
        let server = Self { child, base, stdout, stderr };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if reqwest::blocking_get(&format!("{}/readyz", self.base)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server did not become ready");
    }

    /// Lines printed on stdout so far.
    fn printed(&self) -> Vec<String> {
        self.stdout.try_iter().collect()
    }

    /// SIGTERM, then the exit status and everything logged.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        // SAFETY: plain signal delivery to our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, self.stderr.join().unwrap());
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Tiny blocking HTTP via reqwest's async client on a throwaway runtime.
mod reqwest {
    pub fn blocking_get(url: &str) -> bool {
        runtime().block_on(async { ::reqwest::get(url).await.map(|r| r.status().is_success()).unwrap_or(false) })
    }

    pub fn post(url: &str, key: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        runtime().block_on(async {
            let response = ::reqwest::Client::new().post(url).bearer_auth(key).json(body).send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
        })
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }
}

fn field_after(lines: &[String], label: &str) -> String {
    lines
        .iter()
        .find_map(|l| l.trim().strip_prefix(label).map(|rest| rest.trim().to_owned()))
        .unwrap_or_else(|| panic!("{label} not printed in {lines:#?}"))
}

fn run_json(data_dir: &Path, args: &[&str]) -> Value {
    let output = latchkey(data_dir).args(args).output().unwrap();
    assert!(output.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{args:?}: {}", String::from_utf8_lossy(&output.stdout)))
}

#[test]
fn help_explains_the_commands_and_variables() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for needle in ["serve", "project", "api-key", "LATCHKEY_DATABASE_URL", "LATCHKEY_MASTER_KEY", "--config"] {
        assert!(text.contains(needle), "--help mentions {needle}:\n{text}");
    }
    let serve = Command::new(BIN).args(["serve", "--help"]).output().unwrap();
    let text = String::from_utf8(serve.stdout).unwrap();
    for needle in ["LATCHKEY_BIND", "LATCHKEY_PUBLIC_URL", "LATCHKEY_HASH_QUEUE"] {
        assert!(text.contains(needle), "serve --help mentions {needle}");
    }
}

#[test]
fn first_start_bootstraps_once_and_data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    std::thread::sleep(Duration::from_millis(200));
    let lines = server.printed();
    let project = field_after(&lines, "project id:");
    let key = field_after(&lines, "api key:");
    assert!(key.starts_with("lk_"));
    assert!(lines.iter().any(|l| l.contains("curl") && l.contains("/auth/sign-up")), "a ready-to-paste curl line");

    let sign_up = format!("{}/v7/{project}/auth/sign-up", server.base);
    let body = json!({"email": "user@example.com", "password": "s3cur3P@ss", "name": "Alice", "username": "alice"});
    let (status, created) = reqwest::post(&sign_up, &key, &body);
    assert_eq!(status, 201, "{created}");
    let refresh = created["refreshToken"].as_str().unwrap().to_owned();
    let (status, exit_log) = server.stop();
    assert!(status.success(), "graceful shutdown exits 0");
    // No secret of this run appears in the (debug-level) log.
    for secret in [key.as_str(), "s3cur3P@ss", refresh.as_str(), created["accessToken"].as_str().unwrap()] {
        assert!(!exit_log.contains(secret), "log leaked a secret");
    }
    let master = std::fs::read_to_string(dir.path().join("master.key")).unwrap();
    assert!(!exit_log.contains(master.trim()), "log leaked the master key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("master.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "master key readable by owner only");
    }

    // Restart: no second bootstrap, and the user can sign in.
    let again = Server::start(dir.path());
    std::thread::sleep(Duration::from_millis(200));
    assert!(!again.printed().iter().any(|l| l.contains("api key:")), "bootstrap happens only on an empty database");
    let sign_in = format!("{}/v7/{project}/auth/sign-in", again.base);
    let (status, _) = reqwest::post(&sign_in, &key, &json!({"email": "user@example.com", "password": "s3cur3P@ss"}));
    assert_eq!(status, 200);
    again.stop();
}

#[test]
fn admin_commands_manage_projects_and_keys_of_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());

    let project = run_json(dir.path(), &["project", "create", "--name", "Shop", "--access-token-ttl", "10m", "--json"]);
    let id = project["id"].as_str().unwrap().to_owned();
    assert_eq!(project["name"], "Shop");
    assert_eq!(project["accessTokenTtl"], 600);
    let listed = run_json(dir.path(), &["project", "list", "--json"]);
    assert!(listed.as_array().unwrap().iter().any(|p| p["id"] == id.as_str()));
    let updated = run_json(dir.path(), &["project", "set", "--project", &id, "--refresh-token-ttl", "7d", "--json"]);
    assert_eq!(updated["refreshTokenTtl"], 7 * 86400);
    assert_eq!(updated["mail"]["resetTtl"], 3600, "with the project's email settings");
    assert_eq!(run_json(dir.path(), &["project", "show", "--project", &id, "--json"])["refreshTokenTtl"], 7 * 86400);

    let created = run_json(dir.path(), &["api-key", "create", "--project", &id, "--name", "backend", "--json"]);
    let key = created["apiKey"].as_str().unwrap().to_owned();
    let key_id = created["id"].as_str().unwrap().to_owned();
    let keys = run_json(dir.path(), &["api-key", "list", "--project", &id, "--json"]);
    let listed_text = keys.to_string();
    assert!(listed_text.contains(&key[..11]), "the prefix is listed");
    assert!(!listed_text.contains(&key), "the key itself is never listed");

    let url = format!("{}/v7/{id}/auth/sign-up", server.base);
    let (status, body) = reqwest::post(&url, &key, &json!({"email": "a@example.com", "password": "s3cur3P@ss"}));
    assert_eq!(status, 201);
    let token = body["accessToken"].as_str().unwrap();
    let claims = token.split('.').nth(1).unwrap();
    use base64::Engine;
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 600, "per-project access TTL");

    let revoke = latchkey(dir.path()).args(["api-key", "revoke", "--project", &id, &key_id]).output().unwrap();
    assert!(revoke.status.success());
    let (status, body) = reqwest::post(&url, &key, &json!({"email": "b@example.com", "password": "s3cur3P@ss"}));
    assert_eq!((status, body["code"].as_str()), (401, Some("auth/invalid-api-key")), "revoked key refused at once");
    let twice = latchkey(dir.path()).args(["api-key", "revoke", "--project", &id, &key_id]).output().unwrap();
    assert!(!twice.status.success(), "revoking twice reports an error");

    let bad =
        latchkey(dir.path()).args(["project", "set", "--project", &id, "--access-token-ttl", "2d"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("access-token lifetime"));
    server.stop();
}

#[test]
fn bad_configuration_fails_at_start_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("LATCHKEY_BIND", "not-an-address")], "LATCHKEY_BIND"),
        (vec![("LATCHKEY_PUBLIC_URL", "ftp://x")], "LATCHKEY_PUBLIC_URL"),
        (vec![("LATCHKEY_MASTER_KEY", "short")], "LATCHKEY_MASTER_KEY"),
        (vec![("LATCHKEY_DATABASE_URL", "mysql://x")], "LATCHKEY_DATABASE_URL"),
        (vec![("LATCHKEY_HASH_MEMORY_KIB", "1024")], "OWASP"),
        (vec![("LATCHKEY_LOG_FORMAT", "xml")], "LATCHKEY_LOG_FORMAT"),
    ];
    for (vars, needle) in cases {
        let output = latchkey(dir.path()).arg("serve").envs(vars.iter().copied()).output().unwrap();
        assert!(!output.status.success(), "{vars:?} must fail");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(needle), "{vars:?}: message names {needle}: {stderr}");
    }
    let config = dir.path().join("latchkey.toml");
    std::fs::write(&config, "bind = \"127.0.0.1:1\"\nbnid = 2\n").unwrap();
    let output = latchkey(dir.path()).args(["serve", "--config"]).arg(&config).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("bnid"), "unknown TOML keys are named");

    // A master key that does not match the database is refused before serving.
    let server = Server::start(dir.path());
    server.stop();
    let (_, other) = latchkey_core::crypto::MasterKey::generate();
    let output = latchkey(dir.path()).arg("serve").env("LATCHKEY_MASTER_KEY", other).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("master key does not match"));
}

#[test]
fn a_broken_page_template_stops_serve_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("pages");
    std::fs::create_dir(&templates).unwrap();
    let broken = templates.join("outcome.html");
    std::fs::write(&broken, "<h1>{{ heading }</h1>").unwrap();
    let mut by_flag = latchkey(dir.path());
    by_flag.args(["serve", "--bind", "127.0.0.1:0", "--page-templates"]).arg(&templates);
    let mut by_variable = latchkey(dir.path());
    by_variable.args(["serve", "--bind", "127.0.0.1:0"]).env("LATCHKEY_PAGE_TEMPLATES", &templates);
    for mut command in [by_flag, by_variable] {
        let output = command.output().unwrap();
        assert!(!output.status.success(), "a broken template must stop start-up");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("LATCHKEY_PAGE_TEMPLATES") && stderr.contains(&broken.display().to_string()),
            "{stderr}"
        );
        assert!(!stderr.contains("listening"), "{stderr}");
    }
}

#[cfg(unix)]
#[test]
fn data_files_are_private_and_the_master_key_is_never_replaced() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    let server = Server::start(&dir);
    server.stop();
    for name in ["", "latchkey.db", "master.key"] {
        let mode = std::fs::metadata(dir.join(name)).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{name:?} is private to its owner: {mode:o}");
    }
    // The key of an existing database went missing: refuse rather than mint a new one.
    std::fs::rename(dir.join("master.key"), root.path().join("saved.key")).unwrap();
    let output = latchkey(&dir).arg("serve").output().unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("master key file"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!dir.join("master.key").exists(), "no replacement key was generated");
    let admin = latchkey(&dir).args(["project", "list"]).output().unwrap();
    assert!(!admin.status.success(), "admin commands refuse too");

    // Admin commands with the wrong key fail before writing anything.
    let (_, wrong) = latchkey_core::crypto::MasterKey::generate();
    let output =
        latchkey(&dir).args(["project", "create", "--name", "x"]).env("LATCHKEY_MASTER_KEY", wrong).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("master key does not match"));
    // The external-user commands too (a secret sealed under a wrong key would be unusable).
    let project = uuid::Uuid::now_v7().to_string();
    for args in [
        vec!["signing-secret", "create", "--project", &project],
        vec!["external-key", "list", "--project", &project],
        vec!["external-config", "show", "--project", &project],
    ] {
        let (_, wrong) = latchkey_core::crypto::MasterKey::generate();
        let output = latchkey(&dir).args(&args).env("LATCHKEY_MASTER_KEY", wrong).output().unwrap();
        assert!(!output.status.success(), "{args:?} with a wrong master key");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("master key does not match"),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    std::fs::rename(root.path().join("saved.key"), dir.join("master.key")).unwrap();
    let listed = run_json(&dir, &["project", "list", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "only the bootstrap project exists");
}

#[test]
fn a_setting_resolves_flag_over_variable_over_file_over_default() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("latchkey.toml");
    std::fs::write(&config, "bind = \"from-file\"\n").unwrap();
    // An unusable bind address fails at start-up naming the value that won.
    let refused = |command: &mut Command| {
        let output = command.output().unwrap();
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let serve = || {
        let mut command = latchkey(dir.path());
        command.arg("serve").arg("--config").arg(&config);
        command
    };
    assert!(refused(&mut serve()).contains("\"from-file\""), "the file over the default");
    let with_env = refused(serve().env("LATCHKEY_BIND", "from-env"));
    assert!(with_env.contains("\"from-env\""), "the variable over the file: {with_env}");
    let with_flag = refused(serve().env("LATCHKEY_BIND", "from-env").args(["--bind", "from-flag"]));
    assert!(with_flag.contains("\"from-flag\""), "the flag over the variable: {with_flag}");
    // A global setting given after a nested subcommand still wins over the file.
    std::fs::write(&config, format!("data_dir = {:?}\n", dir.path().join("from-file").display().to_string())).unwrap();
    let flag_dir = dir.path().join("from-flag");
    let with_file = || {
        let mut command = latchkey(dir.path());
        command.arg("--config").arg(&config);
        command
    };
    let init = with_file().args(["init", "--data-dir"]).arg(&flag_dir).output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    assert!(flag_dir.join("master.key").exists() && !dir.path().join("from-file").exists());
    let listed = with_file().args(["project", "list", "--json", "--data-dir"]).arg(&flag_dir).output().unwrap();
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let refused = with_file().env_remove("LATCHKEY_DATA_DIR").args(["project", "list", "--json"]).output().unwrap();
    assert!(!refused.status.success(), "the file's directory has no database");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("from-file"), "the message names the file's directory");
}

#[test]
fn help_shows_the_defaults() {
    let serve = Command::new(BIN).args(["serve", "--help"]).output().unwrap();
    let text = String::from_utf8(serve.stdout).unwrap();
    for needle in ["[default: 127.0.0.1:8787]", "[default: 64]", "[default: 19456]", "[default: 4096]"] {
        assert!(text.contains(needle), "serve --help shows {needle}:\n{text}");
    }
    let top = Command::new(BIN).arg("--help").output().unwrap();
    let text = String::from_utf8(top.stdout).unwrap();
    for needle in ["[default: ./latchkey-data]", "[default: 16]", "body_limit_bytes", "master_key_file"] {
        assert!(text.contains(needle), "--help shows {needle}:\n{text}");
    }
}

#[test]
fn an_admin_command_whose_reader_is_gone_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    run_json(dir.path(), &["init", "--json"]);
    run_json(dir.path(), &["project", "create", "--name", "Piped", "--json"]);
    // A pipe whose reading end is already closed: the first write fails (`... | true`).
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = latchkey(dir.path())
        .args(["project", "list", "--json"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(101), "a panic: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(output.status.signal(), Some(libc::SIGPIPE), "ended by SIGPIPE, like any filter: {stderr}");
    }
}

#[test]
fn each_request_gets_one_access_log_line_with_its_id_and_never_its_query() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    std::thread::sleep(Duration::from_millis(200));
    let project = field_after(&server.printed(), "project id:");
    let url = format!("{}/v7/{project}/.well-known/jwks.json?token=sekrit-in-the-query", server.base);
    let status = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
        let response = ::reqwest::Client::new().get(&url).header("x-request-id", "req-log-1").send().await.unwrap();
        assert_eq!(response.headers()["x-request-id"], "req-log-1");
        response.status().as_u16()
    });
    assert_eq!(status, 200);
    let (_, log) = server.stop();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("req-log-1")).collect();
    let access = lines.iter().filter(|l| l.contains("INFO") && l.contains("status=200")).count();
    assert_eq!(access, 1, "one INFO line when the response went out: {lines:#?}");
    assert!(
        lines.iter().all(|l| l.contains("route=/v7/{project_id}/.well-known/jwks.json") && l.contains("method=GET")),
        "the route template, not the raw path: {lines:#?}"
    );
    assert!(!log.contains("sekrit"), "the query string is never logged");
    assert!(!log.contains('\u{1b}'), "no colour codes when stderr is not a terminal");
}

/// Issue 12: only `serve` and `init` create the embedded database. Every other command, run
/// where there is none, fails naming the file it looked for and leaves nothing behind.
#[test]
fn admin_commands_never_create_a_database_and_init_prepares_one() {
    let root = tempfile::tempdir().unwrap();
    let cwd = root.path().canonicalize().unwrap();
    // Run from an empty directory with the default data directory, ./latchkey-data.
    let bare = || {
        let mut command = Command::new(BIN);
        command.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).current_dir(&cwd);
        command
    };
    let project = uuid::Uuid::now_v7().to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["project", "list"],
        vec!["project", "create", "--name", "Stray"],
        vec!["project", "show", "--project", &project],
        vec!["api-key", "create", "--project", &project],
        vec!["signing-secret", "list", "--project", &project],
        vec!["external-config", "show", "--project", &project],
        vec!["outbox", "list"],
        vec!["user", "list", "--project", &project],
        vec!["signing-key", "list", "--project", &project],
        vec!["audit", "list", "--project", &project],
    ];
    let (_, env_key) = latchkey_core::crypto::MasterKey::generate();
    let default_db = cwd.join("latchkey-data").join("latchkey.db");
    for args in &commands {
        for with_key in [false, true] {
            let mut command = bare();
            if with_key {
                command.env("LATCHKEY_MASTER_KEY", &env_key);
            }
            let output = command.args(args).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(1), "{args:?} (key in the environment: {with_key}): {stderr}");
            assert!(stderr.contains(&default_db.display().to_string()), "{args:?}: names the path: {stderr}");
            assert!(stderr.contains("latchkey init") && stderr.contains("--data-dir"), "{args:?}: the fix: {stderr}");
            assert!(!stderr.contains("panicked"), "{stderr}");
            let left: Vec<_> = std::fs::read_dir(&cwd).unwrap().map(|e| e.unwrap().file_name()).collect();
            assert!(left.is_empty(), "{args:?} left {left:?} behind");
        }
    }
    // A named data directory or database file: the message names it, nothing is created.
    let output = bare().args(["project", "list", "--data-dir", "nested/data"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&cwd.join("nested/data/latchkey.db").display().to_string()), "{stderr}");
    let file = cwd.join("elsewhere.db");
    let url = format!("sqlite://{}", file.display());
    let output = bare().args(["project", "list"]).env("LATCHKEY_DATABASE_URL", url).output().unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains(&file.display().to_string()));
    assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0, "nothing created");

    // `init` creates both, says where, and changes nothing when run again.
    let output = bare().arg("init").output().unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let key_file = cwd.join("latchkey-data").join("master.key");
    assert!(printed.contains(&format!("{} (created)", default_db.display())), "{printed}");
    assert!(printed.contains(&format!("{} (created)", key_file.display())), "{printed}");
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert!(!printed.contains(key.trim()), "the key itself is never printed");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o077, 0);
    }
    let again = bare().args(["init", "--json"]).output().unwrap();
    assert!(again.status.success());
    let report: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(
        report,
        json!({
            "database": default_db.display().to_string(),
            "databaseCreated": false,
            "masterKeyFile": key_file.display().to_string(),
            "masterKeyCreated": false,
        })
    );
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key, "the key is kept");
    // Now the admin commands work, on an empty database (init creates no project).
    let listed = bare().args(["project", "list", "--json"]).output().unwrap();
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    assert_eq!(serde_json::from_slice::<Value>(&listed.stdout).unwrap(), json!([]));
    let created = bare().args(["project", "create", "--name", "Prepared"]).output().unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
}

/// Issue 12: `--help` describes every flag and argument, shows the settings under their own
/// headings apart from each command's options, and names the project `--project ID` in every
/// command that acts on one.
#[test]
fn help_describes_every_option_and_spells_the_project_alike() {
    let mut root = latchkey_server::cli::command();
    root.build();
    let mut commands = Vec::new();
    collect(&root, String::new(), &mut commands);
    // The commands that act on no single project.
    let projectless =
        ["serve", "init", "project create", "project list", "outbox list", "outbox retry", "db move-schema"];
    let mut problems = Vec::new();
    for (path, command) in &commands {
        if !path.is_empty() && command.get_about().is_none() {
            problems.push(format!("`{path}` has no description"));
        }
        let leaf = command.get_subcommands().next().is_none();
        let mut has_project = false;
        for arg in command.get_arguments().filter(|arg| !arg.is_hide_set()) {
            let id = arg.get_id().as_str();
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                problems.push(format!("`{path}`: {id} has no help"));
            }
            if arg.is_global_set() && arg.get_help_heading().is_none() {
                problems.push(format!("`{path}`: the global {id} has no heading"));
            }
            if path == "serve" && arg.get_long().is_some_and(|l| l != "help") && arg.get_help_heading().is_none() {
                problems.push(format!("`serve`: the setting {id} has no heading"));
            }
            if arg.is_hide_default_value_set() || arg.is_hide_env_set() {
                problems.push(format!("`{path}`: {id} hides its default or variable"));
            }
            let named = arg.get_long().unwrap_or(id);
            if named.contains("project") {
                let value = arg.get_value_names().map(|v| v.iter().map(|s| s.as_str()).collect::<Vec<_>>());
                if arg.get_long() != Some("project") || value != Some(vec!["ID"]) {
                    problems.push(format!("`{path}`: the project is given as {id} ({named}, {value:?})"));
                }
                has_project = true;
            }
        }
        if leaf && !path.is_empty() && !projectless.contains(&path.as_str()) && !has_project {
            problems.push(format!("`{path}` takes no --project ID"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(commands.iter().any(|(path, _)| path == "user import-settings"), "the walk reached nested commands");

    // As printed: the command's own options first, then the settings by heading.
    let output = Command::new(BIN).env_clear().args(["api-key", "create", "--help"]).output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let at = |needle: &str| text.find(needle).unwrap_or_else(|| panic!("{needle} in:\n{text}"));
    let option = "      --project <ID>   The project's id";
    assert!(at("Options:") < at(option) && at(option) < at("Storage (all commands):"), "{text}");
    assert!(at("Storage (all commands):") < at("--data-dir <DIR>"), "{text}");
    assert!(at("Logging (all commands):") < at("--log-format <FORMAT>"), "{text}");
    assert!(text.contains("[default: auth]") && text.contains("[default: ./latchkey-data]"), "{text}");
    let output = Command::new(BIN).env_clear().args(["serve", "--help"]).output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    for heading in ["Server:", "Connections:", "Password hashing:", "Mail:", "Metrics and traces:", "Storage (all commands):"] {
        assert!(text.contains(heading), "serve --help has {heading}:\n{text}");
    }
    let output = Command::new(BIN).env_clear().arg("--help").output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("init") && text.contains("never create"), "{text}");
}

/// Every (sub)command of `command` with its path (`user import-settings`).
fn collect(command: &clap::Command, path: String, into: &mut Vec<(String, clap::Command)>) {
    for sub in command.get_subcommands().filter(|sub| sub.get_name() != "help") {
        let name = if path.is_empty() { sub.get_name().to_owned() } else { format!("{path} {}", sub.get_name()) };
        collect(sub, name, into);
    }
    into.push((path, command.clone()));
}

/// Keys anywhere in `value` that are not camelCase (`metadata` holds only the test's own keys).
fn not_camel_case(value: &Value, at: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let camel = key.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && key.chars().all(|c| c.is_ascii_alphanumeric());
                if !camel {
                    found.push(format!("{at}.{key}"));
                }
                not_camel_case(inner, &format!("{at}.{key}"), found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| not_camel_case(item, &format!("{at}[]"), found)),
        _ => {}
    }
}

/// Issue 12: one JSON casing. Every command that prints JSON prints camelCase keys, as the
/// HTTP API does, and the test knows every command that has `--json`.
#[test]
fn every_json_output_uses_camel_case_keys() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let mut checked: std::collections::BTreeSet<String> = Default::default();
    let mut found = Vec::new();
    let mut run = |args: &[&str], stdin: Option<&str>| -> Vec<Value> {
        let mut child = latchkey(data)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            std::io::Write::write_all(&mut input, text.as_bytes()).unwrap();
        }
        drop(input);
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        let text = String::from_utf8(output.stdout).unwrap();
        // A document, or JSON Lines (import reports, exports).
        let values: Vec<Value> = match serde_json::from_str(&text) {
            Ok(value) => vec![value],
            Err(_) => {
                text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{args:?}: {e}: {l}"))).collect()
            }
        };
        let path: Vec<&str> = args.iter().copied().take_while(|a| !a.starts_with('-')).take(2).collect();
        for value in &values {
            not_camel_case(value, &path.join(" "), &mut found);
        }
        checked.insert(path.join(" "));
        values
    };
    let one = |values: Vec<Value>| values.into_iter().next().unwrap();

    run(&["init", "--json"], None);
    let project =
        one(run(&["project", "create", "--name", "Casing", "--json"], None))["id"].as_str().unwrap().to_owned();
    let p = project.as_str();
    run(&["project", "list", "--json"], None);
    run(&["project", "show", "--project", p, "--json"], None);
    let set =
        one(run(&["project", "set", "--project", p, "--smtp-url", "smtp://u:pw@mail.example:587", "--json"], None));
    assert_eq!(set["mail"]["smtp"]["hasPassword"], true, "{set}");
    run(&["api-key", "create", "--project", p, "--scope", "admin", "--json"], None);
    run(&["api-key", "list", "--project", p, "--json"], None);
    run(&["signing-secret", "create", "--project", p, "--json"], None);
    let rotated = one(run(&["signing-secret", "rotate", "--project", p, "--json"], None));
    run(&["signing-secret", "list", "--project", p, "--json"], None);
    run(&["signing-secret", "revoke", "--project", p, rotated["id"].as_str().unwrap(), "--json"], None);
    // RFC 8037's example Ed25519 public key.
    let jwk = data.join("ed.jwk");
    std::fs::write(&jwk, r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#).unwrap();
    run(&["external-key", "add", "--project", p, "--jwk", jwk.to_str().unwrap(), "--kid", "ed-1", "--json"], None);
    run(&["external-key", "list", "--project", p, "--json"], None);
    run(&["external-config", "show", "--project", p, "--json"], None);
    run(&["external-config", "set", "--project", p, "--max-token-lifetime", "5m", "--json"], None);

    let user = one(run(
        &[
            "user",
            "create",
            "--project",
            p,
            "--email",
            "casing@example.com",
            "--metadata",
            r#"{"plan":"pro"}"#,
            "--json",
        ],
        None,
    ));
    let u = user["id"].as_str().unwrap().to_owned();
    let u = u.as_str();
    run(&["user", "list", "--project", p, "--json"], None);
    run(&["user", "show", "--project", p, u, "--json"], None);
    run(&["user", "update", "--project", p, u, "--email", "new@example.com", "--send-verification", "--json"], None);
    let outbox = one(run(&["outbox", "list", "--json"], None));
    assert_eq!(outbox.as_array().map(Vec::len), Some(1), "the verification email is queued: {outbox}");
    run(&["user", "suspend", "--project", p, u, "--reason", "casing", "--for", "1h", "--json"], None);
    run(&["user", "unsuspend", "--project", p, u, "--json"], None);
    run(&["user", "set-password", "--project", p, u, "--password-stdin", "--json"], Some("s3cur3P@ss-casing"));
    run(&["user", "sessions", "--project", p, u, "--json"], None);
    run(&["user", "revoke-sessions", "--project", p, u, "--json"], None);
    run(&["user", "unlock", "--project", p, u, "--json"], None);
    let export = run(&["user", "export", "--project", p, "--with-password-hashes"], None);
    assert_eq!(export.len(), 1);
    let file = data.join("users.jsonl");
    std::fs::write(&file, format!("{}\n{{\"email\":\"second@example.com\"}}\n", export[0])).unwrap();
    let report = run(&["user", "import", "--project", p, file.to_str().unwrap(), "--dry-run"], None);
    assert_eq!(report.len(), 2);
    run(&["signing-key", "list", "--project", p, "--json"], None);
    run(&["signing-key", "rotate", "--project", p, "--force", "--json"], None);
    run(&["audit", "list", "--project", p, "--json"], None);
    run(&["user", "delete", "--project", p, u, "--confirm", u, "--json"], None);

    assert!(found.is_empty(), "keys that are not camelCase: {found:#?}");
    // Every command with --json was run above.
    let mut root = latchkey_server::cli::command();
    root.build();
    let mut commands = Vec::new();
    collect(&root, String::new(), &mut commands);
    let with_json: Vec<&String> = commands
        .iter()
        .filter(|(_, command)| command.get_arguments().any(|arg| arg.get_long() == Some("json")))
        .map(|(path, _)| path)
        .filter(|path| !checked.contains(*path))
        // PostgreSQL only: its --json is checked in tests/postgres_schema.rs.
        .filter(|path| path.as_str() != "db move-schema")
        .collect();
    assert!(with_json.is_empty(), "commands with --json this test does not run: {with_json:?}");
}
