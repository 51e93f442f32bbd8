//! The rootfs plan: config.json turned into data (what to mount where, with
//! which attributes; which devices and links to make; what to mask), with no
//! system call made. Unit tests check it without root.

use std::path::{Component, Path, PathBuf};

use oci_spec::runtime::{LinuxDeviceType, LinuxNamespaceType, Mount};

use super::options::{parse_mount_options, ParsedOptions, Propagation, PropagationKind};
use crate::error::{Error, Result};
use crate::spec::Config;
use crate::sys::mount::attr;

/// What a mount entry mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MountKind {
    /// A bind of a host path (absolute: a relative source is taken from the
    /// bundle, as runc does).
    Bind { source: PathBuf },
    /// A new filesystem instance of `fstype`; `source` is only a label
    /// (shown in mountinfo) for virtual filesystems.
    Fs { fstype: String, source: Option<String> },
    /// `cgroup` or `cgroup2`: mounted as cgroup2 on a v2 or hybrid host.
    Cgroup { source: Option<String> },
}

/// One entry of `mounts`, ready to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MountEntry {
    /// Its index in config.json, for error messages.
    pub index: usize,
    /// The destination inside the rootfs, absolute and lexically clean.
    pub dest: PathBuf,
    /// What is mounted.
    pub kind: MountKind,
    /// The parsed options. For a deferred read-only mount, `ro` has been
    /// taken out of `opts.attrs` and a [`FinalOp::RemountRo`] added.
    pub opts: ParsedOptions,
}

/// The kind of a device node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeKind {
    /// Character device.
    Char,
    /// Block device.
    Block,
    /// FIFO.
    Fifo,
}

/// A device node to create in the container's /dev.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeviceNode {
    /// The path inside the rootfs, absolute and clean.
    pub path: PathBuf,
    /// Char, block or fifo.
    pub kind: NodeKind,
    /// Device major number.
    pub major: u64,
    /// Device minor number.
    pub minor: u64,
    /// Permission bits.
    pub mode: u32,
    /// Owner uid.
    pub uid: u32,
    /// Owner gid.
    pub gid: u32,
    /// In a user namespace mknod(2) is refused: bind the host's node
    /// (same path) instead.
    pub bind_from_host: bool,
}

/// One step of `prepare`, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MountOp {
    /// A `mounts` entry.
    Mount(MountEntry),
    /// A device node (defaults and `linux.devices`).
    Device(DeviceNode),
    /// A symlink `link -> target`, left alone if `link` exists. With
    /// `if_host_has`, only made if that host path exists.
    Symlink { link: PathBuf, target: PathBuf, if_host_has: Option<&'static str> },
    /// /dev/ptmx replaced by a symlink to pts/ptmx (the container's devpts).
    Ptmx,
}

/// One step of `finalize`, after pivot_root, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FinalOp {
    /// `linux.rootfsPropagation`, applied to the new `/`.
    RootPropagation(Propagation),
    /// A `linux.readonlyPaths` entry.
    ReadonlyPath(PathBuf),
    /// A `linux.maskedPaths` entry.
    MaskPath(PathBuf),
    /// A tmpfs (or /dev) asked to be read-only, mounted writable so that
    /// mount points and device nodes could be made inside it.
    RemountRo(PathBuf),
    /// `root.readonly`: `/` (only the top mount, as runc) read-only.
    ReadonlyRoot,
}

/// The whole rootfs plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Applied to `/` of the new mount namespace before anything else
    /// (default rslave, so nothing we mount propagates to the host).
    pub root_propagation: Propagation,
    /// The steps of `prepare`.
    pub ops: Vec<MountOp>,
    /// The steps of `finalize`.
    pub final_ops: Vec<FinalOp>,
}

/// The devices every container gets (runc's list), unless the config lists
/// the same path.
const DEFAULT_DEVICES: [(&str, u64, u64); 6] = [
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
];

