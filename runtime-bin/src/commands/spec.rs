//! `brig spec`: a default config.json like `runc spec`.

use std::path::Path;

use libcontainer::Error;
use oci_spec::runtime::Spec;

use super::Result;

/// Writes `<bundle>/config.json`; refuses to overwrite one.
pub fn run(bundle: &Path, rootless: bool) -> Result<u8> {
    let path = bundle.join("config.json");
    if path.exists() {
        return Err(Error::sys("spec: config.json exists, remove it first", &path, nix::errno::Errno::EEXIST));
    }
    let mut spec = if rootless {
        Spec::rootless(nix::unistd::getuid().as_raw(), nix::unistd::getgid().as_raw())
    } else {
        Spec::default()
    };
    // runc's default spec is interactive: `sh` on a terminal.
    if let Some(p) = spec.process_mut() {
        p.set_terminal(Some(true));
    }
    let text = serde_json::to_string_pretty(&spec).map_err(|e| Error::config("spec", e.to_string()))?;
    std::fs::write(&path, text + "\n").map_err(|e| Error::io("write", &path, &e))?;
    Ok(0)
}
