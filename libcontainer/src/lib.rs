//! brig's container library: creates, starts, signals and deletes OCI
//! containers on Linux.
//!
//! The process model follows runc's CLI contract without runc's re-exec: the
//! `create` caller clones the container's init straight into its namespaces
//! and cgroup, the init sets up the root filesystem and the process, then
//! waits on `exec.fifo` until `start` opens it, and execs the user's program
//! as PID 1.
//!
//! ```no_run
//! use libcontainer::{Container, CreateOptions};
//! # fn main() -> libcontainer::Result<()> {
//! let opts = CreateOptions::new("/run/brig", "demo", "/path/to/bundle");
//! let mut c = Container::create(&opts)?;
//! c.start()?;
//! # Ok(()) }
//! ```

#[allow(unsafe_code)]
mod sys;

pub mod cgroups;
mod container;
pub mod error;
pub mod features;
pub mod foreground;
mod hooks;
mod namespaces;
mod process;
mod procfs;
pub mod rootfs;
mod security;
pub mod signal;
mod spawn;
pub mod spec;
pub mod state;

pub use container::{Container, CreateOptions, ExecOptions, ExecProcess};
pub use error::{Error, Result};
pub use spec::Config;
pub use state::{ContainerId, State, StateDir, Status};

/// Entry points for brig's fuzz targets (`fuzz/`) and benchmarks. Not a
/// stable API: they reach into private modules so that the fuzzers exercise
/// exactly the code `create` runs.
#[doc(hidden)]
pub mod fuzzing {
    use std::path::Path;

    use oci_spec::runtime::LinuxSeccomp;

    use crate::Result;

    /// Decodes one packet of the parent/init channel, as the parent does
    /// with what the (untrusted) init sends; returns the message encoded
    /// again, which must give back the packet (decoding is strict).
    pub fn decode_message(packet: &[u8]) -> std::result::Result<Vec<u8>, &'static str> {
        crate::spawn::channel::Message::decode(packet).map(|m| m.encode())
    }

    /// Compiles a `linux.seccomp` section; returns (filters, instructions,
    /// skipped syscall names).
    pub fn seccomp_compile(s: &LinuxSeccomp) -> Result<(usize, usize, usize)> {
        let p = crate::security::seccomp::compile(s)?;
        let (filters, insns) = p.size();
        Ok((filters, insns, p.skipped().len()))
    }

    /// Like [`seccomp_compile`], through the cache under the state root `root`.
    pub fn seccomp_compile_cached(s: &LinuxSeccomp, root: &Path) -> Result<(usize, usize, usize)> {
        let p = crate::security::seccomp::compile_cached(s, root)?;
        let (filters, insns) = p.size();
        Ok((filters, insns, p.skipped().len()))
    }
}
