//! Path resolution inside the rootfs, through `pathrs` (openat2
//! RESOLVE_IN_ROOT where the kernel has it): a symlink in the image, however
//! it is written, resolves inside the rootfs and never on the host.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::stat::{fstat, FileStat, SFlag};
use pathrs::{Handle, InodeType, Root};

use super::plan::clean;
use crate::error::{pathrs_errno as errno, Error, Result};

/// How many symlinks a dangling-symlink chase follows before ELOOP, as the
/// kernel's limit.
const MAX_SYMLINKS: usize = 40;

/// The rootfs as a pathrs root, plus its host path for messages only.
pub(crate) struct RootDir {
    /// The pathrs root; every lookup goes through it.
    pub root: Root,
    /// Where the rootfs is, for error messages; never used for a syscall.
    pub shown: PathBuf,
}

impl RootDir {
    /// Opens `path` (a trusted host path: the bundle's rootfs, or `/` after
    /// pivot_root) as the root of every later lookup.
    pub fn open(path: &Path) -> Result<RootDir> {
        let root = Root::open(path).map_err(|e| px("open rootfs", path, &e))?;
        Ok(RootDir { root, shown: path.to_path_buf() })
    }

    /// `dest` as shown in errors: the rootfs path joined with it.
    pub fn show(&self, dest: &Path) -> PathBuf {
        self.shown.join(dest.strip_prefix("/").unwrap_or(dest))
    }

    /// Resolves `dest`, following symlinks inside the root. None if it does
    /// not exist.
    pub fn lookup(&self, dest: &Path) -> Result<Option<Handle>> {
        match self.root.resolve(dest) {
            Ok(h) => Ok(Some(h)),
            Err(e) if errno(&e) == Errno::ENOENT => Ok(None),
            Err(e) => Err(px("resolve in rootfs", &self.show(dest), &e)),
        }
    }

    /// Resolves `dest` without following a symlink in its last component.
    pub fn lookup_nofollow(&self, dest: &Path) -> Result<Option<Handle>> {
        match self.root.resolve_nofollow(dest) {
            Ok(h) => Ok(Some(h)),
            Err(e) if errno(&e) == Errno::ENOENT => Ok(None),
            Err(e) => Err(px("resolve in rootfs", &self.show(dest), &e)),
        }
    }

    /// Follows `dest` while it is a symlink, inside the root, and returns the
    /// path it finally names (which may not exist yet). Lets a mount
    /// destination such as `/etc/resolv.conf -> ../run/resolv.conf` be
    /// created where the link points, as runc does, without leaving the root.
    pub fn chase(&self, dest: &Path) -> Result<PathBuf> {
        let mut p = clean(dest);
        for _ in 0..MAX_SYMLINKS {
            let Some(h) = self.lookup_nofollow(&p)? else { return Ok(p) };
            if !is_type(&stat(&h, &self.show(&p))?, SFlag::S_IFLNK) {
                return Ok(p);
            }
            let target = self.root.readlink(&p).map_err(|e| px("readlink in rootfs", &self.show(&p), &e))?;
            let parent = p.parent().unwrap_or(Path::new("/"));
            p = clean(&parent.join(target));
        }
        Err(Error::sys("resolve in rootfs", self.show(dest), Errno::ELOOP))
    }

    /// Makes sure `dest` is a directory (creating it and its parents, mode
    /// 0755) and returns it.
    pub fn ensure_dir(&self, dest: &Path) -> Result<Handle> {
        let p = self.chase(dest)?;
        let perm = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        self.root.mkdir_all(&p, &perm).map_err(|e| px("mkdir in rootfs", &self.show(&p), &e))
    }

    /// Makes sure `dest` exists, creating an empty regular file (and its
    /// parent directories) if it does not, and returns it.
    pub fn ensure_file(&self, dest: &Path, mode: u32) -> Result<Handle> {
        let p = self.chase(dest)?;
        if let Some(parent) = p.parent() {
            self.ensure_dir(parent)?;
        }
        let perm = std::os::unix::fs::PermissionsExt::from_mode(mode);
        match self.root.create(&p, &InodeType::File(perm)) {
            Ok(()) => {}
            Err(e) if errno(&e) == Errno::EEXIST => {}
            Err(e) => return Err(px("create in rootfs", &self.show(&p), &e)),
        }
        self.root.resolve(&p).map_err(|e| px("resolve in rootfs", &self.show(&p), &e))
    }
}

/// fstat(2) of a handle.
pub(crate) fn stat(h: &impl AsFd, shown: &Path) -> Result<FileStat> {
    fstat(h.as_fd()).map_err(|e| Error::sys("fstat", shown, e))
}

/// True if `st` is of file type `t` (S_IFDIR, S_IFLNK, ...).
pub(crate) fn is_type(st: &FileStat, t: SFlag) -> bool {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == t
}

/// A pathrs error as brig's [`Error::Sys`]; pathrs's own message is kept in
/// the operation, as it says which step of the walk failed.
pub(crate) fn px(op: &'static str, path: &Path, e: &pathrs::error::Error) -> Error {
    Error::sys(format!("{op} ({e})"), path, errno(e))
}
