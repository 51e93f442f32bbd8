//! Test-only process helpers: running code in a forked child, where a
//! seccomp filter can be installed without touching the test harness.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};

/// Runs `child` in a forked child that exits with its return value, and
/// returns how the child ended.
pub(crate) fn in_child(child: impl FnOnce() -> i32) -> WaitStatus {
    // SAFETY: the child only runs `child` (syscalls, and allocations that
    // glibc's fork handlers keep usable) and then _exit()s, never returning
    // into the test harness or running its destructors.
    match unsafe { fork() }.expect("fork") {
        ForkResult::Child => super::fd::exit_now(child()),
        ForkResult::Parent { child } => waitpid(child, None).expect("waitpid"),
    }
}

/// Makes `cmd` run `hook` in the child between fork and exec.
pub(crate) fn before_exec(cmd: &mut Command, hook: impl FnMut() -> io::Result<()> + Send + Sync + 'static) {
    // SAFETY: the hooks used by the tests only make syscalls (prctl,
    // seccomp, capset) in the child before exec.
    unsafe {
        cmd.pre_exec(hook);
    }
}

/// A raw syscall with integer arguments (NULL pointers at most), for calls
/// nix has no wrapper for.
pub(crate) fn raw_syscall(nr: libc::c_long, args: [u64; 4]) -> nix::Result<libc::c_long> {
    // SAFETY: the tests pass only integers and NULL pointers, which the
    // kernel checks (EFAULT) before touching memory.
    let ret = unsafe { libc::syscall(nr, args[0], args[1], args[2], args[3]) };
    nix::errno::Errno::result(ret)
}

/// An i386 syscall without arguments through `int 0x80`, as a 32-bit
/// program (or a 64-bit one on purpose) makes it: seccomp sees
/// AUDIT_ARCH_I386 and the i386 number. Returns the raw result (-errno).
#[cfg(target_arch = "x86_64")]
pub(crate) fn int80(nr: u32) -> i64 {
    let mut ret = i64::from(nr);
    // SAFETY: `int 0x80` with an argument-less syscall number reads no
    // memory; the kernel returns in rax and may zero r8-r11, which are
    // declared clobbered. No stack is used.
    unsafe {
        std::arch::asm!(
            "int 0x80",
            inout("rax") ret,
            out("r8") _, out("r9") _, out("r10") _, out("r11") _,
            options(nostack),
        );
    }
    ret
}
