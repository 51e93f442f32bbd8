//! The new mount API (Linux 5.2+, mount_setattr 5.12+): fsopen, fsconfig,
//! fsmount, open_tree, move_mount, mount_setattr. Every mount brig makes
//! inside a rootfs goes through these, onto an O_PATH fd that was resolved
//! inside the rootfs, so no path is re-walked between check and mount.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;

/// `OPEN_TREE_CLONE`: make a detached copy of the mount (a bind mount).
const OPEN_TREE_CLONE: libc::c_uint = 1;
/// `AT_RECURSIVE`: open_tree/mount_setattr act on the whole subtree.
const AT_RECURSIVE: libc::c_uint = 0x8000;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x04;
const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
const FSOPEN_CLOEXEC: libc::c_uint = 1;
const FSMOUNT_CLOEXEC: libc::c_uint = 1;
const FSCONFIG_SET_FLAG: libc::c_uint = 0;
const FSCONFIG_SET_STRING: libc::c_uint = 1;
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;

/// `MOUNT_ATTR_*` bits of mount_setattr(2) and fsmount(2).
pub(crate) mod attr {
    /// Read-only mount.
    pub const RDONLY: u64 = 0x1;
    /// Ignore suid and sgid bits.
    pub const NOSUID: u64 = 0x2;
    /// No device files.
    pub const NODEV: u64 = 0x4;
    /// No program execution.
    pub const NOEXEC: u64 = 0x8;
    /// The atime mode mask; must be in `clr` whenever an atime mode is set.
    pub const ATIME_MASK: u64 = 0x70;
    /// relatime (the kernel default): value 0 inside [`ATIME_MASK`].
    pub const RELATIME: u64 = 0x0;
    /// noatime.
    pub const NOATIME: u64 = 0x10;
    /// strictatime.
    pub const STRICTATIME: u64 = 0x20;
    /// No directory atime updates.
    pub const NODIRATIME: u64 = 0x80;
    /// No symlink following on this mount.
    pub const NOSYMFOLLOW: u64 = 0x20_0000;
}

/// `struct mount_attr` (MOUNT_ATTR_SIZE_VER0, 32 bytes).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MountAttr {
    /// `MOUNT_ATTR_*` bits to set.
    pub attr_set: u64,
    /// `MOUNT_ATTR_*` bits to clear.
    pub attr_clr: u64,
    /// `MS_PRIVATE`, `MS_SHARED`, `MS_SLAVE` or `MS_UNBINDABLE`, or 0.
    pub propagation: u64,
    /// A user namespace fd for `MOUNT_ATTR_IDMAP` (unused by brig).
    pub userns_fd: u64,
}

fn fd_result(ret: libc::c_long) -> Result<OwnedFd, Errno> {
    if ret < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just returned this fd to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as RawFd) })
}

fn unit_result(ret: libc::c_long) -> Result<(), Errno> {
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

const EMPTY: &CStr = c"";

/// open_tree(2) with OPEN_TREE_CLONE on a host path (relative to the cwd or
/// absolute), following symlinks: a detached bind mount of `path`, and of
/// everything under it with `recursive`.
pub(crate) fn clone_path(path: &CStr, recursive: bool) -> Result<OwnedFd, Errno> {
    let flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint | if recursive { AT_RECURSIVE } else { 0 };
    // SAFETY: `path` is a valid NUL-terminated string for the call.
    fd_result(unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, path.as_ptr(), flags) })
}

/// open_tree(2) with OPEN_TREE_CLONE | AT_EMPTY_PATH: a detached bind mount
/// of the file or directory `fd` refers to (an O_PATH fd works).
pub(crate) fn clone_fd(fd: BorrowedFd<'_>, recursive: bool) -> Result<OwnedFd, Errno> {
    let flags = OPEN_TREE_CLONE
        | libc::O_CLOEXEC as libc::c_uint
        | libc::AT_EMPTY_PATH as libc::c_uint
        | if recursive { AT_RECURSIVE } else { 0 };
    // SAFETY: `fd` is valid for the call and the path is an empty C string.
    fd_result(unsafe { libc::syscall(libc::SYS_open_tree, fd.as_raw_fd(), EMPTY.as_ptr(), flags) })
}

