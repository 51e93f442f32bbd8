//! Tests with real effect: filters compiled by brig are installed in forked
//! children (never in the test harness), which then make the syscalls and
//! report the errno they got, or die of the signal the action sends.

mod cache;
mod effect;
mod engine;

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::sys::wait::WaitStatus;

use super::{compile, install, Program};
use crate::sys::testing::in_child;

/// The exit code a child uses for "the syscall succeeded".
pub(super) const OK: i32 = 0;
/// The exit code for "install failed".
pub(super) const INSTALL_FAILED: i32 = 255;

/// Compiles a profile given as JSON.
pub(super) fn program(json: &str) -> Program {
    let s = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
    compile(&s).unwrap_or_else(|e| panic!("{json}: {e}"))
}

/// Sets no_new_privs and installs `p` in the calling (child) process.
pub(super) fn enter(p: &Program) -> bool {
    nix::sys::prctl::set_no_new_privs().is_ok() && install(p).is_ok()
}

/// Runs `call` in a child under `p`; the child exits with the errno the
/// call failed with (0 on success).
pub(super) fn run_under(p: &Program, call: impl FnOnce() -> nix::Result<()>) -> WaitStatus {
    in_child(|| {
        if !enter(p) {
            return INSTALL_FAILED;
        }
        match call() {
            Ok(()) => OK,
            Err(e) => e as i32,
        }
    })
}

/// Asserts the child exited with errno `want` (or OK).
#[track_caller]
pub(super) fn assert_errno(status: WaitStatus, want: Option<Errno>) {
    let code = want.map_or(OK, |e| e as i32);
    match status {
        WaitStatus::Exited(_, c) => assert_eq!(c, code, "got {:?}, want {want:?}", Errno::from_raw(c)),
        other => panic!("child ended with {other:?}, want exit {want:?}"),
    }
}

/// Asserts the child was killed by `sig`.
#[track_caller]
pub(super) fn assert_signal(status: WaitStatus, sig: Signal) {
    match status {
        WaitStatus::Signaled(_, s, _) => assert_eq!(s, sig),
        other => panic!("child ended with {other:?}, want {sig}"),
    }
}

/// A fresh scratch directory path (not created).
pub(super) fn scratch(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("brig-seccomp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}
