//! Container ids: parsed once, so that no later code can be handed `../x`.

use std::fmt;

use crate::error::{Error, Result};

/// A container id that is safe to use as a directory name under the state
/// root: non-empty, at most 1024 bytes, of `[A-Za-z0-9_+.-]`, and not `.` or
/// `..`. These are the characters runc accepts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContainerId(String);

impl ContainerId {
    /// Validates `id`.
    pub fn parse(id: &str) -> Result<ContainerId> {
        let bad = |reason| Err(Error::InvalidId { id: id.to_string(), reason });
        if id.is_empty() {
            return bad("it is empty");
        }
        if id.len() > 1024 {
            return bad("it is longer than 1024 bytes");
        }
        if id == "." || id == ".." {
            return bad("it is a relative path component");
        }
        if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b"_+-.".contains(&b)) {
            return bad("only letters, digits and _ + - . are allowed");
        }
        Ok(ContainerId(id.to_string()))
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_paths_and_empty() {
        for id in ["", ".", "..", "../x", "a/b", "a b", "x\0y", "é"] {
            assert!(ContainerId::parse(id).is_err(), "{id:?}");
        }
    }

    #[test]
    fn accepts_engine_ids() {
        for id in ["a", "0123abcdef", "k8s_POD_x-y.z+1", "ctr_1"] {
            assert_eq!(ContainerId::parse(id).unwrap().as_str(), id);
        }
    }
}