/// move_mount(2) of the detached (or attached) mount `from` onto the file or
/// directory `to` refers to. Neither side is looked up by path.
pub(crate) fn move_mount(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> Result<(), Errno> {
    let flags = MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH;
    // SAFETY: both fds are valid for the call; both paths are empty C strings.
    unit_result(unsafe {
        libc::syscall(libc::SYS_move_mount, from.as_raw_fd(), EMPTY.as_ptr(), to.as_raw_fd(), EMPTY.as_ptr(), flags)
    })
}

/// move_mount(2) of the mount `from` onto the absolute path `to` in the
/// caller's current root (used only for `/` with --no-pivot).
pub(crate) fn move_mount_to_path(from: BorrowedFd<'_>, to: &CStr) -> Result<(), Errno> {
    // SAFETY: `from` is valid; `to` and the empty path are valid C strings.
    unit_result(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            from.as_raw_fd(),
            EMPTY.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    })
}

/// mount_setattr(2) on the mount whose root `fd` refers to (AT_EMPTY_PATH),
/// and on every mount below it with `recursive`.
pub(crate) fn mount_setattr(fd: BorrowedFd<'_>, recursive: bool, attr: &MountAttr) -> Result<(), Errno> {
    let flags = libc::AT_EMPTY_PATH as libc::c_uint | if recursive { AT_RECURSIVE } else { 0 };
    // SAFETY: `attr` is a valid mount_attr of the size passed and outlives
    // the call; the kernel only reads it.
    unit_result(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            EMPTY.as_ptr(),
            flags,
            attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    })
}

/// fsopen(2): a filesystem context for `fstype` (e.g. `tmpfs`).
pub(crate) fn fsopen(fstype: &CStr) -> Result<OwnedFd, Errno> {
    // SAFETY: `fstype` is a valid C string for the call.
    fd_result(unsafe { libc::syscall(libc::SYS_fsopen, fstype.as_ptr(), FSOPEN_CLOEXEC) })
}

/// fsconfig(2) FSCONFIG_SET_STRING `key=value`.
pub(crate) fn fsconfig_string(fs: BorrowedFd<'_>, key: &CStr, value: &CStr) -> Result<(), Errno> {
    // SAFETY: `key` and `value` are valid C strings for the call.
    unit_result(unsafe {
        libc::syscall(libc::SYS_fsconfig, fs.as_raw_fd(), FSCONFIG_SET_STRING, key.as_ptr(), value.as_ptr(), 0)
    })
}

/// fsconfig(2) FSCONFIG_SET_FLAG `key` (an option without a value).
pub(crate) fn fsconfig_flag(fs: BorrowedFd<'_>, key: &CStr) -> Result<(), Errno> {
    // SAFETY: `key` is a valid C string; the value must be NULL for a flag.
    unit_result(unsafe {
        libc::syscall(libc::SYS_fsconfig, fs.as_raw_fd(), FSCONFIG_SET_FLAG, key.as_ptr(), std::ptr::null::<u8>(), 0)
    })
}

/// fsconfig(2) FSCONFIG_CMD_CREATE: creates (or finds) the superblock.
pub(crate) fn fsconfig_create(fs: BorrowedFd<'_>) -> Result<(), Errno> {
    // SAFETY: integer arguments only; key and value must be NULL.
    unit_result(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<u8>(),
            std::ptr::null::<u8>(),
            0,
        )
    })
}

/// fsmount(2): a detached mount of the created superblock, with the
/// `MOUNT_ATTR_*` bits `attrs`.
pub(crate) fn fsmount(fs: BorrowedFd<'_>, attrs: u64) -> Result<OwnedFd, Errno> {
    // SAFETY: integer arguments only; returns a new fd we own.
    fd_result(unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), FSMOUNT_CLOEXEC, attrs as libc::c_uint) })
}

/// Reads the filesystem context's message log (what the kernel had to say
/// about a refused option), one line, or None if it has none.
pub(crate) fn fs_log(fs: BorrowedFd<'_>) -> Option<String> {
    let mut buf = [0u8; 512];
    // SAFETY: `buf` is writable for its full length during the call.
    let n = unsafe { libc::read(fs.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    let n = usize::try_from(n).ok().filter(|&n| n > 0)?;
    Some(String::from_utf8_lossy(&buf[..n]).trim_end().to_string())
}

/// Sets the `security.selinux` xattr on the root of the detached mount
/// `mnt` (linux.mountLabel on mqueue). The mount fd is O_PATH, which
/// fsetxattr refuses: its root is opened for reading first.
pub(crate) fn set_selinux_label(mnt: BorrowedFd<'_>, label: &CStr) -> Result<(), Errno> {
    use nix::fcntl::{openat, OFlag};
    let dir = openat(mnt, ".", OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, nix::sys::stat::Mode::empty())?;
    let value = label.to_bytes();
    // SAFETY: the name and value pointers are valid for the given lengths during the call.
    let ret = unsafe { libc::fsetxattr(dir.as_raw_fd(), c"security.selinux".as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}
