//! Optional durability (`--state-file`): users, clients, consents and refresh
//! grants survive a redeploy, so ChatGPT stays connected. Access tokens,
//! codes and pending pages are not kept: after a restart a client gets one
//! `401 invalid_token`, refreshes, and carries on.
//!
//! The file holds only hashes of secrets. It is replaced atomically (write a
//! temporary file with mode 0600, fsync, rename, fsync the directory), so a
//! crash leaves either the old or the new state, never a torn one.

use super::error::OAuthSetupError;
use super::store::{MemoryStore, SNAPSHOT_VERSION, Snapshot};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use tokio::sync::Notify;

/// Refuse to load a state file larger than this (a corrupt or hostile file
/// should not exhaust memory at startup); the bounded maps fit well below.
pub const MAX_STATE_FILE_BYTES: u64 = 256 * 1024 * 1024;

pub fn load(path: &Path) -> Result<Option<Snapshot>, OAuthSetupError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(OAuthSetupError::StateFile(format!(
                "{}: {e}",
                path.display()
            )));
        }
    };
    if meta.len() > MAX_STATE_FILE_BYTES {
        return Err(OAuthSetupError::StateFile(format!(
            "{} is larger than {MAX_STATE_FILE_BYTES} bytes",
            path.display()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| OAuthSetupError::StateFile(format!("{}: {e}", path.display())))?;
    let snap: Snapshot = serde_json::from_slice(&bytes)
        .map_err(|e| OAuthSetupError::StateFile(format!("{}: {e}", path.display())))?;
    if snap.version != SNAPSHOT_VERSION {
        return Err(OAuthSetupError::StateFile(format!(
            "{}: unsupported version {}",
            path.display(),
            snap.version
        )));
    }
    Ok(Some(snap))
}

/// Atomically replaces `path` with `bytes`, owner-only permissions.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("state file path has no file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp.{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Serialises writers: the snapshot is taken under the lock, so a later
/// write can never be overtaken by an earlier (staler) one.
static WRITE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub async fn write_snapshot(store: &Arc<MemoryStore>, path: &Path) -> std::io::Result<()> {
    let store = store.clone();
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let _guard = WRITE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = serde_json::to_vec(&store.snapshot()).map_err(std::io::Error::other)?;
        write_atomic(&path, &bytes)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Writes the snapshot after each burst of changes (coalesced by `Notify`).
pub fn spawn_writer(store: Weak<MemoryStore>, changed: Arc<Notify>, path: PathBuf) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::spawn(async move {
        loop {
            changed.notified().await;
            let Some(store) = store.upgrade() else { return };
            if let Err(e) = write_snapshot(&store, &path).await {
                tracing::warn!(path = %path.display(), error = %e, "could not write state file");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_is_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        write_atomic(&p, b"{}").unwrap();
        write_atomic(&p, b"{\"a\":1}").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"{\"a\":1}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
