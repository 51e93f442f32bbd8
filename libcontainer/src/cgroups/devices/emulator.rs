//! runc's devices-cgroup emulator: folds an ordered rule list into a default
//! action plus a set of exceptions, with cgroup v1's semantics.
//!
//! - A rule of type `a` resets everything: allow-all (deny list mode) or
//!   deny-all (allow list mode). Its numbers and access are ignored.
//! - A rule whose action differs from the default adds an exception (merging
//!   access with an exception of the same device pattern).
//! - A rule whose action equals the default removes access from the
//!   exception of exactly the same pattern; removing access that a
//!   *wildcard* exception grants is refused, because v1 would silently ignore
//!   it ("cannot punch a hole in a wildcard rule").
//!
//! For rules that do not punch holes this is "last match wins".

use std::collections::BTreeMap;

use super::{Access, DevType, Rule};
use crate::error::{Error, Result};

/// A device pattern: type (block or char) and major/minor, None = any.
pub(crate) type Meta = (DevType, Option<u32>, Option<u32>);

/// The emulated state of a devices cgroup.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Emulator {
    /// True in deny-list mode (everything allowed but the exceptions).
    pub(crate) default_allow: bool,
    /// The exceptions to the default, by pattern.
    pub(crate) rules: BTreeMap<Meta, Access>,
}

impl Emulator {
    /// A fresh emulator: allow-list mode with no exceptions (deny all), the
    /// state runc starts from.
    pub(crate) fn new() -> Emulator {
        Emulator::default()
    }

    /// Applies one rule, in order.
    pub(crate) fn apply(&mut self, rule: &Rule) -> Result<()> {
        if rule.typ == DevType::All {
            *self = Emulator { default_allow: rule.allow, rules: BTreeMap::new() };
            return Ok(());
        }
        let meta = (rule.typ, rule.major, rule.minor);
        if rule.allow != self.default_allow {
            let old = self.rules.get(&meta).copied().unwrap_or_default();
            self.rules.insert(meta, old.union(rule.access));
            Ok(())
        } else {
            self.remove(meta, rule.access)
        }
    }

    fn remove(&mut self, meta: Meta, access: Access) -> Result<()> {
        let (t, major, minor) = meta;
        for partial in [(t, None, minor), (t, major, None), (t, None, None)] {
            if partial == meta {
                continue;
            }
            let granted = self.rules.get(&partial).copied().unwrap_or_default();
            if !granted.intersection(access).is_empty() {
                return Err(Error::Config {
                    file: "linux.resources".into(),
                    field: "devices".into(),
                    reason: format!(
                        "rule {} {} {access} cannot punch a hole in the wildcard rule {} {} {granted} (not supported by the devices cgroup)",
                        if self.default_allow { "allow" } else { "deny" },
                        show(meta),
                        if self.default_allow { "deny" } else { "allow" },
                        show(partial),
                    ),
                });
            }
        }
        let left = self.rules.get(&meta).copied().unwrap_or_default().difference(access);
        if left.is_empty() {
            self.rules.remove(&meta);
        } else {
            self.rules.insert(meta, left);
        }
        Ok(())
    }
}

/// `c 1:*` style text for a pattern.
pub(crate) fn show((t, major, minor): Meta) -> String {
    let n = |v: Option<u32>| v.map_or("*".to_string(), |v| v.to_string());
    format!("{} {}:{}", t.letter(), n(major), n(minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(allow: bool, typ: DevType, major: Option<u32>, minor: Option<u32>, access: &str) -> Rule {
        Rule { allow, typ, major, minor, access: Access::parse(access).unwrap() }
    }

    #[test]
    fn reset_rules() {
        let mut e = Emulator::new();
        e.apply(&r(true, DevType::Char, Some(1), Some(3), "rwm")).unwrap();
        e.apply(&r(true, DevType::All, None, None, "r")).unwrap();
        assert!(e.default_allow && e.rules.is_empty());
        e.apply(&r(false, DevType::All, Some(4), None, "m")).unwrap();
        assert!(!e.default_allow && e.rules.is_empty());
    }

    #[test]
    fn merge_and_remove() {
        let mut e = Emulator::new();
        e.apply(&r(true, DevType::Char, Some(1), Some(3), "r")).unwrap();
        e.apply(&r(true, DevType::Char, Some(1), Some(3), "w")).unwrap();
        assert_eq!(e.rules[&(DevType::Char, Some(1), Some(3))], Access::parse("rw").unwrap());
        e.apply(&r(false, DevType::Char, Some(1), Some(3), "r")).unwrap();
        assert_eq!(e.rules[&(DevType::Char, Some(1), Some(3))], Access::parse("w").unwrap());
        e.apply(&r(false, DevType::Char, Some(1), Some(3), "rwm")).unwrap();
        assert!(e.rules.is_empty());
    }

    #[test]
    fn no_hole_in_wildcard() {
        let mut e = Emulator::new();
        e.apply(&r(true, DevType::Char, None, None, "rwm")).unwrap();
        assert!(e.apply(&r(false, DevType::Char, Some(1), Some(3), "w")).is_err());
        // a block rule does not overlap a char wildcard
        assert!(e.apply(&r(false, DevType::Block, Some(8), Some(0), "w")).is_ok());
        // disjoint access does not punch a hole
        let mut e = Emulator::new();
        e.apply(&r(true, DevType::Char, None, None, "m")).unwrap();
        assert!(e.apply(&r(false, DevType::Char, Some(1), Some(3), "rw")).is_ok());
    }
}
