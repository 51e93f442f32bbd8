//! seccomp(2): installing a BPF filter, with the flags brig needs and the
//! notify listener fd, and probing what the running kernel supports.
//!
//! libc has no seccomp() wrapper, so these go through syscall(2).

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use seccompiler::sock_filter;

/// `struct sock_fprog` of <linux/filter.h>.
#[repr(C)]
struct SockFprog {
    len: libc::c_ushort,
    filter: *const sock_filter,
}

/// SECCOMP_FILTER_FLAG_NEW_LISTENER: the call returns a notify fd.
pub(crate) const FLAG_NEW_LISTENER: u32 = libc::SECCOMP_FILTER_FLAG_NEW_LISTENER as u32;

fn seccomp(op: libc::c_uint, flags: u32, arg: *const libc::c_void) -> Result<libc::c_long, Errno> {
    // SAFETY: seccomp(2) reads `arg` according to `op`; every caller in this
    // module passes either NULL (the kernel answers EFAULT, never writes) or
    // a pointer to a live, correctly typed value that outlives the call.
    let ret = unsafe { libc::syscall(libc::SYS_seccomp, op, flags, arg) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(ret)
}

/// SECCOMP_SET_MODE_FILTER: attaches `prog` to the calling thread (all
/// threads with TSYNC) with `flags`. Returns the listener fd when `flags`
/// contains [`FLAG_NEW_LISTENER`]; the kernel makes it close-on-exec.
///
/// The caller must have no_new_privs set or CAP_SYS_ADMIN in its user
/// namespace, or the kernel answers EACCES.
pub(crate) fn set_mode_filter(prog: &[sock_filter], flags: u32) -> Result<Option<OwnedFd>, Errno> {
    let len = libc::c_ushort::try_from(prog.len()).map_err(|_| Errno::E2BIG)?;
    let fprog = SockFprog { len, filter: prog.as_ptr() };
    let ret = seccomp(libc::SECCOMP_SET_MODE_FILTER, flags, (&fprog as *const SockFprog).cast())?;
    if flags & FLAG_NEW_LISTENER == 0 {
        return Ok(None);
    }
    let fd = RawFd::try_from(ret).map_err(|_| Errno::EBADF)?;
    // SAFETY: with NEW_LISTENER a successful seccomp() returns a new fd that
    // nothing else in this process owns.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// True if the kernel accepts `flags` for SECCOMP_SET_MODE_FILTER. Probed as
/// libseccomp does: with a NULL program the kernel checks the flags first
/// (EINVAL when unknown) and then fails to copy the program (EFAULT), so no
/// filter is ever installed by the probe.
pub(crate) fn filter_flags_supported(flags: u32) -> bool {
    matches!(seccomp(libc::SECCOMP_SET_MODE_FILTER, flags, std::ptr::null()), Err(Errno::EFAULT))
}

/// SECCOMP_GET_ACTION_AVAIL: true if the kernel knows the action `ret`
/// (e.g. SECCOMP_RET_USER_NOTIF since 5.0, SECCOMP_RET_LOG since 4.14).
pub(crate) fn action_available(ret: u32) -> bool {
    let action = ret & libc::SECCOMP_RET_ACTION_FULL;
    seccomp(libc::SECCOMP_GET_ACTION_AVAIL, 0, (&action as *const u32).cast()).is_ok()
}
