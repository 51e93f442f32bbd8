//! `mounts[].options` parsing: runc's option table, turned into the pieces
//! the new mount API wants (mount attributes, propagation, superblock flags
//! and filesystem parameters). Strict: anything that cannot be passed on
//! faithfully is refused with the option named. Never panics.

use crate::error::{Error, Result};
use crate::sys::mount::attr;

/// Mount-level attributes to set and clear (`MOUNT_ATTR_*` bits, as in
/// mount_setattr(2)). A later option overrides an earlier one.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AttrChange {
    /// Bits to set.
    pub set: u64,
    /// Bits to clear. Always contains the whole atime mask when an atime
    /// mode is set, as the kernel requires.
    pub clr: u64,
}

impl AttrChange {
    fn set_bit(&mut self, bit: u64) {
        self.set |= bit;
        self.clr &= !bit;
    }

    fn clear_bit(&mut self, bit: u64) {
        self.clr |= bit;
        self.set &= !bit;
    }

    fn atime(&mut self, mode: u64) {
        self.set = (self.set & !attr::ATIME_MASK) | mode;
        self.clr |= attr::ATIME_MASK;
    }

    /// True if nothing is to be changed.
    pub fn is_empty(&self) -> bool {
        self.set == 0 && self.clr == 0
    }
}

/// A mount propagation type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropagationKind {
    /// `MS_PRIVATE`.
    Private,
    /// `MS_SHARED`.
    Shared,
    /// `MS_SLAVE`.
    Slave,
    /// `MS_UNBINDABLE`.
    Unbindable,
}

impl PropagationKind {
    /// The `MS_*` value mount(2) and mount_setattr(2) take (the kernel's
    /// values, the same on every architecture).
    pub fn ms_flag(self) -> u64 {
        match self {
            PropagationKind::Unbindable => 1 << 17,
            PropagationKind::Private => 1 << 18,
            PropagationKind::Slave => 1 << 19,
            PropagationKind::Shared => 1 << 20,
        }
    }
}

/// A propagation change, e.g. `rslave` = slave, recursive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Propagation {
    /// The type to switch to.
    pub kind: PropagationKind,
    /// Whether it applies to every mount below, too (`r` prefix).
    pub recursive: bool,
}

impl Propagation {
    /// Parses `private`, `rprivate`, `shared`, `rshared`, `slave`, `rslave`,
    /// `unbindable` or `runbindable`.
    pub fn parse(s: &str) -> Option<Propagation> {
        let (recursive, base) = match s.strip_prefix('r') {
            Some(b) if matches!(b, "private" | "shared" | "slave" | "unbindable") => (true, b),
            _ => (false, s),
        };
        let kind = match base {
            "private" => PropagationKind::Private,
            "shared" => PropagationKind::Shared,
            "slave" => PropagationKind::Slave,
            "unbindable" => PropagationKind::Unbindable,
            _ => return None,
        };
        Some(Propagation { kind, recursive })
    }
}

/// A filesystem parameter passed to fsconfig(2): `key` alone (a flag) or
/// `key=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsParam {
    /// The parameter name, e.g. `size`.
    pub key: String,
    /// The value, e.g. `65536k`; None for a flag such as `newinstance`.
    pub value: Option<String>,
}

/// The parsed `options` of one mount.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ParsedOptions {
    /// `bind` or `rbind` was given.
    pub bind: bool,
    /// `rbind`: the bind includes the mounts below the source.
    pub recursive_bind: bool,
    /// Attributes for the top mount only (`ro`, `nosuid`, ...).
    pub attrs: AttrChange,
    /// Attributes for every mount of the tree (`rro`, `rnosuid`, ...).
    pub rec_attrs: AttrChange,
    /// Propagation changes, applied in order after the mount is attached.
    pub propagation: Vec<Propagation>,
    /// Superblock flags for fsconfig(2), e.g. `sync`, `nomand`.
    pub sb_flags: Vec<&'static str>,
    /// Filesystem parameters, in order (`size=64m`, `newinstance`, ...).
    pub data: Vec<FsParam>,
    /// runc's `tmpcopyup`: copy what the destination held into the new tmpfs.
    pub tmpcopyup: bool,
}

