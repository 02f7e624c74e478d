//! `latchkey user ...` through the real binary, beside a running `serve` on the same database:
//! every subcommand, `--json` equal to the admin API's JSON, passwords from standard input
//! only, clear errors, the effects on the running server, and `cli` as the audit actor.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use latchkey_core::domain::{AuditAction, AuditFilter};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_latchkey");
const PASSWORD: &str = "s3cur3P@ss";

fn command(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("LATCHKEY_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("LATCHKEY_DATA_DIR", dir).env("NO_COLOR", "1");
    cmd
}

/// Runs `latchkey ARGS`, with `stdin` written to its standard input when given.
fn latchkey(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = command(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run latchkey");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("latchkey output")
}

fn ok(dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let output = latchkey(dir, args, stdin);
    assert!(output.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn ok_json(dir: &Path, args: &[&str], stdin: Option<&str>) -> Value {
    let out = ok(dir, args, stdin);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {out}"))
}

fn fails(dir: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let output = latchkey(dir, args, stdin);
    assert!(!output.status.success(), "{args:?} should fail: {}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `latchkey serve` on a free port of the same data directory.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(dir: &Path) -> Self {
        let mut child = command(dir)
            .env("LATCHKEY_LOG_FORMAT", "json")
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str::<Value>(&line)
                    && let Some(address) = event["fields"]["address"].as_str()
                {
                    let _ = tx.send(address.to_owned());
                }
            }
        });
        let address = rx.recv_timeout(Duration::from_secs(30)).expect("server did not report its address");
        Self { child, base: format!("http://{address}") }
    }

    async fn call(&self, method: reqwest::Method, path: &str, key: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = reqwest::Client::new().request(method, format!("{}{path}", self.base)).bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SAFETY: plain signal delivery to our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_user_commands_act_like_the_admin_api() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(data, &["init"], None);
    let project =
        ok_json(data, &["project", "create", "--name", "Cli users", "--json"], None)["id"].as_str().unwrap().to_owned();
    let auth_key = ok_json(data, &["api-key", "create", "--project", &project, "--json"], None)["apiKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin_key =
        ok_json(data, &["api-key", "create", "--project", &project, "--scope", "admin", "--json"], None)["apiKey"]
            .as_str()
            .unwrap()
            .to_owned();
    let server = Server::start(data);
    let api = |path: &str| format!("/v7/{project}{path}");
    let sign_in_path = api("/auth/sign-in");
    let sign_in = |email: &'static str, password: &'static str| {
        let body = json!({"email": email, "password": password});
        server.call(reqwest::Method::POST, &sign_in_path, &auth_key, Some(body))
    };
    let p = project.as_str();

    // create: the password only from standard input; there is no flag that takes one.
    let refused =
        fails(data, &["user", "create", "--project", p, "--email", "cli@example.com", "--password", PASSWORD], None);
    assert!(refused.contains("--password"), "{refused}");
    let weak = fails(
        data,
        &["user", "create", "--project", p, "--email", "cli@example.com", "--password-stdin"],
        Some("short\n"),
    );
    assert!(weak.contains("at least 8 characters"), "{weak}");
    let created = ok_json(
        data,
        &[
            "user",
            "create",
            "--project",
            p,
            "--email",
            "Cli@Example.com",
            "--password-stdin",
            "--username",
            "cli_user",
            "--name",
            "Cli",
            "--role",
            "moderator",
            "--metadata",
            r#"{"plan":"pro"}"#,
            "--email-verified",
            "--json",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!((created["email"].as_str(), created["role"].as_str()), (Some("cli@example.com"), Some("moderator")));
    assert_eq!((created["hasPassword"].clone(), created["metadata"].clone()), (json!(true), json!({"plan": "pro"})));
    let (status, _) = sign_in("cli@example.com", PASSWORD).await;
    assert_eq!(status, 200, "the password read from stdin (without its newline) works");
    let duplicate = fails(data, &["user", "create", "--project", p, "--email", "cli@example.com"], None);
    assert!(duplicate.contains("already exists"), "{duplicate}");

    // show and list: --json is the API's JSON, byte for byte in meaning.
    let shown = ok_json(data, &["user", "show", "--project", p, &id, "--json"], None);
    let (_, from_api) = server.call(reqwest::Method::GET, &api(&format!("/admin/users/{id}")), &admin_key, None).await;
    assert_eq!(shown, from_api);
    assert_eq!(
        ok_json(data, &["user", "show", "--project", p, "--email", "CLI@example.com", "--json"], None)["id"],
        id.as_str()
    );
    let listed = ok_json(data, &["user", "list", "--project", p, "--json"], None);
    let (_, page) = server.call(reqwest::Method::GET, &api("/admin/users"), &admin_key, None).await;
    assert_eq!(listed, page);
    let table = ok(data, &["user", "list", "--project", p], None);
    assert!(table.starts_with("ID") && table.contains("cli@example.com") && table.contains("moderator"), "{table}");
    let human = ok(data, &["user", "show", "--project", p, &id], None);
    assert!(human.contains("cli_user") && human.contains("active"), "{human}");
    for n in 0..3 {
        ok(data, &["user", "create", "--project", p, "--email", &format!("more{n}@example.com")], None);
    }
    let first = ok_json(data, &["user", "list", "--project", p, "--limit", "2", "--json"], None);
    let cursor = first["nextCursor"].as_str().unwrap();
    let second = ok_json(data, &["user", "list", "--project", p, "--limit", "2", "--cursor", cursor, "--json"], None);
    assert_eq!((second["users"].as_array().unwrap().len(), second["nextCursor"].clone()), (2, Value::Null));
    let bad_cursor = fails(data, &["user", "list", "--project", p, "--cursor", "nope"], None);
    assert!(bad_cursor.contains("cursor"), "{bad_cursor}");

    // update, suspend, unsuspend: seen at once by the running server.
    let updated =
        ok_json(data, &["user", "update", "--project", p, &id, "--name", "none", "--bio", "Ops", "--json"], None);
    assert_eq!((updated["name"].clone(), updated["bio"].clone()), (Value::Null, json!("Ops")));
    let suspended =
        ok_json(data, &["user", "suspend", "--project", p, &id, "--reason", "cli test", "--for", "1h", "--json"], None);
    assert_eq!(suspended["suspensions"][0]["createdBy"], "cli");
    let (status, body) = sign_in("cli@example.com", PASSWORD).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("auth/user-suspended")));
    let listed = ok_json(data, &["user", "list", "--project", p, "--status", "suspended", "--json"], None);
    assert_eq!(listed["users"].as_array().unwrap().len(), 1);
    ok(data, &["user", "unsuspend", "--project", p, &id], None);
    let (status, _) = sign_in("cli@example.com", PASSWORD).await;
    assert_eq!(status, 200);
    ok(data, &["user", "update", "--project", p, &id, "--active", "false"], None);
    let (status, body) = sign_in("cli@example.com", PASSWORD).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("auth/account-disabled")));
    ok(data, &["user", "update", "--project", p, &id, "--active", "true"], None);

    // sessions, revoke-sessions.
    sign_in("cli@example.com", PASSWORD).await;
    sign_in("cli@example.com", PASSWORD).await;
    let sessions = ok_json(data, &["user", "sessions", "--project", p, &id, "--json"], None);
    let list = sessions["sessions"].as_array().unwrap();
    assert_eq!(list.len(), 2, "disabling revoked the earlier ones: {sessions}");
    assert!(list.iter().all(|s| s["method"] == "password"));
    let one = list[0]["id"].as_str().unwrap();
    ok(data, &["user", "revoke-sessions", "--project", p, &id, "--session", one], None);
    let gone = fails(data, &["user", "revoke-sessions", "--project", p, &id, "--session", one], None);
    assert!(gone.contains("session not found"), "{gone}");
    assert_eq!(ok_json(data, &["user", "revoke-sessions", "--project", p, &id, "--json"], None), json!({"revoked": 1}));
    assert!(ok(data, &["user", "sessions", "--project", p, &id], None).contains("no live sessions"));

    // set-password (stdin only) and unlock.
    let no_flag = fails(data, &["user", "set-password", "--project", p, &id], Some("n3w-S3cret!"));
    assert!(no_flag.contains("--password-stdin"), "{no_flag}");
    ok(data, &["user", "set-password", "--project", p, &id, "--password-stdin"], Some("n3w-S3cret!\n"));
    assert_eq!(sign_in("cli@example.com", PASSWORD).await.0, 401);
    for _ in 0..10 {
        sign_in("cli@example.com", "wrong-Passw0rd").await;
    }
    assert_eq!(sign_in("cli@example.com", "n3w-S3cret!").await.0, 429);
    ok(data, &["user", "unlock", "--project", p, &id], None);
    assert_eq!(sign_in("cli@example.com", "n3w-S3cret!").await.0, 200);

    // delete: only with the id confirmed; then gone everywhere.
    let unconfirmed = fails(data, &["user", "delete", "--project", p, &id, "--confirm", "yes"], None);
    assert!(unconfirmed.contains("--confirm"), "{unconfirmed}");
    ok(data, &["user", "delete", "--project", p, &id, "--confirm", &id], None);
    let missing = fails(data, &["user", "show", "--project", p, &id], None);
    assert!(missing.contains("user not found"), "{missing}");
    let malformed = fails(data, &["user", "show", "--project", p, "not-a-uuid"], None);
    assert!(malformed.contains("not a user id"), "{malformed}");
    let (status, _) = server.call(reqwest::Method::GET, &api(&format!("/admin/users/{id}")), &admin_key, None).await;
    assert_eq!(status, 404);
    drop(server);

    // Every action above is on the trail, by `cli`.
    let store = latchkey_store::SqliteStore::open(&data.join("latchkey.db")).await.expect("open the database");
    let project_id = project.parse().unwrap();
    let events = latchkey_core::store::AuditStore::list_audit_events(&store, project_id, &AuditFilter::default(), 1000)
        .await
        .unwrap();
    let by_cli: Vec<AuditAction> =
        events.iter().rev().filter(|e| e.actor.to_string() == "cli").map(|e| e.action).collect();
    for action in [
        AuditAction::UserCreated,
        AuditAction::UserUpdated,
        AuditAction::UserSuspended,
        AuditAction::UserUnsuspended,
        AuditAction::SessionRevoked,
        AuditAction::SessionsRevokedAll,
        AuditAction::UserPasswordSet,
        AuditAction::UserUnlocked,
        AuditAction::UserDeleted,
    ] {
        assert!(by_cli.contains(&action), "{action:?} by cli: {by_cli:?}");
    }
    assert!(events.iter().filter(|e| e.actor.to_string() == "cli").all(|e| e.request_id.is_none()), "no HTTP request");
}
