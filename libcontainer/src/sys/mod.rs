//! Every `unsafe` system call wrapper lives here, each with a `// SAFETY:`
//! comment. The rest of the crate sees only safe functions over `OwnedFd` and
//! `BorrowedFd`; raw fds appear only in this module.

pub(crate) mod bpf;
pub(crate) mod clone;
pub(crate) mod fd;
pub(crate) mod keyring;
pub(crate) mod mount;
pub(crate) mod net;
pub(crate) mod seccomp;
pub(crate) mod signal;
#[cfg(test)]
pub(crate) mod testing;