/// Builds the plan for `cfg`. Pure: reads nothing but `cfg`.
pub(crate) fn plan(cfg: &Config) -> Result<Plan> {
    let spec = &cfg.spec;
    let linux = spec.linux().as_ref();
    let rootfs_prop = match linux.and_then(|l| l.rootfs_propagation().as_deref()).filter(|s| !s.is_empty()) {
        Some(s) => Some(
            Propagation::parse(s)
                .ok_or_else(|| Error::config("linux.rootfsPropagation", format!("{s:?} is not a propagation type")))?,
        ),
        None => None,
    };
    let mut final_ops: Vec<FinalOp> = rootfs_prop.into_iter().map(FinalOp::RootPropagation).collect();
    // A missing process.cwd is not created: brig reports it as an error
    // (issue #2), where runc would mkdir it.
    let mut ops = Vec::new();
    let mut deferred = Vec::new();
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        let (entry, defer) = mount_entry(cfg, i, m)?;
        deferred.extend(defer);
        ops.push(MountOp::Mount(entry));
    }
    let dev_is_host_bind = ops.iter().any(|op| {
        matches!(op, MountOp::Mount(MountEntry { dest, kind: MountKind::Bind { .. }, .. }) if dest == Path::new("/dev"))
    });
    if !dev_is_host_bind {
        dev_ops(cfg, &mut ops)?;
    }
    for p in linux.and_then(|l| l.readonly_paths().as_ref()).into_iter().flatten() {
        final_ops.push(FinalOp::ReadonlyPath(container_path(p, "linux.readonlyPaths")?));
    }
    for p in linux.and_then(|l| l.masked_paths().as_ref()).into_iter().flatten() {
        final_ops.push(FinalOp::MaskPath(container_path(p, "linux.maskedPaths")?));
    }
    final_ops.extend(deferred.into_iter().map(FinalOp::RemountRo));
    if spec.root().as_ref().and_then(|r| r.readonly()).unwrap_or(false) {
        final_ops.push(FinalOp::ReadonlyRoot);
    }
    let root_propagation = rootfs_prop.unwrap_or(Propagation { kind: PropagationKind::Slave, recursive: true });
    Ok(Plan { root_propagation, ops, final_ops })
}

/// A tmpfs, or anything but a bind at /dev, asked to be read-only is
/// mounted writable and made read-only in `finalize`: mount points inside
/// it, device nodes and /dev/console still have to be created (runc does
/// the same).
fn defer_readonly(e: &MountEntry) -> Option<PathBuf> {
    let deferrable = match &e.kind {
        MountKind::Fs { fstype, .. } => fstype == "tmpfs" || e.dest == Path::new("/dev"),
        _ => false,
    };
    (deferrable && e.opts.attrs.set & attr::RDONLY != 0).then(|| e.dest.clone())
}

/// The entry, and its destination again if its `ro` is deferred.
fn mount_entry(cfg: &Config, i: usize, m: &Mount) -> Result<(MountEntry, Option<PathBuf>)> {
    let field = |f: &str| format!("mounts[{i}].{f}");
    if m.uid_mappings().is_some() || m.gid_mappings().is_some() {
        return Err(Error::config(field("uidMappings"), "idmapped mounts are not supported by brig"));
    }
    let dest = clean(m.destination());
    if dest == Path::new("/") {
        return Err(Error::config(field("destination"), "mounting over the rootfs itself is not supported"));
    }
    let opts = parse_mount_options(m.options().as_deref().unwrap_or(&[]), i)?;
    let typ = m.typ().as_deref().unwrap_or("");
    let label = m.source().as_ref().map(|s| s.to_string_lossy().into_owned()).filter(|s| !s.is_empty());
    let kind = if opts.bind || typ == "bind" {
        let src = m.source().as_ref().filter(|s| !s.as_os_str().is_empty());
        let src = src.ok_or_else(|| Error::config(field("source"), "a bind mount needs a source"))?;
        MountKind::Bind { source: if src.is_absolute() { src.clone() } else { cfg.bundle.join(src) } }
    } else if typ == "cgroup" || typ == "cgroup2" {
        MountKind::Cgroup { source: label }
    } else if typ.is_empty() || typ.contains('\0') {
        return Err(Error::config(field("type"), format!("{typ:?} is not a filesystem type")));
    } else {
        MountKind::Fs { fstype: typ.to_string(), source: label }
    };
    if opts.tmpcopyup && !matches!(&kind, MountKind::Fs { fstype, .. } if fstype == "tmpfs") {
        return Err(Error::config(field("options"), "tmpcopyup is only valid for tmpfs"));
    }
    let mut entry = MountEntry { index: i, dest, kind, opts };
    let defer = defer_readonly(&entry);
    if defer.is_some() {
        entry.opts.attrs.set &= !attr::RDONLY;
    }
    Ok((entry, defer))
}

