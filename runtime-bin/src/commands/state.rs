//! `brig state`.

use libcontainer::Container;

use super::Result;
use crate::cli::Global;

/// Prints runc's state JSON, with the status derived now.
pub fn run(g: &Global, id: &str) -> Result<u8> {
    let c = Container::load(&g.root, id)?;
    let report = c.state().report(c.status());
    let text = serde_json::to_string_pretty(&report)
        .map_err(|e| libcontainer::Error::config("state", e.to_string()))?;
    println!("{text}");
    Ok(0)
}
