//! Imported password hashes (issue 11): fixtures made at test time by independent reference
//! implementations (Python's bcrypt, passlib, Django, argon2-cffi, hashlib and cryptography,
//! installed by `scripts/install-test-deps` in `<target>/hash-fixtures-venv`), never by the
//! code under test. For each format: sign-in over HTTP with a wrong password is 401, with the
//! right one 200, and the same request has replaced the stored hash with the server's Argon2id
//! (which then signs in too).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::TestApp;
use latchkey_core::clock::Clock;
use latchkey_core::domain::{Actor, ProjectId};
use latchkey_core::hashing::imported::{FirebaseScryptParams, ImportedHashFormat, firebase_stored_form, inspect};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple ü";

/// Prints one JSON object per line: {name, hash} (and Firebase's salt and project parameters).
const FIXTURES_PY: &str = r#"
import base64, hashlib, json, os, sys
import bcrypt
from argon2 import PasswordHasher, Type
from passlib.hash import pbkdf2_sha256, pbkdf2_sha512, scrypt
from django.conf import settings
settings.configure()
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

pw = sys.argv[1]
raw = pw.encode()
b64 = lambda b: base64.b64encode(b).decode()
phc64 = lambda b: b64(b).rstrip("=")
out = lambda name, hash, **extra: print(json.dumps(dict(name=name, hash=hash, **extra)))

out("argon2id", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1, type=Type.ID).hash(pw))
out("argon2i", PasswordHasher(time_cost=2, memory_cost=512, parallelism=1, type=Type.I).hash(pw))
out("bcrypt-2b", bcrypt.hashpw(raw, bcrypt.gensalt(rounds=10, prefix=b"2b")).decode())
out("bcrypt-2a-cost4", bcrypt.hashpw(raw, bcrypt.gensalt(rounds=4, prefix=b"2a")).decode())
# $2y$ (PHP's label) is the same algorithm as $2b$; Python's bcrypt writes only 2a/2b.
out("bcrypt-2y", "$2y$" + bcrypt.hashpw(raw, bcrypt.gensalt(rounds=10, prefix=b"2b")).decode()[4:])
out("scrypt", scrypt.using(rounds=15).hash(pw))
out("scrypt-ln12", scrypt.using(rounds=12).hash(pw))
out("pbkdf2-sha256-passlib", pbkdf2_sha256.using(rounds=100000).hash(pw))
out("pbkdf2-sha512-passlib-weak", pbkdf2_sha512.using(rounds=25000).hash(pw))
salt = os.urandom(16)
out("pbkdf2-sha256-phc", "$pbkdf2-sha256$i=120000,l=32$%s$%s"
    % (phc64(salt), phc64(hashlib.pbkdf2_hmac("sha256", raw, salt, 120000, 32))))
out("django", PBKDF2PasswordHasher().encode(pw, "Xq1vR8bT0mZa2Ck4", iterations=150000))
out("django-weak", PBKDF2PasswordHasher().encode(pw, "weaksaltweaksalt", iterations=20000))

# Firebase's modified scrypt, as github.com/firebase/scrypt documents it.
signer_key, separator, rounds, mem_cost = os.urandom(64), b"\x07", 8, 14
fb_salt = os.urandom(12)
derived = hashlib.scrypt(raw, salt=fb_salt + separator, n=2 ** mem_cost, r=rounds, p=1, dklen=64)
encryptor = Cipher(algorithms.AES(derived[:32]), modes.CTR(b"\0" * 16)).encryptor()
fb_hash = encryptor.update(signer_key) + encryptor.finalize()
out("firebase", b64(fb_hash), salt=b64(fb_salt), signer_key=b64(signer_key),
    salt_separator=b64(separator), rounds=rounds, mem_cost=mem_cost)
"#;

/// The venv `scripts/install-test-deps` makes under the target directory.
fn fixture_python() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // <target>/debug/deps/imported_hashes-HASH
    let target = exe.ancestors().nth(3).expect("target directory");
    let python = target.join("hash-fixtures-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/install-test-deps (it installs passlib, bcrypt, django, argon2-cffi \
         and cryptography from PyPI)",
        python.display()
    );
    python
}

fn fixtures() -> Vec<Value> {
    let output = Command::new(fixture_python()).args(["-c", FIXTURES_PY, PASSWORD]).output().expect("run python");
    assert!(output.status.success(), "fixture script failed: {}", String::from_utf8_lossy(&output.stderr));
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .expect("utf-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON fixture"))
        .collect();
    assert_eq!(lines.len(), 13, "every fixture printed");
    lines
}