/// Every option with a meaning of its own (not a filesystem parameter), as
/// runc's `features` lists them.
pub const KNOWN_OPTIONS: &[&str] = &[
    "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "lazytime", "loud", "mand",
    "noatime", "nodev", "nodiratime", "noexec", "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid",
    "nosymfollow", "private", "ratime", "rbind", "rdev", "rdiratime", "relatime", "rexec", "rnoatime", "rnodev",
    "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow", "ro", "rprivate",
    "rrelatime", "rro", "rrw", "rshared", "rslave", "rstrictatime", "rsuid", "rsymfollow", "runbindable", "rw",
    "shared", "silent", "slave", "strictatime", "suid", "symfollow", "sync", "tmpcopyup", "unbindable",
];

/// What an option string means.
enum Opt {
    Set(u64),
    Clear(u64),
    RecSet(u64),
    RecClear(u64),
    Atime(u64),
    RecAtime(u64),
    Sb(&'static str),
    Bind(bool),
    Propagation(Propagation),
    NoOp,
}

/// The flag table, after runc's `mountFlags`/`recAttrFlags` and the kernel's
/// generic fs_context superblock keys.
fn lookup(s: &str) -> Option<Opt> {
    use attr::*;
    let (rec, base) = match s.strip_prefix('r') {
        Some(b) if mount_attr_option(b) => (true, b),
        _ => (false, s),
    };
    let opt = match base {
        "ro" => Opt::Set(RDONLY),
        "rw" => Opt::Clear(RDONLY),
        "nosuid" => Opt::Set(NOSUID),
        "suid" => Opt::Clear(NOSUID),
        "nodev" => Opt::Set(NODEV),
        "dev" => Opt::Clear(NODEV),
        "noexec" => Opt::Set(NOEXEC),
        "exec" => Opt::Clear(NOEXEC),
        "nodiratime" => Opt::Set(NODIRATIME),
        "diratime" => Opt::Clear(NODIRATIME),
        "nosymfollow" => Opt::Set(NOSYMFOLLOW),
        "symfollow" => Opt::Clear(NOSYMFOLLOW),
        "noatime" => Opt::Atime(NOATIME),
        "strictatime" => Opt::Atime(STRICTATIME),
        // Clearing noatime or strictatime, or asking for relatime, all
        // leave the kernel default: relatime.
        "relatime" | "atime" | "norelatime" | "nostrictatime" => Opt::Atime(RELATIME),
        "bind" => Opt::Bind(false),
        "rbind" => Opt::Bind(true),
        "sync" | "async" | "dirsync" | "lazytime" | "nolazytime" | "mand" | "nomand" => Opt::Sb(sb_key(base)),
        // Only change what the kernel logs, or restate the defaults.
        "defaults" | "silent" | "loud" => Opt::NoOp,
        _ => return Propagation::parse(s).map(Opt::Propagation),
    };
    Some(match (rec, opt) {
        (false, o) => o,
        (true, Opt::Set(b)) => Opt::RecSet(b),
        (true, Opt::Clear(b)) => Opt::RecClear(b),
        (true, Opt::Atime(b)) => Opt::RecAtime(b),
        (true, _) => return None,
    })
}

/// Options that have an `r`-prefixed recursive form (runc's recAttrFlags).
fn mount_attr_option(b: &str) -> bool {
    matches!(
        b,
        "ro" | "rw"
            | "nosuid"
            | "suid"
            | "nodev"
            | "dev"
            | "noexec"
            | "exec"
            | "nodiratime"
            | "diratime"
            | "relatime"
            | "norelatime"
            | "noatime"
            | "atime"
            | "strictatime"
            | "nostrictatime"
            | "nosymfollow"
            | "symfollow"
    )
}

fn sb_key(s: &str) -> &'static str {
    match s {
        "sync" => "sync",
        "async" => "async",
        "dirsync" => "dirsync",
        "lazytime" => "lazytime",
        "nolazytime" => "nolazytime",
        "mand" => "mand",
        _ => "nomand",
    }
}

