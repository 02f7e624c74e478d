//! `latchkey user import` and `latchkey user export` through the real binary: a JSON Lines
//! file with bad lines, the per-line report (stdout or `--report`), a dry run, a re-run, and
//! an export (with hashes) imported into a new project that exports the same lines (sign-in
//! after a round trip is tested over HTTP in `user_import.rs`).

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_latchkey");

fn latchkey(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("LATCHKEY_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("LATCHKEY_DATA_DIR", dir).env("NO_COLOR", "1").args(args).output().expect("run latchkey")
}

fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let output = latchkey(dir, args);
    assert!(output.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    stdout_of(&output)
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// A new project, in a data directory prepared by `latchkey init` (run again, it changes
/// nothing).
fn new_project(dir: &Path, name: &str) -> String {
    ok(dir, &["init"]);
    let out = ok(dir, &["project", "create", "--name", name, "--json"]);
    serde_json::from_str::<Value>(&out).unwrap()["id"].as_str().unwrap().to_owned()
}

#[test]
fn import_reports_every_line_and_export_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let project = new_project(data, "Import");
    let file = data.join("users.jsonl");
    let bcrypt = "$2y$10$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW";
    std::fs::write(
        &file,
        format!(
            "{{\"email\":\"a@example.com\",\"name\":\"A\",\"passwordHash\":\"{bcrypt}\"}}\n\
             {{broken json\n\
             \n\
             {{\"email\":\"b@example.com\",\"passwordHash\":\"$unknown$x\"}}\n\
             {{\"email\":\"A@example.com\"}}\n\
             {{\"email\":\"c@example.com\",\"username\":\"cee\"}}\n"
        ),
    )
    .unwrap();
    let path = file.to_str().unwrap();

    // Dry run: the report, nothing written, and a failing exit because of the bad lines.
    let dry = latchkey(data, &["user", "import", "--project", &project, path, "--dry-run"]);
    assert!(!dry.status.success());
    let stderr = String::from_utf8_lossy(&dry.stderr);
    assert!(stderr.contains("created 2") && stderr.contains("errors 3") && stderr.contains("dry run"), "{stderr}");
    let report = json_lines(&stdout_of(&dry));
    let summary: Vec<(u64, &str)> =
        report.iter().map(|r| (r["line"].as_u64().unwrap(), r["outcome"].as_str().unwrap())).collect();
    assert_eq!(summary, [(1, "created"), (2, "error"), (4, "error"), (5, "error"), (6, "created")]);
    let listed = ok(data, &["user", "list", "--project", &project, "--json"]);
    assert_eq!(serde_json::from_str::<Value>(&listed).unwrap()["users"], Value::Array(vec![]));

    // The real run, report to a file; then a re-run skips what exists.
    let report_file = data.join("report.jsonl");
    let run =
        latchkey(data, &["user", "import", "--project", &project, path, "--report", report_file.to_str().unwrap()]);
    assert!(!run.status.success() && run.stdout.is_empty());
    let written = json_lines(&std::fs::read_to_string(&report_file).unwrap());
    assert_eq!(written.len(), 5);
    assert!(written[1]["reason"].as_str().unwrap().starts_with("not a user object"), "{}", written[1]);
    let rerun = json_lines(&stdout_of(&latchkey(data, &["user", "import", "--project", &project, path])));
    assert_eq!((rerun[0]["outcome"].as_str(), rerun[4]["outcome"].as_str()), (Some("skipped"), Some("skipped")));

    // Export: hashes only with the flag; the output imports cleanly into a new project.
    let plain = json_lines(&ok(data, &["user", "export", "--project", &project]));
    assert_eq!(plain.len(), 2);
    assert!(plain.iter().all(|u| u.get("passwordHash").is_none()));
    let with_hashes = ok(data, &["user", "export", "--project", &project, "--with-password-hashes"]);
    assert_eq!(json_lines(&with_hashes)[0]["passwordHash"], bcrypt);
    let copy = data.join("export.jsonl");
    std::fs::write(&copy, &with_hashes).unwrap();
    let target = new_project(data, "Copy");
    let copied = json_lines(&ok(data, &["user", "import", "--project", &target, copy.to_str().unwrap()]));
    assert!(copied.iter().all(|r| r["outcome"] == "created"), "{copied:?}");
    assert_eq!(ok(data, &["user", "export", "--project", &target, "--with-password-hashes"]), with_hashes);
}

#[test]
fn firebase_parameters_can_be_given_with_the_signer_key_on_standard_input() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let project = new_project(data, "Firebase");
    let args = [
        "user",
        "import-settings",
        "--project",
        &project,
        "--firebase-salt-separator",
        "Bw==",
        "--firebase-rounds",
        "8",
        "--firebase-mem-cost",
        "14",
    ];
    let mut child = Command::new(BIN)
        .env("LATCHKEY_DATA_DIR", data)
        .args(args)
        .arg("--firebase-signer-key-stdin")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let key = "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==";
    child.stdin.take().unwrap().write_all(format!("{key}\n").as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout_of(&output).contains("Firebase hash parameters set"));

    // Neither the flag nor the stdin switch: refused before anything is read or written.
    let neither = latchkey(data, &args);
    assert!(!neither.status.success());
    assert!(String::from_utf8_lossy(&neither.stderr).contains("--firebase-signer-key"));
}
