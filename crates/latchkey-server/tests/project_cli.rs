//! The real `latchkey` binary's project administration (issue 10): `project set --name`,
//! `project delete ID --confirm ID`, `signing-key rotate|list` and `audit list`, on the
//! backend of `LATCHKEY_TEST_BACKEND` (an embedded SQLite file by default, or a fresh
//! PostgreSQL database).

use std::process::{Command, Output};

use latchkey_store::testing::TempDatabase;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_latchkey");

/// A database for the commands: a data directory (SQLite) or a PostgreSQL database with its
/// master key.
struct Database {
    dir: tempfile::TempDir,
    postgres: Option<(TempDatabase, String)>,
}

impl Database {
    async fn fresh() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let postgres = match std::env::var("LATCHKEY_TEST_BACKEND").as_deref() {
            Ok("postgres" | "postgresql") => {
                Some((TempDatabase::create().await, latchkey_core::crypto::MasterKey::generate().1))
            }
            _ => None,
        };
        let db = Self { dir, postgres };
        // Admin commands never create a database: prepare it the documented way.
        db.ok(&["init"]);
        db
    }

    /// The URL the commands use (for walking its tables).
    fn url(&self) -> String {
        match &self.postgres {
            Some((db, _)) => db.url().to_owned(),
            None => format!("sqlite://{}", self.dir.path().join("latchkey.db").display()),
        }
    }

    /// `latchkey ARGS` on this database, with nothing inherited from the caller's environment.
    fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(BIN);
        command.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
        command.env("LATCHKEY_DATA_DIR", self.dir.path());
        if let Some((db, master)) = &self.postgres {
            command.env("LATCHKEY_DATABASE_URL", db.url()).env("LATCHKEY_MASTER_KEY", master);
        }
        command.args(args).output().unwrap()
    }

    /// Runs a command that must succeed and returns its standard output.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(output.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.ok(args);
        serde_json::from_str(&out).unwrap_or_else(|_| panic!("{args:?} printed no JSON: {out}"))
    }

    /// Runs a command that must fail and returns its standard error.
    fn refused(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(!output.status.success(), "{args:?} should have failed: {}", String::from_utf8_lossy(&output.stdout));
        String::from_utf8(output.stderr).unwrap()
    }

    fn project(&self, name: &str) -> String {
        self.json(&["project", "create", "--name", name, "--json"])["id"].as_str().unwrap().to_owned()
    }
}

