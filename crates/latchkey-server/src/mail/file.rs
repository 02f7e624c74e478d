//! The file transport, the embedded default when no relay is configured: each message is
//! written as `<dir>/<project id>/<outbox id>.eml`, so a developer can open it and click the link.

use std::path::PathBuf;

use latchkey_core::domain::{OutboxId, ProjectId};
use latchkey_core::mail::SendError;

#[derive(Debug, Clone)]
pub struct EmlDrop {
    pub dir: PathBuf,
}

impl EmlDrop {
    /// Named by row, so a retry overwrites rather than duplicates; written via a temporary
    /// file and a rename, so a reader never sees half a message.
    pub async fn write(&self, project: ProjectId, id: OutboxId, bytes: &[u8]) -> Result<(), SendError> {
        let dir = self.dir.join(project.to_string());
        let path = dir.join(format!("{id}.eml"));
        let partial = dir.join(format!(".{id}.eml.partial"));
        let io = |e: std::io::Error| SendError::Transient(format!("cannot write {}: {e}", path.display()));
        tokio::fs::create_dir_all(&dir).await.map_err(io)?;
        tokio::fs::write(&partial, bytes).await.map_err(io)?;
        tokio::fs::rename(&partial, &path).await.map_err(io)?;
        tracing::info!(outbox = %id, path = %path.display(), "no SMTP configured: email written to file");
        Ok(())
    }
}
