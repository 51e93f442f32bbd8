//! seccomp: compile `linux.seccomp` to a stack of BPF filters (seccompiler)
//! in the parent, before clone, and install it in the init with brig's own
//! seccomp(2) call, which controls the flags and returns the notify fd.
//!
//! - [`profile`] converts and validates the OCI section;
//! - [`bpf`] builds the filter stack (its module doc explains the stacking);
//! - [`cache`] keeps compiled stacks by content hash under the state root;
//! - [`listener`] hands the notify fd to the agent at `listenerPath`.

mod bpf;
mod cache;
mod listener;
mod profile;
mod syscalls;

#[cfg(test)]
mod tests;

use std::os::fd::OwnedFd;
use std::path::Path;

use oci_spec::runtime::LinuxSeccomp;

use crate::error::{Error, Result};
use crate::sys;

pub(crate) use listener::send_to_agent;

/// A compiled filter stack, ready to install in the init.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Program {
    /// The filters, in install order.
    filters: Vec<bpf::Filter>,
    /// Syscall names no filtered ABI knows; skipped, as runc does.
    skipped: Vec<String>,
}

impl Program {
    /// True if a filter returns SECCOMP_RET_USER_NOTIF, so that installing
    /// the stack yields a listener fd for the agent.
    pub(crate) fn needs_listener(&self) -> bool {
        self.filters.iter().any(|f| f.flags & sys::seccomp::FLAG_NEW_LISTENER != 0)
    }

    /// The syscall names that were skipped because no ABI knows them.
    pub(crate) fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// The number of filters and of BPF instructions in all of them.
    pub(crate) fn size(&self) -> (usize, usize) {
        (self.filters.len(), self.filters.iter().map(|f| f.insns.len()).sum())
    }
}

/// Compiles the OCI seccomp section. Runs in the parent, before clone, so a
/// bad profile fails create before any process exists.
pub(crate) fn compile(seccomp: &LinuxSeccomp) -> Result<Program> {
    if !cfg!(target_arch = "x86_64") {
        return Err(Error::Unsupported {
            what: "linux.seccomp".into(),
            reason: "brig's seccomp compiler supports x86_64 hosts only".into(),
        });
    }
    let p = profile::convert(seccomp)?;
    check_actions(&p)?;
    let (filters, skipped) = bpf::build(&p)?;
    Ok(adapt_to_kernel(Program { filters, skipped }))
}

/// Like [`compile`], but reuses a stack compiled earlier for the same
/// profile from `<root>/.seccomp@cache`, and stores new ones there. A cache
/// that cannot be read or written is skipped: it only saves time.
pub(crate) fn compile_cached(seccomp: &LinuxSeccomp, root: &Path) -> Result<Program> {
    let key = cache::Key::new(seccomp)?;
    if let Some(p) = cache::load(root, &key) {
        return Ok(adapt_to_kernel(p));
    }
    let p = compile(seccomp)?;
    cache::store(root, &key, &p);
    Ok(p)
}

/// Refuses an action the running kernel does not know (e.g. NOTIFY before
/// 5.0): installing it would fail in the init, after clone.
fn check_actions(p: &profile::Profile) -> Result<()> {
    let mut seen: Vec<u32> = Vec::new();
    for ret in std::iter::once(p.default).chain(p.rules.iter().map(|r| r.action)) {
        let act = ret & libc::SECCOMP_RET_ACTION_FULL;
        if seen.contains(&act) {
            continue;
        }
        seen.push(act);
        if !sys::seccomp::action_available(act) {
            return Err(Error::Unsupported {
                what: format!("seccomp action {act:#010x}").into(),
                reason: "the running kernel does not support it (SECCOMP_GET_ACTION_AVAIL)".into(),
            });
        }
    }
    Ok(())
}

/// Drops SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV when the running kernel
/// (before 5.19) does not know it: the spec asks for it "when supported".
/// One probe syscall, in the parent.
fn adapt_to_kernel(mut p: Program) -> Program {
    let wkr = libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV as u32;
    let wants = p.filters.iter().any(|f| f.flags & wkr != 0);
    if wants && !sys::seccomp::filter_flags_supported(wkr | sys::seccomp::FLAG_NEW_LISTENER) {
        for f in &mut p.filters {
            f.flags &= !wkr;
        }
    }
    p
}

/// Installs the program in the calling process; returns the notify listener
/// fd when the profile uses SCMP_ACT_NOTIFY. Syscalls only, and no
/// allocation unless it fails, so it is fine between fork and exec.
///
/// The caller must have set no_new_privs or hold CAP_SYS_ADMIN.
pub(crate) fn install(program: &Program) -> Result<Option<OwnedFd>> {
    let mut listener = None;
    for (i, f) in program.filters.iter().enumerate() {
        let fd = sys::seccomp::set_mode_filter(&f.insns, f.flags).map_err(|e| Error::Sys {
            op: "seccomp SECCOMP_SET_MODE_FILTER".into(),
            path: format!("filter {i} of {} (flags {:#x})", program.filters.len(), f.flags).into(),
            errno: e,
        })?;
        if fd.is_some() {
            listener = fd;
        }
    }
    Ok(listener)
}

/// The seccomp part of `features`: what this build really supports.
pub(crate) fn features() -> serde_json::Value {
    serde_json::json!({
        "enabled": true,
        "actions": [
            "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
            "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"
        ],
        "operators": [
            "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
            "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"
        ],
        "archs": ["SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"],
        "knownFlags": [
            "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC",
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"
        ],
        "supportedFlags": [
            "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC",
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"
        ]
    })
}
