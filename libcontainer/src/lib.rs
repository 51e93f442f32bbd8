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
