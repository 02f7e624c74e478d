//! The real `latchkey` binary: the external-user subcommands, then a full run of `serve` with
//! `LATCHKEY_LOG=debug` whose complete log output is searched for every secret, key and token
//! the run used.

mod external_support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use external_support::{ed25519_pair, p256_pair, sign, sign_hs256};
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_latchkey");

/// Everything any process wrote to stderr (the log stream), across the whole run.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<String>>);

impl Logs {
    fn push(&self, text: &str) {
        self.0.lock().unwrap().push_str(text);
    }
    fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

fn command(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("LATCHKEY_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("LATCHKEY_DATA_DIR", dir).env("LATCHKEY_LOG", "debug").env("NO_COLOR", "1");
    cmd
}

/// Runs an admin subcommand; its stderr joins the logs.
fn latchkey(dir: &Path, logs: &Logs, args: &[&str]) -> Output {
    let output = command(dir).args(args).output().expect("run latchkey");
    logs.push(&String::from_utf8_lossy(&output.stderr));
    output
}

fn ok_json(dir: &Path, logs: &Logs, args: &[&str]) -> Value {
    let output = latchkey(dir, logs, args);
    assert!(output.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {}", String::from_utf8_lossy(&output.stdout)))
}

fn fails(dir: &Path, logs: &Logs, args: &[&str]) -> String {
    let output = latchkey(dir, logs, args);
    assert!(!output.status.success(), "{args:?} should fail: {}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(dir: &Path, logs: &Logs) -> Self {
        let mut child = command(dir)
            .env("LATCHKEY_LOG_FORMAT", "json")
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.push(&line);
                sink.push("\n");
                if let Ok(event) = serde_json::from_str::<Value>(&line)
                    && let Some(address) = event["fields"]["address"].as_str()
                {
                    let _ = tx.send(address.to_owned());
                }
            }
        });
        let stdout = child.stdout.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.push(&line);
                sink.push("\n");
            }
        });
        let address = rx.recv_timeout(Duration::from_secs(30)).expect("server did not report its address");
        Self { child, base: format!("http://{address}") }
    }

    fn stop(mut self) {
        // SIGTERM: the graceful path, so the shutdown logs are part of the capture too.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

async fn post(base: &str, project: &str, api_key: &str, jwt: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/v7/{project}/auth/verify-external-user"))
        .bearer_auth(api_key)
        .json(&json!({ "userJwt": jwt }))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn token_claims(project: &str, sub: &str, jti: Option<&str>) -> Value {
    let mut c = json!({
        "iss": project, "aud": project, "sub": sub, "iat": now(), "exp": now() + 300,
        "userData": {"email": format!("{sub}@example.com"), "name": "From the binary"}
    });
    if let Some(jti) = jti {
        c["jti"] = json!(jti);
    }
    c
}

#[tokio::test]
async fn cli_manages_external_keys_and_a_full_debug_run_logs_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let logs = Logs::default();

    ok_json(data, &logs, &["init", "--json"]);
    let project = ok_json(data, &logs, &["project", "create", "--name", "External", "--json"]);
    let project = project["id"].as_str().unwrap().to_owned();
    let api_key = ok_json(data, &logs, &["api-key", "create", "--project", &project, "--json"]);
    let api_key = api_key["apiKey"].as_str().unwrap().to_owned();

    // signing-secret create | rotate | list | revoke
    let created = ok_json(data, &logs, &["signing-secret", "create", "--project", &project, "--json"]);
    let secret = created["secret"].as_str().unwrap().to_owned();
    let secret_id = created["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("lkx_"));
    let again = fails(data, &logs, &["signing-secret", "create", "--project", &project]);
    assert!(again.contains("rotate"), "{again}");
    let listed = ok_json(data, &logs, &["signing-secret", "list", "--project", &project, "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&secret), "list never shows the secret");
    let human = latchkey(data, &logs, &["signing-secret", "list", "--project", &project]);
    let human = String::from_utf8_lossy(&human.stdout).into_owned();
    assert!(human.contains(&secret_id) && human.contains("live") && !human.contains(&secret), "{human}");
    assert!(!std::fs::read(data.join("latchkey.db")).unwrap().windows(secret.len()).any(|w| w == secret.as_bytes()));

    // external-key add (PEM and JWK) | list | remove
    let ec = p256_pair();
    let ed = ed25519_pair();
    std::fs::write(data.join("ec.pem"), &ec.public_pem).unwrap();
    std::fs::write(data.join("ed.jwk"), ed.public_jwk.to_string()).unwrap();
    std::fs::write(data.join("private.pem"), external_support::pem("PRIVATE KEY", &[0x30, 0x00])).unwrap();
    let ec_key = ok_json(
        data,
        &logs,
        &[
            "external-key",
            "add",
            "--project",
            &project,
            "--pem",
            data.join("ec.pem").to_str().unwrap(),
            "--kid",
            "ec-1",
            "--json",
        ],
    );
    assert_eq!(ec_key["alg"], "ES256");
    let ed_key = ok_json(
        data,
        &logs,
        &["external-key", "add", "--project", &project, "--jwk", data.join("ed.jwk").to_str().unwrap(), "--json"],
    );
    assert_eq!(ed_key["alg"], "EdDSA");
    let ed_kid = ed_key["kid"].as_str().unwrap().to_owned();
    let refused = fails(
        data,
        &logs,
        &["external-key", "add", "--project", &project, "--pem", data.join("private.pem").to_str().unwrap()],
    );
    assert!(refused.contains("PRIVATE"), "{refused}");
    let refused = fails(
        data,
        &logs,
        &[
            "external-key",
            "add",
            "--project",
            &project,
            "--pem",
            data.join("ec.pem").to_str().unwrap(),
            "--alg",
            "HS256",
        ],
    );
    assert!(refused.contains("does not match"), "{refused}");
    let keys = ok_json(data, &logs, &["external-key", "list", "--project", &project, "--json"]);
    assert_eq!(keys.as_array().unwrap().len(), 2);

    // external-config show | set
    let settings = ok_json(data, &logs, &["external-config", "show", "--project", &project, "--json"]);
    assert_eq!(settings["maxTokenLifetime"], 600);
    let settings = ok_json(
        data,
        &logs,
        &["external-config", "set", "--project", &project, "--max-token-lifetime", "15m", "--json"],
    );
    assert_eq!(settings["maxTokenLifetime"], 900);
    fails(data, &logs, &["external-config", "set", "--project", &project, "--jwks-url", "http://example.com/k"]);

    // A full run of the server.
    let server = Server::start(data, &logs);
    let mut used: Vec<String> = vec![secret.clone(), api_key.clone()];
    let hs = sign_hs256(&secret, &token_claims(&project, "bin-user", Some("jti-bin-1")));
    let (status, body) = post(&server.base, &project, &api_key, &hs).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["authMethods"], json!(["external"]));
    used.extend([
        hs.clone(),
        body["accessToken"].as_str().unwrap().into(),
        body["refreshToken"].as_str().unwrap().into(),
    ]);
    let (status, body) = post(&server.base, &project, &api_key, &hs).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("auth/invalid-token")), "replay");
    for (pair, kid, sub) in [(&ec, "ec-1", "ec-user"), (&ed, ed_kid.as_str(), "ed-user")] {
        let jwt = sign(pair.alg, Some(kid), &token_claims(&project, sub, None), &pair.encoding);
        let (status, body) = post(&server.base, &project, &api_key, &jwt).await;
        assert_eq!(status, 200, "{kid}: {body}");
        used.extend([jwt, body["accessToken"].as_str().unwrap().into(), body["refreshToken"].as_str().unwrap().into()]);
    }
    // Refusals are logged at debug too (reason only): make sure they are in the capture.
    let forged = sign_hs256("lkx_forged-secret-forged-secret-forged", &token_claims(&project, "x", None));
    assert_eq!(post(&server.base, &project, &api_key, &forged).await.0, 403);
    used.push(forged);

    // Rotate while the server runs, with no overlap: the old secret stops at once.
    let rotated =
        ok_json(data, &logs, &["signing-secret", "rotate", "--project", &project, "--overlap", "0", "--json"]);
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    used.push(new_secret.clone());
    let old = sign_hs256(&secret, &token_claims(&project, "bin-user", None));
    assert_eq!(post(&server.base, &project, &api_key, &old).await.0, 403, "old secret after rotation");
    let new = sign_hs256(&new_secret, &token_claims(&project, "bin-user", None));
    let (status, body) = post(&server.base, &project, &api_key, &new).await;
    assert_eq!(status, 200, "{body}");
    used.extend([old, new]);
    server.stop();

    // The jti stays used across server processes.
    let server = Server::start(data, &logs);
    let (status, _) = post(&server.base, &project, &api_key, &hs).await;
    assert_eq!(status, 403, "replay after a restart");
    // Remove a key and revoke the secret: both stop working.
    let removed = latchkey(data, &logs, &["external-key", "remove", "--project", &project, "ec-1"]);
    assert!(removed.status.success());
    let jwt = sign(Algorithm::ES256, Some("ec-1"), &token_claims(&project, "ec-user", None), &ec.encoding);
    assert_eq!(post(&server.base, &project, &api_key, &jwt).await.0, 403);
    let rotated_id = rotated["id"].as_str().unwrap().to_owned();
    assert!(latchkey(data, &logs, &["signing-secret", "revoke", "--project", &project, &rotated_id]).status.success());
    let jwt = sign_hs256(&new_secret, &token_claims(&project, "bin-user", None));
    assert_eq!(post(&server.base, &project, &api_key, &jwt).await.0, 403);
    used.push(jwt);
    fails(data, &logs, &["signing-secret", "revoke", "--project", &project, &rotated_id]);
    server.stop();

    // The search.
    let captured = logs.text();
    assert!(captured.contains("latchkey listening"), "the capture holds the server's logs");
    assert!(captured.contains("DEBUG") || captured.contains("\"level\":\"DEBUG\""), "debug logging was on");
    assert!(captured.contains("external user JWT refused"), "refusals were logged (reason only)");
    let master = std::fs::read_to_string(data.join("master.key")).unwrap();
    used.push(master.trim().to_owned());
    used.extend([ec.private_marker.clone(), ed.private_marker.clone()]);
    for value in &used {
        assert!(!captured.contains(value.as_str()), "a secret or token leaked into the logs: {value:.24}…");
        // Also no long fragment (e.g. a JWT's signature or payload part).
        for part in value.split('.').filter(|p| p.len() >= 24) {
            assert!(!captured.contains(part), "a token fragment leaked into the logs: {part:.24}…");
        }
    }
    assert!(!captured.contains("BEGIN"), "no PEM in the logs");
}
