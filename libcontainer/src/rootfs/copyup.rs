//! runc's `tmpcopyup`: what the image had at a tmpfs's destination is copied
//! into the new, still detached tmpfs before it is attached. Everything is
//! done relative to directory fds opened with O_NOFOLLOW, so a symlink in the
//! image is copied as a symlink and never followed.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, AtFlags, OFlag};
use nix::sys::stat::{fchmodat, fstatat, mkdirat, mknodat, FchmodatFlags, FileStat, Mode, SFlag};
use nix::unistd::{fchownat, symlinkat, Gid, Uid};

use crate::error::{Error, Result};

/// Deeper trees than this are refused rather than risk the init's stack.
const MAX_DEPTH: usize = 128;

/// Copies the directory `src` (an fd inside the rootfs) into `dst` (the
/// root of the detached tmpfs), with modes and owners, and gives `dst` the
/// mode and owner of `src`.
pub(super) fn copy_up(src: BorrowedFd<'_>, dst: BorrowedFd<'_>, shown: &Path) -> Result<()> {
    let st = fstatat(src, "", AtFlags::AT_EMPTY_PATH).map_err(|e| Error::sys("fstat (tmpcopyup)", shown, e))?;
    copy_dir(src, dst, shown, 0)?;
    set_owner_mode(dst, OsStr::new(""), &st, shown, AtFlags::AT_EMPTY_PATH)
}

fn open_dir(dir: BorrowedFd<'_>, name: &OsStr, shown: &Path) -> Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    openat(dir, name, flags, Mode::empty()).map_err(|e| Error::sys("open (tmpcopyup)", shown, e))
}

fn copy_dir(src: BorrowedFd<'_>, dst: BorrowedFd<'_>, shown: &Path, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::sys("copy (tmpcopyup, tree too deep)", shown, Errno::ELOOP));
    }
    let mut dir = Dir::from_fd(open_dir(src, OsStr::new("."), shown)?).map_err(|e| Error::sys("opendir", shown, e))?;
    for entry in dir.iter() {
        let entry = entry.map_err(|e| Error::sys("readdir (tmpcopyup)", shown, e))?;
        let name = std::os::unix::ffi::OsStrExt::from_bytes(entry.file_name().to_bytes());
        if name == OsStr::new(".") || name == OsStr::new("..") {
            continue;
        }
        let path = shown.join(name);
        copy_entry(src, dst, name, &path, depth)?;
    }
    Ok(())
}

fn copy_entry(src: BorrowedFd<'_>, dst: BorrowedFd<'_>, name: &OsStr, shown: &Path, depth: usize) -> Result<()> {
    let st = fstatat(src, name, AtFlags::AT_SYMLINK_NOFOLLOW).map_err(|e| Error::sys("stat (tmpcopyup)", shown, e))?;
    let kind = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits());
    let mode = Mode::from_bits_truncate(st.st_mode & 0o7777);
    let sys = |op: &'static str| move |e: Errno| Error::sys(op, shown, e);
    match kind {
        SFlag::S_IFDIR => {
            mkdirat(dst, name, mode).map_err(sys("mkdir (tmpcopyup)"))?;
            let s = open_dir(src, name, shown)?;
            let d = open_dir(dst, name, shown)?;
            copy_dir(s.as_fd(), d.as_fd(), shown, depth + 1)?;
        }
        SFlag::S_IFREG => {
            let ro = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            let s = openat(src, name, ro, Mode::empty()).map_err(sys("open (tmpcopyup)"))?;
            let wo = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            let d = openat(dst, name, wo, mode).map_err(sys("create (tmpcopyup)"))?;
            std::io::copy(&mut std::fs::File::from(s), &mut std::fs::File::from(d))
                .map_err(|e| Error::io("copy (tmpcopyup)", shown, &e))?;
        }
        SFlag::S_IFLNK => {
            let target = readlinkat(src, name).map_err(sys("readlink (tmpcopyup)"))?;
            symlinkat(target.as_os_str(), dst, name).map_err(sys("symlink (tmpcopyup)"))?;
        }
        _ => {
            mknodat(dst, name, kind, mode, st.st_rdev).map_err(sys("mknod (tmpcopyup)"))?;
        }
    }
    set_owner_mode(dst, name, &st, shown, AtFlags::AT_SYMLINK_NOFOLLOW)
}

/// Owner first, then mode: chown clears the setuid and setgid bits.
fn set_owner_mode(dir: BorrowedFd<'_>, name: &OsStr, st: &FileStat, shown: &Path, flags: AtFlags) -> Result<()> {
    fchownat(dir, name, Some(Uid::from_raw(st.st_uid)), Some(Gid::from_raw(st.st_gid)), flags)
        .map_err(|e| Error::sys("chown (tmpcopyup)", shown, e))?;
    if SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFLNK {
        return Ok(());
    }
    let mode = Mode::from_bits_truncate(st.st_mode & 0o7777);
    let r = if flags.contains(AtFlags::AT_EMPTY_PATH) {
        // fchmodat cannot act on an fd itself before Linux 6.6; the fd
        // here is an O_PATH-like mount fd, so go through its directory.
        nix::sys::stat::fchmod(open_dir(dir, OsStr::new("."), shown)?.as_fd(), mode)
    } else {
        fchmodat(dir, name, mode, FchmodatFlags::FollowSymlink)
    };
    r.map_err(|e| Error::sys("chmod (tmpcopyup)", shown, e))
}
