//! `brig kill`.

use libcontainer::signal::parse_signal;
use libcontainer::Container;

use super::Result;
use crate::cli::Global;

/// Sends the signal to the init, or with `--all` to every process.
pub fn run(g: &Global, id: &str, signal: &str, all: bool) -> Result<u8> {
    let sig = parse_signal(signal)?;
    Container::load(&g.root, id)?.kill(sig, all)?;
    Ok(0)
}
