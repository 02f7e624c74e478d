//! The SQLite store on a full disk (a small tmpfs; needs root to mount it, else skips with the
//! reason printed): a failed write is `StorageFull` and leaves no transaction behind, so
//! nothing reports success without committing, another connection (the admin CLI) can still
//! write, the readiness probe fails while the disk is full, and everything recovers by itself
//! once space returns. The server's `tests/disk_full.rs` checks the same through the binary.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use chrono::Utc;
use latchkey_core::domain::{Project, ProjectId, ProjectSettings};
use latchkey_core::store::{CoreStore, StoreError};
use latchkey_core::tokens::StoredSigningKey;
use latchkey_store::{SqlStore, SqliteStore};
use sqlx::Connection;

struct Tmpfs(tempfile::TempDir);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0.path()).status();
    }
}

fn mount_tmpfs(size: &str) -> Result<Tmpfs, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let output = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir.path())
        .output()
        .map_err(|e| format!("cannot run mount: {e}"))?;
    if !output.status.success() {
        return Err(format!("mount -t tmpfs failed (needs root): {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    Ok(Tmpfs(dir))
}

fn fill(path: &Path) {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    let zeros = vec![0u8; 1 << 16];
    let mut chunk = zeros.len();
    while chunk > 0 {
        match file.write(&zeros[..chunk]) {
            Ok(0) | Err(_) => chunk /= 2,
            Ok(_) => {}
        }
    }
}

async fn create_project(store: &SqlStore, n: usize) -> Result<ProjectId, StoreError> {
    let id = ProjectId::generate();
    let project = Project {
        id,
        name: format!("project {n} {}", "x".repeat(2000)),
        settings: ProjectSettings::default(),
        created_at: Utc::now(),
    };
    let key = StoredSigningKey {
        kid: format!("kid-{id}"),
        project_id: id,
        public_key: vec![7; 32],
        private_key_sealed: vec![9; 2000],
        created_at: Utc::now(),
        activated_at: Some(Utc::now()),
        retired_at: None,
        published_until: None,
    };
    store.create_project(&project, &[key]).await.map(|()| id)
}

#[tokio::test]
async fn a_failed_write_on_a_full_disk_leaves_no_transaction_behind() {
    let disk = match mount_tmpfs("4m") {
        Ok(disk) => disk,
        Err(reason) => {
            eprintln!("skipped: {reason}");
            return;
        }
    };
    let db = disk.0.path().join("latchkey.db");
    let store = SqliteStore::open(&db).await.unwrap();
    let mut acknowledged = vec![create_project(&store, 0).await.unwrap()];

    let filler = disk.0.path().join("filler");
    fill(&filler);
    let mut failures = 0;
    for n in 1..30 {
        match create_project(&store, n).await {
            Ok(id) => acknowledged.push(id),
            Err(StoreError::StorageFull(_)) => failures += 1,
            Err(other) => panic!("a full disk is StorageFull, got {other:?}"),
        }
    }
    // Every acknowledged write is visible to readers, even before space returns.
    let listed: Vec<ProjectId> = store.list_projects().await.unwrap().into_iter().map(|p| p.id).collect();
    let lost = acknowledged.iter().filter(|id| !listed.contains(id)).count();
    assert_eq!(lost, 0, "{lost} of {} acknowledged projects were never committed", acknowledged.len());
    assert!(failures >= 20, "writes on a full disk: only {failures} of 29 failed");
    for _ in 0..3 {
        assert!(matches!(store.ping().await, Err(StoreError::StorageFull(_))), "readiness fails while full");
    }

    std::fs::remove_file(&filler).unwrap();
    // A probe's outcome answers readiness for a second (single-flight readiness): the next
    // probe is the one that sees the space.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    store.ping().await.expect("ready again once space returns");
    acknowledged.push(create_project(&store, 1000).await.expect("writes resume by themselves"));

    // No stale transaction holds the write lock: another connection writes at once.
    let url = format!("sqlite://{}", db.display());
    let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("PRAGMA busy_timeout = 0").execute(&mut other).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.expect("the write lock is free");
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut other).await.unwrap();
    assert_eq!(check, "ok");
    other.close().await.unwrap();

    // Reopened (as after a restart), every acknowledged project is there.
    drop(store);
    let reopened = SqliteStore::open(&db).await.unwrap();
    for id in &acknowledged {
        assert!(reopened.get_project(*id).await.unwrap().is_some(), "project {id} survived a reopen");
    }
}