/// What `inspect` must say of each reference fixture.
fn expected(name: &str) -> (ImportedHashFormat, bool) {
    use ImportedHashFormat as F;
    match name {
        "argon2id" => (F::Argon2, true),
        "argon2i" => (F::Argon2, true),
        "bcrypt-2b" | "bcrypt-2y" => (F::Bcrypt, false),
        "bcrypt-2a-cost4" => (F::Bcrypt, true),
        "scrypt" => (F::Scrypt, false),
        "scrypt-ln12" => (F::Scrypt, true),
        "pbkdf2-sha256-passlib" | "pbkdf2-sha256-phc" => (F::Pbkdf2Sha256, false),
        "pbkdf2-sha512-passlib-weak" => (F::Pbkdf2Sha512, true),
        "django" => (F::DjangoPbkdf2Sha256, false),
        "django-weak" => (F::DjangoPbkdf2Sha256, true),
        "firebase" => (F::FirebaseScrypt, false),
        other => panic!("unexpected fixture {other}"),
    }
}

/// A user of `project` whose stored hash is `hash`, exactly as an import stores it.
async fn user_with_hash(app: &TestApp, email: &str, hash: &str) {
    app.sign_up(email).await;
    let user = app.store.find_user_by_email(app.project, email).await.unwrap().expect("user");
    let old = user.password_hash.expect("a hash");
    assert!(app.store.upgrade_password_hash(app.project, user.id, &old, hash, app.clock.now()).await.unwrap());
}

async fn stored_hash(app: &TestApp, project: ProjectId, email: &str) -> String {
    let user = app.store.find_user_by_email(project, email).await.unwrap().expect("user");
    user.password_hash.expect("a hash")
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> StatusCode {
    app.post("/auth/sign-in", json!({ "email": email, "password": password })).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_imported_format_signs_in_and_is_upgraded_to_argon2id() {
    let app = TestApp::spawn().await;
    for fixture in fixtures() {
        let name = fixture["name"].as_str().expect("name");
        let mut hash = fixture["hash"].as_str().expect("hash").to_owned();
        if name == "firebase" {
            let params = FirebaseScryptParams::from_base64(
                fixture["signer_key"].as_str().unwrap(),
                fixture["salt_separator"].as_str().unwrap(),
                fixture["rounds"].as_u64().unwrap() as u32,
                fixture["mem_cost"].as_u64().unwrap() as u32,
            )
            .expect("Firebase parameters");
            app.admin.import_settings.set_firebase(app.project, &params, Actor::Cli).await.expect("settings");
            hash = firebase_stored_form(&hash, fixture["salt"].as_str().unwrap()).expect("stored form");
        }
        let found = inspect(&hash).unwrap_or_else(|e| panic!("{name}: {hash}: {e}"));
        assert_eq!((found.format, found.below_floor), expected(name), "{name}: {hash}");

        let email = format!("{name}@example.com");
        user_with_hash(&app, &email, &hash).await;
        assert_eq!(sign_in(&app, &email, "correct horse battery stapl ü").await, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(stored_hash(&app, app.project, &email).await, hash, "{name}: a failed sign-in changes nothing");
        assert_eq!(sign_in(&app, &email, PASSWORD).await, StatusCode::OK, "{name}: {hash}");
        let upgraded = stored_hash(&app, app.project, &email).await;
        assert!(upgraded.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{name}: still {upgraded}");
        // The Argon2id hash is of the same password.
        assert_eq!(sign_in(&app, &email, PASSWORD).await, StatusCode::OK, "{name} after the upgrade");
        assert_eq!(sign_in(&app, &email, "wrong").await, StatusCode::UNAUTHORIZED, "{name} after the upgrade");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firebase_parameters_belong_to_their_project() {
    let app = TestApp::spawn().await;
    let firebase = fixtures().into_iter().find(|f| f["name"] == "firebase").expect("firebase fixture");
    let hash = firebase_stored_form(firebase["hash"].as_str().unwrap(), firebase["salt"].as_str().unwrap()).unwrap();
    let right = FirebaseScryptParams::from_base64(
        firebase["signer_key"].as_str().unwrap(),
        firebase["salt_separator"].as_str().unwrap(),
        8,
        14,
    )
    .unwrap();
    // Another project with other parameters: they do not apply here.
    let (other, _) = app.another_project().await;
    app.admin.import_settings.set_firebase(other, &right, Actor::Cli).await.unwrap();
    let wrong_key = FirebaseScryptParams::new(vec![9; 64], vec![7], 8, 14).unwrap();
    app.admin.import_settings.set_firebase(app.project, &wrong_key, Actor::Cli).await.unwrap();
    user_with_hash(&app, "fb@example.com", &hash).await;
    assert_eq!(sign_in(&app, "fb@example.com", PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(stored_hash(&app, app.project, "fb@example.com").await, hash);

    // Set again with the right key (replacing the first), the user signs in and is upgraded;
    // the signer key is stored sealed, never in the clear.
    app.admin.import_settings.set_firebase(app.project, &right, Actor::Cli).await.unwrap();
    let stored = app.store.firebase_hash_settings(app.project).await.unwrap().expect("stored");
    assert_ne!(stored.signer_key_sealed, right.signer_key);
    assert!(!stored.signer_key_sealed.windows(16).any(|w| right.signer_key.windows(16).any(|k| k == w)));
    assert_eq!(sign_in(&app, "fb@example.com", PASSWORD).await, StatusCode::OK);
    assert!(stored_hash(&app, app.project, "fb@example.com").await.starts_with("$argon2id$"));
}
