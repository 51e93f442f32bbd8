//! `brig start`.

use libcontainer::Container;

use super::Result;
use crate::cli::Global;
use crate::log::Logger;

/// Lets the created container's init exec the user's process.
pub fn run(g: &Global, id: &str, log: &Logger) -> Result<u8> {
    let mut c = Container::load(&g.root, id)?;
    for w in c.start()? {
        log.warn(&w);
    }
    Ok(0)
}
