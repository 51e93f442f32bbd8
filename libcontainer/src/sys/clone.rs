//! clone3(2) and pidfd system calls.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::unistd::Pid;

/// `struct clone_args` of clone3(2), as the kernel lays it out (v2, 88 bytes).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// What a successful clone returns in each process.
pub(crate) enum Forked {
    /// In the parent: the child's pid and a pidfd for it.
    Parent { pid: Pid, pidfd: OwnedFd },
    /// In the child.
    Child,
}

/// clone3 with `flags` (CLONE_NEW* and friends), always with CLONE_PIDFD and
/// SIGCHLD as exit signal, and CLONE_INTO_CGROUP when `cgroup` is given.
///
/// Behaves like fork(2): the child runs on a copy of the caller's stack. The
/// caller must be single-threaded, which brig is until exec.
pub(crate) fn clone3(flags: u64, cgroup: Option<BorrowedFd<'_>>) -> Result<Forked, Errno> {
    let mut pidfd: RawFd = -1;
    let mut args = CloneArgs {
        flags: flags | libc::CLONE_PIDFD as u64,
        pidfd: &mut pidfd as *mut RawFd as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..Default::default()
    };
    if let Some(fd) = cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = fd.as_raw_fd() as u64;
    }
    // SAFETY: `args` is a valid clone_args of the size passed; with a zero
    // stack clone3 duplicates the caller like fork(2), which is sound because
    // brig is single-threaded here (no other thread can hold a lock the child
    // would inherit). `pidfd` outlives the call.
    let ret = unsafe {
        libc::syscall(libc::SYS_clone3, &mut args as *mut CloneArgs, std::mem::size_of::<CloneArgs>())
    };
    match ret {
        -1 => Err(Errno::last()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent {
            pid: Pid::from_raw(pid as i32),
            // SAFETY: with CLONE_PIDFD the kernel stored a new, owned fd here.
            pidfd: unsafe { OwnedFd::from_raw_fd(pidfd) },
        }),
    }
}

/// CLONE_INTO_CGROUP (Linux 5.7), not in every libc version.
pub(crate) const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// pidfd_open(2): a pidfd for `pid`, close-on-exec.
pub(crate) fn pidfd_open(pid: Pid) -> Result<OwnedFd, Errno> {
    // SAFETY: plain syscall with integer arguments; on success it returns a
    // new fd that we own.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if ret < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel returned a fresh fd owned by us.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as RawFd) })
}

/// pidfd_send_signal(2): sends `sig` to the process behind `pidfd`, which
/// cannot be a recycled pid.
pub(crate) fn pidfd_send_signal(pidfd: BorrowedFd<'_>, sig: Signal) -> Result<(), Errno> {
    // SAFETY: the fd is borrowed and valid; the info pointer is NULL, which the
    // kernel accepts as "like kill(2)".
    let ret = unsafe {
        libc::syscall(libc::SYS_pidfd_send_signal, pidfd.as_raw_fd(), sig as i32, std::ptr::null::<u8>(), 0)
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}
