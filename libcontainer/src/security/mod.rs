//! Capabilities, no_new_privs, seccomp and LSM labels.

pub(crate) mod caps;
pub(crate) mod lsm;
pub(crate) mod seccomp;
