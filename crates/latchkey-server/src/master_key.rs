//! The master key that encrypts secrets at rest: from `LATCHKEY_MASTER_KEY` (environment only,
//! so it never shows in a process list), from the file named by `master_key_file`, or, with
//! an embedded database, from `master.key` beside it (generated for a new database only).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use latchkey_core::crypto::MasterKey;

/// The variable holding the key as base64 of 32 bytes.
pub const ENV_VAR: &str = "LATCHKEY_MASTER_KEY";

/// `LATCHKEY_MASTER_KEY` of this process, if set and not blank.
pub fn from_environment() -> Option<String> {
    std::env::var(ENV_VAR).ok().filter(|k| !k.trim().is_empty())
}

/// The key from `text` (the variable), else `key_file`, else the embedded database's key
/// file; a server database (`sqlite_db` None) needs one of the first two.
pub fn resolve(text: Option<String>, key_file: Option<&Path>, sqlite_db: Option<&Path>) -> anyhow::Result<MasterKey> {
    match (text, key_file, sqlite_db) {
        (Some(text), _, _) => MasterKey::from_base64(&text).map_err(|_| {
            anyhow::anyhow!(
                "LATCHKEY_MASTER_KEY must be the base64 of 32 random bytes (e.g. `openssl rand -base64 32`)"
            )
        }),
        (None, Some(path), _) => read_key_file(path),
        (None, None, Some(db)) => embedded(db),
        (None, None, None) => {
            bail!("LATCHKEY_MASTER_KEY is required with a server database (it encrypts signing keys at rest)")
        }
    }
}

/// Embedded mode: the master key lives in `master.key` beside the database file, readable by
/// the owner only. It is generated only for a database that does not exist yet: a missing
/// key beside an existing database is an error, never silently replaced.
fn embedded(database: &Path) -> anyhow::Result<MasterKey> {
    let key_path = embedded_key_path(database);
    let dir = key_path.parent().unwrap_or(Path::new("."));
    if key_path.exists() {
        return read_key_file(&key_path);
    }
    if database.exists() {
        bail!(
            "the database {} exists but its master key file {} is missing: restore it, or set LATCHKEY_MASTER_KEY",
            database.display(),
            key_path.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create data directory {}", dir.display()))?;
    let (key, text) = MasterKey::generate();
    write_private_file(&key_path, &text)
        .with_context(|| format!("cannot write master key file {}", key_path.display()))?;
    tracing::info!(path = %key_path.display(), "generated a new master key");
    Ok(key)
}

/// Where the embedded database at `database` keeps its master key: `master.key` beside it.
pub fn embedded_key_path(database: &Path) -> PathBuf {
    let dir = database.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    dir.join("master.key")
}

fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read master key file {}", path.display()))?;
    MasterKey::from_base64(&text)
        .map_err(|_| anyhow::anyhow!("master key file {} is not base64 of 32 bytes", path.display()))
}

/// Creates `path` (never overwrites) readable by its owner only.
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}
