//! Optional durability (`--state-file`): users, clients, consents, grants
//! with the hashes of their live access tokens, and the shared keys survive
//! a redeploy, so ChatGPT stays connected and revocation still reaches
//! tokens issued before the restart. Codes, pending pages, sessions and
//! throttle windows are not kept.
//!
//! The file holds only hashes of secrets (and the device-cookie key). It is
//! replaced atomically (write a temporary file with mode 0600, fsync,
//! rename, fsync the directory), so a crash leaves either the old or the new
//! state, never a torn one; temporaries a crash left behind are removed at
//! start-up. Writes follow changes after [`WRITE_DELAY`], so a burst of
//! changes costs one write; `OAuth::flush_state` at shutdown writes the rest.

use super::error::{OAuthSetupError, StateFileProblem};
use super::store::{MemoryStore, SNAPSHOT_VERSION, Snapshot};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::Notify;

/// Refuse to load a state file larger than this (a corrupt or hostile file
/// should not exhaust memory at startup); the bounded maps fit well below.
pub const MAX_STATE_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// How long the writer waits after a change before writing: changes in that
/// time share the write (a refresh storm is not an fsync storm).
pub const WRITE_DELAY: Duration = Duration::from_millis(500);

pub fn load(path: &Path) -> Result<Option<Snapshot>, OAuthSetupError> {
    let fail = |p| OAuthSetupError::state_file(path, p);
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(StateFileProblem::Io(e))),
    };
    if meta.len() > MAX_STATE_FILE_BYTES {
        return Err(fail(StateFileProblem::TooLarge(MAX_STATE_FILE_BYTES)));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(StateFileProblem::Io(e)))?;
    let snap: Snapshot =
        serde_json::from_slice(&bytes).map_err(|e| fail(StateFileProblem::Json(e)))?;
    if snap.version != SNAPSHOT_VERSION {
        return Err(fail(StateFileProblem::Version(snap.version)));
    }
    Ok(Some(snap))
}

fn dir_and_name(path: &Path) -> std::io::Result<(&Path, String)> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("state file path has no file name"))?;
    Ok((dir, name.to_string_lossy().into_owned()))
}

/// The prefix of this state file's temporaries (`.<name>.tmp.<pid>`).
fn temporary_prefix(name: &str) -> String {
    format!(".{name}.tmp.")
}

/// Removes temporaries a crashed write left next to `path`.
pub fn remove_stale_temporaries(path: &Path) {
    let Ok((dir, name)) = dir_and_name(path) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = temporary_prefix(&name);
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {
                    tracing::info!(file = %entry.path().display(), "removed a stale state-file temporary")
                }
                Err(e) => {
                    tracing::warn!(file = %entry.path().display(), error = %e, "could not remove a stale state-file temporary")
                }
            }
        }
    }
}

/// Atomically replaces `path` with `bytes`, owner-only permissions.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let (dir, name) = dir_and_name(path)?;
    let tmp = dir.join(format!("{}{}", temporary_prefix(&name), std::process::id()));
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

/// Writes the snapshot after each burst of changes (coalesced by `Notify`
/// and [`WRITE_DELAY`]).
pub fn spawn_writer(store: Weak<MemoryStore>, changed: Arc<Notify>, path: PathBuf) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::spawn(async move {
        loop {
            changed.notified().await;
            tokio::time::sleep(WRITE_DELAY).await;
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

    #[test]
    fn stale_temporaries_go_and_other_files_stay() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        for name in [".state.json.tmp.123", ".state.json.tmp.9", "other.json"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        remove_stale_temporaries(&p);
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["other.json"]);
    }
}
