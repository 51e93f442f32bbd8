//! seccomp: compile `linux.seccomp` to BPF (seccompiler) and install it with
//! our own seccomp(2) call.

use std::os::fd::OwnedFd;

use oci_spec::runtime::LinuxSeccomp;

use crate::error::{Error, Result};

/// A compiled filter stack, ready to install in the init.
#[derive(Debug, Clone, Default)]
pub(crate) struct Program {}

/// Compiles the OCI seccomp section. Runs in the parent, before clone, so a
/// bad profile fails create before any process exists.
pub(crate) fn compile(_seccomp: &LinuxSeccomp) -> Result<Program> {
    Err(Error::Unsupported { what: "linux.seccomp".into(), reason: "not implemented yet".into() })
}

/// Installs the program in the calling process; returns the notify listener
/// fd when the profile uses SCMP_ACT_NOTIFY.
pub(crate) fn install(_program: &Program) -> Result<Option<OwnedFd>> {
    Ok(None)
}

/// The seccomp part of `features`.
pub(crate) fn features() -> serde_json::Value {
    serde_json::json!({ "enabled": false })
}