fn dev_ops(cfg: &Config, ops: &mut Vec<MountOp>) -> Result<()> {
    let linux = cfg.spec.linux().as_ref();
    let userns = linux
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|ns| ns.iter().any(|n| n.typ() == LinuxNamespaceType::User));
    let mut nodes: Vec<DeviceNode> = Vec::new();
    for (i, d) in linux.and_then(|l| l.devices().as_ref()).into_iter().flatten().enumerate() {
        let field = |f: &str| format!("linux.devices[{i}].{f}");
        let kind = match d.typ() {
            LinuxDeviceType::C | LinuxDeviceType::U => NodeKind::Char,
            LinuxDeviceType::B => NodeKind::Block,
            LinuxDeviceType::P => NodeKind::Fifo,
            LinuxDeviceType::A => return Err(Error::config(field("type"), "\"a\" is not a device node type")),
        };
        let num = |n: i64, f: &str| u64::try_from(n).map_err(|_| Error::config(field(f), format!("{n} is negative")));
        nodes.push(DeviceNode {
            path: container_path(d.path(), "linux.devices")?,
            kind,
            major: num(d.major(), "major")?,
            minor: num(d.minor(), "minor")?,
            mode: d.file_mode().unwrap_or(0o666) & 0o7777,
            uid: d.uid().unwrap_or(0),
            gid: d.gid().unwrap_or(0),
            bind_from_host: userns,
        });
    }
    // Defaults first, as runc; a path the config lists wins.
    for (path, major, minor) in DEFAULT_DEVICES {
        if !nodes.iter().any(|n| n.path == Path::new(path)) {
            ops.push(MountOp::Device(DeviceNode {
                path: PathBuf::from(path),
                kind: NodeKind::Char,
                major,
                minor,
                mode: 0o666,
                uid: 0,
                gid: 0,
                bind_from_host: userns,
            }));
        }
    }
    ops.extend(nodes.into_iter().map(MountOp::Device));
    ops.push(MountOp::Ptmx);
    let links = [
        ("/dev/fd", "/proc/self/fd", None),
        ("/dev/stdin", "/proc/self/fd/0", None),
        ("/dev/stdout", "/proc/self/fd/1", None),
        ("/dev/stderr", "/proc/self/fd/2", None),
        // runc links /dev/core only where the kernel has /proc/kcore.
        ("/dev/core", "/proc/kcore", Some("/proc/kcore")),
    ];
    for (link, target, if_host_has) in links {
        ops.push(MountOp::Symlink { link: link.into(), target: target.into(), if_host_has });
    }
    Ok(())
}

/// A path inside the container from config.json: must be absolute; returned
/// lexically clean. It is still resolved inside the rootfs when used.
fn container_path(p: impl AsRef<Path>, field: &str) -> Result<PathBuf> {
    let p = p.as_ref();
    if !p.is_absolute() {
        return Err(Error::config(field, format!("{p:?} is not absolute")));
    }
    let c = clean(p);
    if c == Path::new("/") {
        return Err(Error::config(field, format!("{p:?} names the root itself")));
    }
    Ok(c)
}

/// Lexical cleaning of an absolute path: `.` and empty components dropped,
/// `..` pops (never above `/`). Symlinks are left to the resolver.
pub(crate) fn clean(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
