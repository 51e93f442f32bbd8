//! The session keyring.

use nix::errno::Errno;

const KEYCTL_JOIN_SESSION_KEYRING: libc::c_int = 1;

/// keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL): a new anonymous session
/// keyring, so the container does not share the host's (runc's default).
pub(crate) fn join_new_session_keyring() -> Result<(), Errno> {
    // SAFETY: a NULL name asks for a new anonymous keyring; no memory is
    // passed to the kernel.
    let ret = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, std::ptr::null::<libc::c_char>()) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}
