//! `brig pause`.

use libcontainer::Container;

use super::Result;
use crate::cli::Global;

/// Freezes every process of the container (cgroup.freeze).
pub fn run(g: &Global, id: &str) -> Result<u8> {
    Container::load(&g.root, id)?.pause()?;
    Ok(0)
}