/// Parses the `options` of one mount, strictly.
///
/// Known flags (runc's table: `ro`, `nosuid`, `rbind`, `rprivate`, `rro`,
/// `strictatime`, ...) become mount attributes, propagation or superblock
/// flags; anything else must look like a filesystem parameter (`key` or
/// `key=value`, non-empty key without NUL, `,` or `=`, value without NUL)
/// and is handed to the filesystem, which refuses what it does not know.
/// `idmap`/`ridmap` and `remount` are refused as unsupported. `i` is the
/// index of the mount in config.json, used in error messages.
pub fn parse_mount_options(options: &[String], i: usize) -> Result<ParsedOptions> {
    let mut p = ParsedOptions::default();
    for o in options {
        let field = || format!("mounts[{i}].options");
        match lookup(o) {
            Some(Opt::Set(b)) => p.attrs.set_bit(b),
            Some(Opt::Clear(b)) => p.attrs.clear_bit(b),
            Some(Opt::Atime(m)) => p.attrs.atime(m),
            Some(Opt::RecSet(b)) => p.rec_attrs.set_bit(b),
            Some(Opt::RecClear(b)) => p.rec_attrs.clear_bit(b),
            Some(Opt::RecAtime(m)) => p.rec_attrs.atime(m),
            Some(Opt::Sb(k)) => p.sb_flags.push(k),
            Some(Opt::Bind(rec)) => {
                p.bind = true;
                p.recursive_bind |= rec;
            }
            Some(Opt::Propagation(pr)) => p.propagation.push(pr),
            Some(Opt::NoOp) => {}
            None => match o.as_str() {
                "tmpcopyup" => p.tmpcopyup = true,
                "idmap" | "ridmap" | "remount" => {
                    return Err(Error::config(field(), format!("option {o:?} is not supported by brig")))
                }
                _ => p.data.push(fs_param(o).map_err(|why| Error::config(field(), format!("{o:?}: {why}")))?),
            },
        }
    }
    Ok(p)
}

