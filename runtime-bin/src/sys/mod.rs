//! The binary's only `unsafe` code: its C entry point and the process
//! set-up that std's runtime would otherwise do.
//!
//! brig is `#![no_main]`. std's start-up (`lang_start`) installs a stack
//! overflow handler, and on glibc that asks `pthread_getattr_np` for the main
//! thread's stack, which opens and `sscanf`s `/proc/self/maps`: a file read
//! and ~200 KiB of libc's stdio and scanf code paged in on every invocation,
//! for a runtime whose commands each live a few milliseconds. The two parts of
//! that start-up brig relies on are done here instead.

use std::ffi::{c_char, c_int};

/// Ignores SIGPIPE, as std's start-up does: a write to a pipe whose reader
/// died (the init's sync pipe, an engine's closed stdout) must come back as
/// EPIPE and go through brig's cleanup, not kill brig half-way.
fn ignore_sigpipe() {
    // SAFETY: SIG_IGN runs no handler code; the previous disposition is not
    // needed, and the call cannot fail for SIGPIPE.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// Opens /dev/null on any of fds 0, 1 and 2 that is closed, as std's
/// start-up does, so that no file brig opens later lands on a stdio number
/// and is handed to the container as its stdin, stdout or stderr.
fn sanitize_stdio() {
    for fd in 0..3 {
        // SAFETY: F_GETFD only reads the fd's flags; any int is a valid
        // argument (a closed fd gives EBADF).
        let closed = unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::EBADF);
        if closed {
            // SAFETY: the path is a NUL-terminated literal. open returns the
            // lowest free fd, which is `fd`; it is left open for the life of
            // the process on purpose. A failure leaves `fd` closed, as before.
            unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        }
    }
}

/// The C `main` that glibc's start-up calls. std still gets argv through
/// glibc's `.init_array` hook, so `std::env::args` works as usual.
#[no_mangle]
extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    sanitize_stdio();
    ignore_sigpipe();
    c_int::from(crate::run())
}
