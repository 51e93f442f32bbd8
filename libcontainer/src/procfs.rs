//! brig's own writes to /proc: sysctls, oom_score_adj, id maps,
//! timens_offsets, LSM labels, and the setgroups read.
//!
//! None of them goes through a path: a container can make its `/proc` a
//! symlink, a bind of a directory of fake files, or a tmpfs, and a write by
//! path would then land there, or on the host, while the real setting is
//! silently never made (CVE-2019-16884, CVE-2019-19921, CVE-2023-27561,
//! CVE-2023-28642, CVE-2025-52881 in runc). Every access goes through a
//! `pathrs` procfs handle instead: a private procfs instance
//! (fsopen/fsmount, or an open_tree clone of the host's /proc), verified to
//! be procfs by its statfs magic, and walked with no symlinks and no mount
//! crossings, so an overmount inside it is refused too.

use std::io::{Read, Write};
use std::path::PathBuf;

use nix::unistd::Pid;
use pathrs::flags::OpenFlags;
use pathrs::procfs::{ProcfsBase, ProcfsHandle, ProcfsHandleBuilder};

use crate::error::{pathrs_errno, Error, Result};

/// The /proc directory a path is relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Base {
    /// `/proc` itself (global files such as `sys/...`).
    Root,
    /// `/proc/self`.
    Own,
    /// `/proc/thread-self` (LSM attributes are per thread).
    Thread,
    /// `/proc/PID` of a child that has not been reaped.
    Child(Pid),
}

impl Base {
    fn pathrs(self) -> ProcfsBase {
        match self {
            Base::Root => ProcfsBase::ProcRoot,
            Base::Own => ProcfsBase::ProcSelf,
            Base::Thread => ProcfsBase::ProcThreadSelf,
            Base::Child(pid) => ProcfsBase::ProcPid(pid.as_raw().unsigned_abs()),
        }
    }

    /// The path as an operator would write it, for error messages only.
    pub(crate) fn show(self, sub: &str) -> PathBuf {
        match self {
            Base::Root => format!("/proc/{sub}"),
            Base::Own => format!("/proc/self/{sub}"),
            Base::Thread => format!("/proc/thread-self/{sub}"),
            Base::Child(pid) => format!("/proc/{pid}/{sub}"),
        }
        .into()
    }
}

/// A verified handle on a procfs instance of brig's own.
#[derive(Debug)]
pub(crate) struct Procfs {
    handle: ProcfsHandle,
}

impl Procfs {
    /// A `subset=pid` instance, for per-process files only (pathrs caches
    /// it for the life of this process).
    pub(crate) fn per_process() -> Result<Procfs> {
        let handle = ProcfsHandle::new().map_err(|e| px("open private procfs", "/proc", &e))?;
        Ok(Procfs { handle })
    }

    /// An instance with the global files too (`/proc/sys`), for the init's
    /// sysctls only (a second mount, so not made without them). Not cached: the init drops it before execve, and its fd is
    /// close-on-exec in any case, so the container never holds it.
    pub(crate) fn with_globals() -> Result<Procfs> {
        let handle = ProcfsHandleBuilder::new()
            .unmasked()
            .build()
            .map_err(|e| px("open private procfs", "/proc", &e))?;
        Ok(Procfs { handle })
    }

    fn open(&self, base: Base, sub: &str, flags: OpenFlags) -> Result<std::fs::File> {
        self.handle.open(base.pathrs(), sub, flags | OpenFlags::O_CLOEXEC).map_err(|e| px("open", base.show(sub), &e))
    }

    /// Writes `data` to a /proc file in one write(2), as the kernel wants
    /// for files such as uid_map.
    pub(crate) fn write(&self, base: Base, sub: &str, data: &[u8]) -> Result<()> {
        let mut f = self.open(base, sub, OpenFlags::O_WRONLY)?;
        match f.write(data) {
            Ok(n) if n == data.len() => Ok(()),
            Ok(_) => Err(Error::sys("write (short)", base.show(sub), nix::errno::Errno::EIO)),
            Err(e) => Err(Error::io("write", base.show(sub), &e)),
        }
    }

    /// Reads a /proc file as text.
    pub(crate) fn read(&self, base: Base, sub: &str) -> Result<String> {
        let mut text = String::new();
        self.open(base, sub, OpenFlags::O_RDONLY)?
            .read_to_string(&mut text)
            .map_err(|e| Error::io("read", base.show(sub), &e))?;
        Ok(text)
    }
}

/// A pathrs error as brig's [`Error::Sys`], pathrs's message kept in the
/// operation: it says which check refused the path.
fn px(op: &'static str, path: impl Into<PathBuf>, e: &pathrs::error::Error) -> Error {
    Error::sys(format!("{op} ({e})"), path.into(), pathrs_errno(e))
}

/// The `/proc/sys` path of a sysctl key: dots become slashes, as runc does.
pub(crate) fn sysctl_path(key: &str) -> String {
    format!("sys/{}", key.replace('.', "/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctl_keys_become_proc_sys_paths() {
        assert_eq!(sysctl_path("net.ipv4.ip_forward"), "sys/net/ipv4/ip_forward");
        assert_eq!(Base::Root.show(&sysctl_path("kernel.msgmax")), PathBuf::from("/proc/sys/kernel/msgmax"));
        assert_eq!(Base::Child(Pid::from_raw(42)).show("uid_map"), PathBuf::from("/proc/42/uid_map"));
    }

    #[test]
    fn reads_and_refuses_like_proc() {
        let p = Procfs::per_process().unwrap();
        let status = p.read(Base::Own, "status").unwrap();
        assert!(status.contains(&format!("Pid:\t{}", std::process::id())), "{status}");
        // A symlink is never followed (O_NOFOLLOW): /proc/self/cwd is one.
        let err = p.read(Base::Own, "cwd").unwrap_err().to_string();
        assert!(err.contains("/proc/self/cwd"), "{err}");
        let err = p.write(Base::Own, "no-such-file", b"x").unwrap_err();
        assert_eq!(err.errno(), Some(nix::errno::Errno::ENOENT), "{err}");
    }
}
