//! The five capability sets of `process.capabilities`.
//!
//! Order matters, and is enforced by the init's step list: the bounding set
//! is dropped while still root (needs CAP_SETPCAP); uid/gid change with
//! PR_SET_KEEPCAPS; then permitted, inheritable, effective are set in one
//! capset; ambient caps last, as they must be in permitted and inheritable.

use std::str::FromStr;

use caps::{CapSet, Capability, CapsHashSet};
use oci_spec::runtime::{Capabilities, LinuxCapabilities};

use crate::error::{Error, Result};

/// The sets, converted once and filtered to what this kernel knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CapSets {
    pub bounding: CapsHashSet,
    pub effective: CapsHashSet,
    pub inheritable: CapsHashSet,
    pub permitted: CapsHashSet,
    pub ambient: CapsHashSet,
}

fn convert(field: &str, set: &Option<Capabilities>, known: &CapsHashSet) -> Result<CapsHashSet> {
    let mut out = CapsHashSet::new();
    for c in set.iter().flatten() {
        let name = format!("CAP_{c}");
        let cap = Capability::from_str(&name)
            .map_err(|_| Error::config(format!("process.capabilities.{field}"), format!("unknown capability {name}")))?;
        // A capability newer than the running kernel cannot be granted;
        // runc skips it the same way.
        if known.contains(&cap) {
            out.insert(cap);
        }
    }
    Ok(out)
}

impl CapSets {
    /// Converts the spec's sets; unknown names are an error naming the set.
    pub(crate) fn from_spec(c: &LinuxCapabilities) -> Result<CapSets> {
        let known = caps::runtime::thread_all_supported();
        Ok(CapSets {
            bounding: convert("bounding", c.bounding(), &known)?,
            effective: convert("effective", c.effective(), &known)?,
            inheritable: convert("inheritable", c.inheritable(), &known)?,
            permitted: convert("permitted", c.permitted(), &known)?,
            ambient: convert("ambient", c.ambient(), &known)?,
        })
    }

    /// Drops every capability not in the bounding set (while still root).
    pub(crate) fn drop_bounding(&self) -> Result<()> {
        for cap in caps::runtime::thread_all_supported() {
            if !self.bounding.contains(&cap) {
                caps::drop(None, CapSet::Bounding, cap).map_err(|e| cap_err("drop bounding", cap, &e))?;
            }
        }
        Ok(())
    }

    /// Sets inheritable, effective, permitted, then raises ambient. Each
    /// capset must keep effective within permitted, so permitted shrinks
    /// last; inheritable goes first while permitted still covers it.
    pub(crate) fn apply(&self) -> Result<()> {
        caps::set(None, CapSet::Inheritable, &self.inheritable).map_err(|e| set_err("inheritable", &e))?;
        caps::set(None, CapSet::Effective, &self.effective).map_err(|e| set_err("effective", &e))?;
        caps::set(None, CapSet::Permitted, &self.permitted).map_err(|e| set_err("permitted", &e))?;
        caps::clear(None, CapSet::Ambient).map_err(|e| set_err("ambient", &e))?;
        for cap in &self.ambient {
            // The kernel refuses an ambient cap that is not both permitted
            // and inheritable; runc ignores those, and so do we.
            if self.permitted.contains(cap) && self.inheritable.contains(cap) {
                caps::raise(None, CapSet::Ambient, *cap).map_err(|e| cap_err("raise ambient", *cap, &e))?;
            }
        }
        Ok(())
    }
}

fn cap_err(op: &'static str, cap: Capability, e: &caps::errors::CapsError) -> Error {
    Error::Unsupported { what: format!("{op} {cap}").into(), reason: e.to_string().into() }
}

fn set_err(set: &'static str, e: &caps::errors::CapsError) -> Error {
    Error::Unsupported { what: format!("capset {set}").into(), reason: e.to_string().into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_runc_defaults() {
        let set = r#"["CAP_KILL","CAP_AUDIT_WRITE","CAP_NET_BIND_SERVICE"]"#;
        let c: LinuxCapabilities = serde_json::from_str(&format!(r#"{{"bounding":{set},"effective":{set}}}"#)).unwrap();
        let sets = CapSets::from_spec(&c).unwrap();
        assert!(sets.bounding.contains(&Capability::CAP_KILL));
        assert_eq!(sets.effective.len(), 3);
        assert!(sets.ambient.is_empty());
    }
}
