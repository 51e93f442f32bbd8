//! linux.resources → cgroup v2 files.

use crate::error::{Error, Result};
use crate::spec::Config;

use super::Cgroup;

/// Applies `linux.resources` to the container's cgroup before the init is
/// born into it. Zero or absent values mean "not set".
pub fn apply_resources(_cgroup: &Cgroup, cfg: &Config) -> Result<()> {
    let Some(r) = cfg.spec.linux().as_ref().and_then(|l| l.resources().as_ref()) else { return Ok(()) };
    let mem = r.memory().as_ref().is_some_and(|m| m.limit().is_some_and(|l| l != 0));
    let pids = r.pids().as_ref().is_some_and(|p| p.limit() > 0);
    let cpu = r.cpu().as_ref().is_some_and(|c| c.quota().is_some_and(|q| q > 0) || c.shares().is_some_and(|s| s > 0));
    if mem || pids || cpu {
        return Err(Error::Unsupported {
            what: "linux.resources".into(),
            reason: "resource limits are not implemented yet".into(),
        });
    }
    Ok(())
}
