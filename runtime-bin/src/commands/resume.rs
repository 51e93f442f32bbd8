//! `brig resume`.

use libcontainer::Container;

use super::Result;
use crate::cli::Global;

/// Thaws a paused container.
pub fn run(g: &Global, id: &str) -> Result<u8> {
    Container::load(&g.root, id)?.resume()?;
    Ok(0)
}
