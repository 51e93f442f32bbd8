//! File descriptor plumbing that needs raw fds: close_range, inherited fds,
//! dup2 onto stdio, and terminal ioctls.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;

/// Marks every fd from `first` up close-on-exec (close_range(2) with
/// CLOSE_RANGE_CLOEXEC), so nothing of brig's leaks into the container even
/// if it was opened without O_CLOEXEC by a library.
pub(crate) fn cloexec_from(first: u32) -> Result<(), Errno> {
    // SAFETY: integer-only syscall; it changes fd flags, never memory.
    let ret = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// Clears FD_CLOEXEC on an fd the caller handed us (`--preserve-fds`), so it
/// survives exec. The fd is not ours, so it is addressed by number.
pub(crate) fn clear_cloexec(fd: RawFd) -> Result<(), Errno> {
    // SAFETY: fcntl on an integer fd touches no memory; a closed fd gives EBADF.
    let ret = unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// dup2(2) `from` onto the fixed descriptor `to` (0, 1 or 2).
pub(crate) fn dup_onto(from: BorrowedFd<'_>, to: RawFd) -> Result<(), Errno> {
    // SAFETY: dup2 on integer fds; `from` is valid for the call.
    let ret = unsafe { libc::dup2(from.as_raw_fd(), to) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// Borrows one of the standard descriptors (0, 1, 2), which live for the whole
/// process.
pub(crate) fn stdio(fd: RawFd) -> BorrowedFd<'static> {
    debug_assert!((0..=2).contains(&fd));
    // SAFETY: 0-2 are open for the process lifetime in brig (the kernel or the
    // caller provides them; brig never closes them).
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// Takes ownership of an fd number received from outside (e.g. LISTEN_FDS or
/// an fd passed over SCM_RIGHTS decoded by nix).
pub(crate) fn own(fd: RawFd) -> OwnedFd {
    // SAFETY: callers pass only fds just returned to this process by the
    // kernel (recvmsg), which nothing else owns.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// TIOCSCTTY: makes the tty on `fd` the controlling terminal of this session.
pub(crate) fn set_controlling_tty(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    // SAFETY: ioctl with an integer argument on a valid fd.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSCTTY, 0) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// TIOCGPTPEER (Linux 4.13): opens the slave of the pty master `master`
/// through the master itself, with no path: a /dev/pts/N in the container
/// that is a symlink or a fake file cannot stand in for it.
pub(crate) fn pty_peer(master: BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: ioctl with an integer argument on a valid fd; a returned fd is new and ours.
    let ret = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTPEER, flags) };
    if ret < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just returned this fd to us and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(ret) })
}

/// TIOCSWINSZ: sets the window size of the tty on `fd`.
pub(crate) fn set_winsize(fd: BorrowedFd<'_>, rows: u16, cols: u16) -> Result<(), Errno> {
    let ws = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: `ws` is a valid winsize that outlives the call.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// TIOCGWINSZ: the window size (rows, cols) of the tty on `fd`.
pub(crate) fn get_winsize(fd: BorrowedFd<'_>) -> Result<(u16, u16), Errno> {
    let mut ws = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: `ws` is a valid, writable winsize that outlives the call.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok((ws.ws_row, ws.ws_col))
}

/// setdomainname(2).
pub(crate) fn set_domainname(name: &str) -> Result<(), Errno> {
    // SAFETY: pointer and length describe `name`'s bytes for the call.
    let ret = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    if ret < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// Closes an fd by number without running any owner's destructor. Used by
/// the init for the copies of the parent's lock and channel fds it
/// inherited: dropping their owners would unlock the parent's flock.
pub(crate) fn close_raw(fd: RawFd) {
    // SAFETY: closing an integer fd touches no memory. The init never uses
    // these fds again and never runs the destructors of their owners (it
    // ends in execve or _exit), so nothing closes them twice.
    unsafe { libc::close(fd) };
}

/// _exit(2): ends the process without running destructors or atexit
/// handlers, which belong to the parent's copy of the address space.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit is always safe to call; it does not return.
    unsafe { libc::_exit(code) }
}
