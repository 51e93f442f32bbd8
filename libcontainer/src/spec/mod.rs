//! config.json: load it once, check the version, validate every field up
//! front with an error naming its JSON path, and hand out a [`Config`] that
//! later code never has to re-check.

mod validate;

use std::path::{Path, PathBuf};

use oci_spec::runtime::Spec;

use crate::error::{Context, Error, Result};

/// A validated bundle configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The parsed config.json.
    pub spec: Spec,
    /// The bundle directory, absolute.
    pub bundle: PathBuf,
    /// The root filesystem, absolute (root.path resolved against the bundle).
    pub rootfs: PathBuf,
    /// config.json's text as read, kept for state.json so that create does
    /// not have to serialise the spec again.
    pub raw: Option<String>,
}

impl Config {
    /// Loads and validates `<bundle>/config.json`.
    pub fn load(bundle: &Path) -> Result<Config> {
        let bundle = std::path::absolute(bundle).ctx("resolve bundle path", bundle)?;
        let path = bundle.join("config.json");
        let text = std::fs::read_to_string(&path).ctx("read", &path)?;
        let spec = parse(text.as_bytes())?;
        let mut cfg = Config::from_spec(spec, bundle)?;
        cfg.raw = Some(text);
        // root.path is the bundle author's (a host path, trusted): resolve
        // its symlinks once, so the in-root resolution starts at a real dir.
        cfg.rootfs = std::fs::canonicalize(&cfg.rootfs).ctx("resolve root.path", &cfg.rootfs)?;
        Ok(cfg)
    }

    /// Validates an already parsed spec for the bundle at `bundle`.
    pub fn from_spec(spec: Spec, bundle: PathBuf) -> Result<Config> {
        validate::validate(&spec)?;
        let root = spec.root().as_ref().ok_or_else(|| Error::config("root", "is required"))?;
        let rootfs = bundle.join(root.path());
        Ok(Config { spec, bundle, rootfs, raw: None })
    }

    /// True if `process.terminal` is set.
    pub fn terminal(&self) -> bool {
        self.spec.process().as_ref().and_then(|p| p.terminal()).unwrap_or(false)
    }
}

/// Parses config.json text, naming the JSON path of the first bad field.
pub fn parse(json: &[u8]) -> Result<Spec> {
    // A valid config never needs the path: parse it with the plain
    // deserializer, and only repeat a failed parse with path tracking. The
    // tracked one is a second, larger copy of the whole Spec deserializer,
    // which `create` would otherwise fault in at every start. (Either way
    // the result is the tracked parser's: it also accepts what follows the
    // top-level object, as brig always has.)
    serde_json::from_slice(json).or_else(|_| parse_tracked(json))
}

fn parse_tracked(json: &[u8]) -> Result<Spec> {
    let mut de = serde_json::Deserializer::from_slice(json);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        Error::config(if field == "." { "(document)".to_string() } else { field }, e.into_inner().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_names_the_bad_field() {
        let json = r#"{"ociVersion":"1.0.2","process":{"user":{"uid":"x","gid":0},"cwd":"/"}}"#;
        let err = parse(json.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("process.user.uid"), "{err}");
    }

    #[test]
    fn plain_and_tracked_parsers_agree() {
        let json = r#"{"ociVersion":"1.0.2","root":{"path":"rootfs","readonly":true},
            "process":{"terminal":false,"user":{"uid":1,"gid":2,"additionalGids":[3]},
            "args":["sh"],"env":["PATH=/bin"],"cwd":"/","noNewPrivileges":true,
            "capabilities":{"bounding":["CAP_KILL"]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":9,"soft":9}]},
            "hostname":"h","mounts":[{"destination":"/proc","type":"proc","source":"proc"}],
            "linux":{"namespaces":[{"type":"pid"},{"type":"mount"}],"maskedPaths":["/proc/kcore"],
            "resources":{"devices":[{"allow":false,"access":"rwm"}]},"vendorX":1},
            "annotations":{"a":"b"},"vendorThing":{"a":1}}"#;
        let plain = parse(json.as_bytes()).unwrap();
        let tracked = parse_tracked(json.as_bytes()).unwrap();
        assert_eq!(plain, tracked);
        assert_eq!(plain.process().as_ref().unwrap().user().additional_gids(), &Some(vec![3]));
    }

    #[test]
    fn parse_keeps_accepting_trailing_text() {
        // serde_json::from_slice refuses this; brig's tracked parser never did.
        let json = r#"{"ociVersion":"1.0.2","root":{"path":"r"}} trailing"#;
        assert!(parse(json.as_bytes()).is_ok());
    }

    #[test]
    fn parse_ignores_unknown_fields() {
        let json = r#"{"ociVersion":"1.2.1","root":{"path":"rootfs"},"vendorThing":{"a":1}}"#;
        assert!(parse(json.as_bytes()).is_ok());
    }
}