fn fs_param(o: &str) -> std::result::Result<FsParam, &'static str> {
    let (key, value) = match o.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (o, None),
    };
    if key.is_empty() {
        return Err("empty option name");
    }
    if key.contains([',', '\0']) {
        return Err("option name contains ',' or NUL");
    }
    if value.is_some_and(|v| v.contains('\0')) {
        return Err("option value contains NUL");
    }
    if key == "source" {
        return Err("the source is set by mounts[].source");
    }
    Ok(FsParam { key: key.to_string(), value: value.map(str::to_string) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(opts: &[&str]) -> Result<ParsedOptions> {
        let v: Vec<String> = opts.iter().map(|s| s.to_string()).collect();
        parse_mount_options(&v, 0)
    }

    #[test]
    fn bind_flags_and_propagation() {
        let p = parse(&["rbind", "ro", "nosuid", "rprivate"]).unwrap();
        assert!(p.bind && p.recursive_bind);
        assert_eq!(p.attrs.set, attr::RDONLY | attr::NOSUID);
        assert_eq!(p.attrs.clr, 0);
        assert_eq!(p.propagation, vec![Propagation { kind: PropagationKind::Private, recursive: true }]);
        assert!(p.data.is_empty());
    }

    #[test]
    fn later_option_wins() {
        let p = parse(&["ro", "rw"]).unwrap();
        assert_eq!(p.attrs.set, 0);
        assert_eq!(p.attrs.clr, attr::RDONLY);
        let p = parse(&["noatime", "strictatime"]).unwrap();
        assert_eq!(p.attrs.set, attr::STRICTATIME);
        assert_eq!(p.attrs.clr, attr::ATIME_MASK);
        let p = parse(&["noatime", "relatime"]).unwrap();
        assert_eq!(p.attrs.set, 0);
        assert_eq!(p.attrs.clr, attr::ATIME_MASK);
    }

    #[test]
    fn recursive_attrs() {
        let p = parse(&["rbind", "rro", "rnoexec", "rnoatime"]).unwrap();
        assert_eq!(p.attrs, AttrChange::default());
        assert_eq!(p.rec_attrs.set, attr::RDONLY | attr::NOEXEC | attr::NOATIME);
        assert_eq!(p.rec_attrs.clr, attr::ATIME_MASK);
    }

    #[test]
    fn fs_params_and_sb_flags() {
        let p = parse(&["nosuid", "size=65536k", "mode=755", "newinstance", "sync"]).unwrap();
        assert_eq!(
            p.data,
            vec![
                FsParam { key: "size".into(), value: Some("65536k".into()) },
                FsParam { key: "mode".into(), value: Some("755".into()) },
                FsParam { key: "newinstance".into(), value: None },
            ]
        );
        assert_eq!(p.sb_flags, vec!["sync"]);
    }

    #[test]
    fn refuses_bad_options() {
        for bad in ["", "=x", "a\0b", "x=\0", "idmap", "ridmap", "remount", "source=/x", "a,b"] {
            let e = parse(&[bad]).unwrap_err().to_string();
            assert!(e.contains("mounts[0].options"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn r_prefix_only_on_attr_options() {
        // `rbind` is bind, `rshared` propagation; `rsync` is not a thing
        // and goes to the filesystem as a parameter.
        let p = parse(&["rsync"]).unwrap();
        assert_eq!(p.data[0].key, "rsync");
        assert!(p.sb_flags.is_empty());
        assert!(Propagation::parse("rrprivate").is_none());
        assert!(Propagation::parse("r").is_none());
    }

    #[test]
    #[allow(clippy::unnecessary_cast)] // c_ulong is u32 on 32-bit targets
    fn ms_flags_match_libc() {
        assert_eq!(PropagationKind::Private.ms_flag(), libc::MS_PRIVATE as u64);
        assert_eq!(PropagationKind::Shared.ms_flag(), libc::MS_SHARED as u64);
        assert_eq!(PropagationKind::Slave.ms_flag(), libc::MS_SLAVE as u64);
        assert_eq!(PropagationKind::Unbindable.ms_flag(), libc::MS_UNBINDABLE as u64);
    }

    #[test]
    fn known_options_are_not_fs_params() {
        for o in KNOWN_OPTIONS {
            let p = parse(&[o]).unwrap();
            assert!(p.data.is_empty(), "{o}");
        }
    }

    /// A fuzz stand-in: many option lists built from known options, their
    /// pieces and awkward bytes. Nothing panics; an accepted list only holds
    /// well-formed parameters; the attribute sets never overlap.
    #[test]
    fn random_option_lists() {
        let pieces: Vec<&str> = KNOWN_OPTIONS
            .iter()
            .copied()
            .chain(["r", "=", ",", "\0", "é", "size", "mode=", "=755", "idmap", "source", "", "x"])
            .collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let n = next() % 6;
            let opts: Vec<String> = (0..n)
                .map(|_| (0..1 + next() % 3).map(|_| pieces[(next() % pieces.len() as u64) as usize]).collect())
                .collect();
            let Ok(p) = parse_mount_options(&opts, 3) else { continue };
            for a in [p.attrs, p.rec_attrs] {
                assert_eq!(a.set & a.clr & !attr::ATIME_MASK, 0, "{opts:?}");
            }
            for d in &p.data {
                assert!(!d.key.is_empty() && !d.key.contains([',', '\0', '=']), "{opts:?}");
                assert!(!d.value.as_deref().unwrap_or("").contains('\0'), "{opts:?}");
            }
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        let odd = ["r", "rr", "\u{0}", "=", "==", "ü=ß", "r\u{301}o", "rro=1", "x=y=z", "tmpcopyup"];
        for o in odd {
            let _ = parse(&[o]);
        }
    }
}
