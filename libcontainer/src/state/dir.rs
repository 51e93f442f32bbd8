//! The per-container state directory `<root>/<id>`, locked with flock(2) so
//! that commands on one id are serialized while different ids never block
//! each other.

use std::fs::{self, DirBuilder, File};
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use super::{ContainerId, State};
use crate::error::{Context, Error, Result};

/// The fifo the init blocks on until `start` opens it.
pub(crate) const EXEC_FIFO: &str = "exec.fifo";
const STATE_FILE: &str = "state.json";

/// A locked state directory. The lock is held until this is dropped.
#[derive(Debug)]
pub struct StateDir {
    path: PathBuf,
    id: ContainerId,
    lock: Flock<File>,
}

impl StateDir {
    /// Creates `<root>/<id>` and locks it; fails if the id exists.
    pub fn create(root: &Path, id: &ContainerId) -> Result<StateDir> {
        DirBuilder::new().recursive(true).mode(0o700).create(root).ctx("mkdir", root)?;
        let path = root.join(id.as_str());
        match DirBuilder::new().mode(0o711).create(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::Exists { id: id.to_string() })
            }
            Err(e) => return Err(Error::io("mkdir", &path, &e)),
        }
        Self::lock(path, id)
    }

    /// Opens and locks the existing state dir of `id`.
    pub fn open(root: &Path, id: &ContainerId) -> Result<StateDir> {
        let path = root.join(id.as_str());
        let dir = Self::lock(path, id)?;
        // A concurrent delete may have removed the dir while we waited.
        let gone = dir.lock.metadata().map(|m| m.nlink() == 0).unwrap_or(true);
        if gone {
            return Err(Error::NotFound { id: id.to_string() });
        }
        Ok(dir)
    }

    fn lock(path: PathBuf, id: &ContainerId) -> Result<StateDir> {
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotFound { id: id.to_string() })
            }
            Err(e) => return Err(Error::io("open", &path, &e)),
        };
        let lock = Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| Error::sys("flock", &path, e))?;
        Ok(StateDir { path, id: id.clone(), lock })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The container id.
    pub fn id(&self) -> &ContainerId {
        &self.id
    }

    /// The lock's file descriptor (the container's init closes it first).
    pub(crate) fn lock_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.lock.as_fd()
    }

    /// The exec fifo's path.
    pub(crate) fn fifo_path(&self) -> PathBuf {
        self.path.join(EXEC_FIFO)
    }

    /// Writes state.json atomically (temp file + rename).
    pub fn write_state(&self, state: &State) -> Result<()> {
        let tmp = self.path.join(".state.json.tmp");
        let data = serde_json::to_vec(state).map_err(|e| Error::config("state.json", e.to_string()))?;
        let mut f = File::create(&tmp).ctx("create", &tmp)?;
        f.write_all(&data).ctx("write", &tmp)?;
        let dst = self.path.join(STATE_FILE);
        fs::rename(&tmp, &dst).ctx("rename", &dst)
    }

    /// Reads state.json. A missing file means create never finished.
    pub fn read_state(&self) -> Result<Option<State>> {
        let path = self.path.join(STATE_FILE);
        let data = match fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", &path, &e)),
        };
        parse_state(&data).map(Some)
    }

    /// Removes the directory and everything in it; the lock goes with it.
    pub fn remove(self) -> Result<()> {
        fs::remove_dir_all(&self.path).ctx("remove", &self.path)
    }
}

/// Parses state.json strictly: it is written by brig, but it lives on disk
/// where anyone with root could edit it.
pub fn parse_state(data: &[u8]) -> Result<State> {
    let mut de = serde_json::Deserializer::from_slice(data);
    serde_path_to_error::deserialize(&mut de).map_err(|e| Error::Config {
        file: "state.json".into(),
        field: e.path().to_string(),
        reason: e.into_inner().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp_root(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("brig-state-test-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        p
    }

    #[test]
    fn create_twice_is_exists() {
        let root = tmp_root("twice");
        let id = ContainerId::parse("c1").unwrap();
        let d = StateDir::create(&root, &id).unwrap();
        drop(d);
        assert!(matches!(StateDir::create(&root, &id), Err(Error::Exists { .. })));
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn open_missing_is_not_found() {
        let root = tmp_root("missing");
        let id = ContainerId::parse("nope").unwrap();
        assert!(matches!(StateDir::open(&root, &id), Err(Error::NotFound { .. })));
    }

    #[test]
    fn garbage_state_names_field() {
        let err = parse_state(br#"{"ociVersion":"1","id":"x","pid":"no"}"#).unwrap_err().to_string();
        assert!(err.contains("pid"), "{err}");
    }
}
