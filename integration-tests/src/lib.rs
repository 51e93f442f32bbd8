//! Helpers for brig's integration tests.
//!
//! They drive the runtime binary (`BRIG_BIN`, default `target/release/brig`; any
//! runc-compatible binary works, e.g. `BRIG_BIN=$(which runc)`) on busybox-static
//! bundles made here, each test with its own `--root` and unique container ids.
//! A probe script inside the container reports what the container really sees.

pub mod console;
pub mod container;
pub mod fds;
pub mod host;
pub mod probe;
pub mod rootfs;
pub mod runtime;
pub mod spec;
pub mod tmp;

pub use container::Container;
pub use fds::leak_fds;
pub use probe::{cap_mask, Probe};
pub use runtime::{is_runc, runtime_bin, Out, Runtime, Spawned};
pub use spec::{sh_hook, Spec};
pub use tmp::TempDir;