fn actions(page: &Value) -> Vec<&str> {
    page["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn project_set_renames_and_delete_needs_the_id_twice() {
    let db = Database::fresh().await;
    let project = db.project("First name");
    let kept = db.project("Kept");

    let renamed = db.json(&["project", "set", "--project", &project, "--name", "Acme Login", "--json"]);
    assert_eq!(renamed["name"], "Acme Login");
    assert!(db.ok(&["project", "show", "--project", &project]).contains("Acme Login"));
    // The id as an argument, the earlier spelling, still works for show, set and delete.
    assert!(db.ok(&["project", "show", &project]).contains("Acme Login"));
    db.ok(&["project", "set", &project, "--name", "Acme"]);
    assert!(db.refused(&["project", "set", "--project", &project, "--name", " "]).contains("1 to 100 characters"));
    let missing = db.refused(&["project", "set", "--name", "No project"]);
    assert!(missing.contains("--project <ID>"), "a project is required: {missing}");
    let both = db.refused(&["project", "show", &project, "--project", &kept]);
    assert!(both.contains("cannot be used with"), "one spelling at a time: {both}");
    let page = db.json(&["audit", "list", "--project", &project, "--action", "project.renamed", "--json"]);
    assert_eq!(actions(&page), ["project.renamed", "project.renamed"]);
    assert!(page["events"].as_array().unwrap().iter().all(|e| e["actor"] == "cli" && e["requestId"].is_null()));

    // Rows in most tables: keys, a rotation, its record.
    db.json(&["api-key", "create", "--project", &project, "--scope", "admin", "--json"]);
    db.ok(&["signing-key", "rotate", "--project", &project, "--force"]);
    assert!(!latchkey_store::testing::tables_mentioning(&db.url(), &project).await.is_empty());

    let wrong = db.refused(&["project", "delete", "--project", &project, "--confirm", &kept]);
    assert!(wrong.contains("--confirm must repeat its id"), "{wrong}");
    assert!(db.refused(&["project", "delete", "--project", &project]).contains("--confirm"), "the flag is required");
    db.ok(&["project", "show", "--project", &project]);

    let deleted = db.ok(&["project", "delete", "--project", &project, "--confirm", &project]);
    assert!(deleted.contains(&project), "{deleted}");
    let left = latchkey_store::testing::tables_mentioning(&db.url(), &project).await;
    assert!(left.is_empty(), "rows of the deleted project remain in {left:?}");
    assert!(db.refused(&["project", "show", "--project", &project]).contains("not found"));
    assert!(db.refused(&["project", "delete", &project, "--confirm", &project]).contains("not found"));
    assert_eq!(db.json(&["project", "show", "--project", &kept, "--json"])["name"], "Kept", "the other project stays");
}

/// The app URL in `project show --json` (the admin API's project, camelCase).
fn app_url(project: &Value) -> &Value {
    &project["appUrl"]
}

#[tokio::test]
async fn project_set_app_url_is_checked_shown_and_cleared() {
    let db = Database::fresh().await;
    let project = db.project("Shop");
    let other = db.project("Other");
    assert!(app_url(&db.json(&["project", "show", &project, "--json"])).is_null());

    let set = db.json(&["project", "set", &project, "--app-url", "https://Shop.example/account", "--json"]);
    assert_eq!(app_url(&set), "https://shop.example/account", "normalised");
    assert!(db.ok(&["project", "show", &project]).contains("https://shop.example/account"));
    assert!(app_url(&db.json(&["project", "show", &other, "--json"])).is_null(), "that project only");
    for bad in ["javascript:alert(1)", "http://shop.example/", "https://user:pw@shop.example/"] {
        let refused = db.refused(&["project", "set", &project, "--app-url", bad]);
        assert!(refused.contains("app URL must be an absolute https:// URL"), "{bad}: {refused}");
    }
    let shown = db.json(&["project", "set", &project, "--access-token-ttl", "10m", "--json"]);
    assert_eq!(app_url(&shown), "https://shop.example/account", "other flags leave it alone");
    let cleared = db.json(&["project", "set", &project, "--app-url", "none", "--json"]);
    assert!(app_url(&cleared).is_null(), "{cleared}");
    assert!(app_url(&db.json(&["project", "show", &project, "--json"])).is_null());
}

#[tokio::test]
async fn signing_keys_rotate_and_list() {
    let db = Database::fresh().await;
    let project = db.project("Keys");
    let before = db.json(&["signing-key", "list", "--project", &project, "--json"]);
    let keys = before["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{before}");
    assert_eq!((keys[0]["active"].as_bool(), keys[1]["active"].as_bool()), (Some(false), Some(true)));
    let (standby, signing) = (keys[0]["kid"].as_str().unwrap(), keys[1]["kid"].as_str().unwrap());

    // The standby was published moments ago: a plain rotation waits, an emergency does not.
    let refused = db.refused(&["signing-key", "rotate", "--project", &project]);
    assert!(refused.contains("standby") && refused.contains("force"), "{refused}");
    assert_eq!(db.json(&["signing-key", "list", "--project", &project, "--json"]), before, "nothing changed");
    let after = db.json(&["signing-key", "rotate", "--project", &project, "--force", "--json"]);
    let keys = after["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3, "{after}");
    assert_eq!((keys[1]["kid"].as_str(), keys[1]["active"].as_bool()), (Some(standby), Some(true)));
    assert_eq!(keys[2]["kid"], signing);
    assert!(keys[2]["retiredAt"].is_string() && keys[2]["publishedUntil"].is_string());

    let table = db.ok(&["signing-key", "list", "--project", &project]);
    assert!(table.contains(&format!("{standby}  created")) && table.contains("active (signs new tokens)"), "{table}");
    assert!(table.contains("retired, published until"), "{table}");

    let page = db.json(&["audit", "list", "--project", &project, "--action", "signing-key.rotated", "--json"]);
    let event = &page["events"][0];
    assert_eq!(event["actor"], "cli");
    assert_eq!(event["details"]["newKid"], standby);
    assert_eq!(event["details"]["oldKid"], signing);
    assert_eq!(event["details"]["forced"], true);
    assert!(db.refused(&["signing-key", "list", "--project", "not-a-uuid"]).contains("not a project id"));
}

#[tokio::test]
async fn audit_list_filters_and_pages() {
    let db = Database::fresh().await;
    let project = db.project("Trail");
    let other = db.project("Elsewhere");
    let created = db.json(&["api-key", "create", "--project", &project, "--scope", "admin", "--json"]);
    let key_id = created["id"].as_str().unwrap();
    db.ok(&["api-key", "revoke", "--project", &project, key_id]);
    db.ok(&["project", "set", "--project", &project, "--name", "Trail 2"]);
    db.ok(&["api-key", "create", "--project", &other]);

    let all = db.json(&["audit", "list", "--project", &project, "--json"]);
    assert_eq!(
        actions(&all),
        ["project.renamed", "api-key.revoked", "api-key.created"],
        "newest first, this project only"
    );
    assert_eq!(all["nextCursor"], Value::Null);
    let revoked = &all["events"][1];
    assert_eq!((revoked["actor"].as_str(), revoked["details"]["apiKeyId"].as_str()), (Some("cli"), Some(key_id)));
    assert_eq!(all["events"][2]["details"]["scope"], "admin");
    assert!(!all.to_string().contains(created["apiKey"].as_str().unwrap()), "never the key itself");

    let prefix = db.json(&["audit", "list", "--project", &project, "--action", "api-key.", "--json"]);
    assert_eq!(actions(&prefix), ["api-key.revoked", "api-key.created"]);
    let first = db.json(&["audit", "list", "--project", &project, "--limit", "1", "--json"]);
    assert_eq!(actions(&first), ["project.renamed"]);
    let cursor = first["nextCursor"].as_str().expect("more pages").to_owned();
    let second = db.json(&["audit", "list", "--project", &project, "--limit", "1", "--cursor", &cursor, "--json"]);
    assert_eq!(actions(&second), ["api-key.revoked"]);
    let table = db.ok(&["audit", "list", "--project", &project, "--limit", "2"]);
    assert!(table.contains("project.renamed") && table.contains("cli") && table.contains("more: --cursor"), "{table}");

    assert!(db.refused(&["audit", "list", "--project", &project, "--limit", "0"]).contains("limit must be 1 to 1000"));
    assert!(db.refused(&["audit", "list", "--project", &project, "--cursor", "garbage!"]).contains("cursor"));
    assert!(db.refused(&["audit", "list", "--project", &project, "--action", "nothing"]).contains("action"));
    assert!(db.refused(&["audit", "list", "--project", &project, "--user", "someone"]).contains("userId"));
}
