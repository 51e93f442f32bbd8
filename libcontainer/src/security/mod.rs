//! Capabilities, no_new_privs and seccomp.

pub(crate) mod caps;
pub(crate) mod seccomp;
