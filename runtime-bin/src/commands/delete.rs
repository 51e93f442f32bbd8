//! `brig delete`.

use libcontainer::{Container, ContainerId, Error, StateDir};

use super::Result;
use crate::cli::Global;
use crate::log::Logger;

/// Deletes the container. With `--force`, an unknown id succeeds (engines
/// rely on it), and a create that crashed before writing its state is
/// cleaned up as far as its state dir.
pub fn run(g: &Global, id: &str, force: bool, log: &Logger) -> Result<u8> {
    let c = match Container::load(&g.root, id) {
        Ok(c) => c,
        Err(Error::NotFound { .. }) if force => return Ok(0),
        Err(Error::BadStatus { .. }) if force => {
            let dir = StateDir::open(&g.root, &ContainerId::parse(id)?)?;
            dir.remove()?;
            return Ok(0);
        }
        Err(e) => return Err(e),
    };
    for w in c.delete(force)? {
        log.warn(&w);
    }
    Ok(0)
}
