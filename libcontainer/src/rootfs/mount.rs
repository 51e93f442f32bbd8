//! Applying `mounts` entries with the new mount API: each mount is built
//! detached (fsopen/fsmount, or open_tree for a bind), given its attributes,
//! then attached with move_mount onto the O_PATH fd of a destination that
//! was resolved inside the rootfs.

use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::sys::stat::SFlag;
use nix::sys::statfs::{fstatfs, PROC_SUPER_MAGIC, SYSFS_MAGIC};

use super::copyup::copy_up;
use super::options::{AttrChange, FsParam, ParsedOptions};
use super::plan::{MountEntry, MountKind};
use super::resolve::{is_type, stat, RootDir};
use crate::error::{Error, Result};
use crate::security::lsm::{self, MountLabelHow};
use crate::sys::mount::{self as sm, attr, MountAttr};

/// Mounts one `mounts` entry inside the rootfs; a new filesystem gets the
/// SELinux `label` as runc gives it (see [`lsm::mount_label_how`]).
pub(super) fn apply(root: &RootDir, m: &MountEntry, label: Option<&str>) -> Result<()> {
    let shown = root.show(&m.dest);
    let is_dir = match &m.kind {
        MountKind::Bind { source } => {
            let st = nix::sys::stat::stat(source).map_err(|e| Error::sys("stat bind source", source, e))?;
            is_type(&st, SFlag::S_IFDIR)
        }
        MountKind::Fs { fstype, .. } if fstype == "proc" || fstype == "sysfs" => {
            ordinary_dir(root, &m.dest, fstype)?;
            true
        }
        _ => true,
    };
    // The destination is made and resolved first, inside the rootfs; the
    // mount is then attached to that fd and to nothing else.
    let target = if is_dir { root.ensure_dir(&m.dest)? } else { root.ensure_file(&m.dest, 0o644)? };
    not_redirected_into_kernel_fs(&target, &m.dest, &shown)?;
    let mnt = match &m.kind {
        MountKind::Bind { source } => bind_tree(source, &m.opts, m.opts.recursive_bind)?,
        MountKind::Fs { fstype, source } => labeled_fs(fstype, source.as_deref(), &m.opts, label, &shown)?,
        MountKind::Cgroup { source } => cgroup(source.as_deref(), &m.opts, &shown)?,
    };
    if m.opts.tmpcopyup {
        // Into the detached tmpfs, before it hides what it copies.
        copy_up(target.as_fd(), mnt.as_fd(), &shown)?;
    }
    sm::move_mount(mnt.as_fd(), target.as_fd()).map_err(|e| Error::sys("move_mount", &shown, e))?;
    // Propagation is changed once the mount is attached: a detached tree
    // has no peers to share with.
    for p in &m.opts.propagation {
        let a = MountAttr { propagation: p.kind.ms_flag(), ..Default::default() };
        sm::mount_setattr(mnt.as_fd(), p.recursive, &a).map_err(|e| Error::sys("mount_setattr propagation", &shown, e))?;
    }
    Ok(())
}

/// proc and sysfs must land on a real directory: a symlink such as
/// `/proc -> /` in the image would otherwise put them over the rootfs
/// itself, or wherever it points (CVE-2019-19921 in runc).
fn ordinary_dir(root: &RootDir, dest: &Path, fstype: &str) -> Result<()> {
    let Some(h) = root.lookup_nofollow(dest)? else { return Ok(()) };
    let shown = root.show(dest);
    let st = stat(&h, &shown)?;
    if !is_type(&st, SFlag::S_IFDIR) {
        return Err(Error::sys(format!("mount {fstype}: destination is not an ordinary directory"), shown, Errno::ENOTDIR));
    }
    Ok(())
}

/// Refuses a destination that an image symlink sent into a procfs or sysfs
/// mounted earlier (`/run -> /proc/self`, then a volume at `/run/attr`):
/// covering files there can switch off what the runtime writes to later
/// (CVE-2019-16884 in runc). A destination the config itself puts under
/// /proc or /sys (lxcfs binds) is allowed.
fn not_redirected_into_kernel_fs(target: &impl AsFd, dest: &Path, shown: &Path) -> Result<()> {
    let fs = fstatfs(target.as_fd()).map_err(|e| Error::sys("fstatfs", shown, e))?.filesystem_type();
    let (magic, top) = match fs {
        PROC_SUPER_MAGIC => (fs, "/proc"),
        SYSFS_MAGIC => (fs, "/sys"),
        _ => return Ok(()),
    };
    if dest.starts_with(top) {
        return Ok(());
    }
    let what = if magic == PROC_SUPER_MAGIC { "procfs" } else { "sysfs" };
    Err(Error::sys(format!("mount: destination resolves into {what} through a symlink in the image"), shown, Errno::EXDEV))
}

/// A detached bind of the host path `source`, with the entry's attributes.
/// Filesystem parameters (`opts.data`) mean nothing to a bind and are
/// ignored, as mount(2) ignores them for runc.
pub(super) fn bind_tree(source: &Path, opts: &ParsedOptions, recursive: bool) -> Result<OwnedFd> {
    let c = cstring(source.as_os_str().as_bytes(), source)?;
    let tree = sm::clone_path(&c, recursive).map_err(|e| Error::sys("open_tree", source, e))?;
    set_attrs(tree.as_fd(), &opts.attrs, false, source)?;
    set_attrs(tree.as_fd(), &opts.rec_attrs, true, source)?;
    Ok(tree)
}

/// mount_setattr with the requested changes. On a mount inherited from a
/// more privileged user namespace, flags such as ro or nosuid are locked
/// and clearing them fails with EPERM: then only the setting is applied, as
/// the locked flags already are what the kernel insists on.
fn set_attrs(fd: BorrowedFd<'_>, a: &AttrChange, recursive: bool, shown: &Path) -> Result<()> {
    if a.is_empty() {
        return Ok(());
    }
    let req = MountAttr { attr_set: a.set, attr_clr: a.clr, ..Default::default() };
    match sm::mount_setattr(fd, recursive, &req) {
        Err(Errno::EPERM) if a.clr & !attr::ATIME_MASK != 0 => {
            let keep = MountAttr { attr_clr: a.clr & attr::ATIME_MASK, ..req };
            sm::mount_setattr(fd, recursive, &keep)
        }
        r => r,
    }
    .map_err(|e| Error::sys("mount_setattr", shown, e))
}

/// A new filesystem with the mount label: as `context=`, or as the xattr
/// on its root before it is attached (mqueue).
fn labeled_fs(fstype: &str, source: Option<&str>, opts: &ParsedOptions, label: Option<&str>, shown: &Path) -> Result<OwnedFd> {
    let Some(label) = label else { return fs_or_fallback(fstype, source, opts, shown) };
    match lsm::mount_label_how(fstype) {
        MountLabelHow::Never => fs_or_fallback(fstype, source, opts, shown),
        MountLabelHow::Context => {
            let mut o = opts.clone();
            o.data.push(FsParam { key: "context".into(), value: Some(label.into()) });
            fs_or_fallback(fstype, source, &o, shown)
        }
        MountLabelHow::Xattr => {
            let mnt = fs_or_fallback(fstype, source, opts, shown)?;
            sm::set_selinux_label(mnt.as_fd(), &cstring(label.as_bytes(), shown)?)
                .map_err(|e| Error::sys("fsetxattr security.selinux (linux.mountLabel)", shown, e))?;
            Ok(mnt)
        }
    }
}

/// A new filesystem. sysfs and mqueue fall back to a bind of the host's
/// instance when the kernel refuses a new one: in a user namespace that does
/// not own the network (sysfs) or IPC (mqueue) namespace, as runc and crun.
fn fs_or_fallback(fstype: &str, source: Option<&str>, opts: &ParsedOptions, shown: &Path) -> Result<OwnedFd> {
    let host = match fstype {
        "sysfs" => "/sys",
        "mqueue" => "/dev/mqueue",
        "devpts" => return devpts(source, opts, shown),
        _ => return new_fs(fstype, source, opts, shown),
    };
    match new_fs(fstype, source, opts, shown) {
        Err(e) if e.errno() == Some(Errno::EPERM) => {
            // The host's tree has more mounts below (cgroups, debugfs...):
            // a read-only request covers all of them, not just the top.
            let mut o = opts.clone();
            o.rec_attrs.set |= o.attrs.set & attr::RDONLY;
            o.rec_attrs.clr &= !attr::RDONLY;
            bind_tree(Path::new(host), &o, true)
        }
        r => r,
    }
}

/// devpts; in a user namespace where the `gid=` group (tty, 5) is not
/// mapped the kernel refuses it (EINVAL, at fsconfig or at create depending
/// on the version): then without it, so ptys get the creating process's
/// group, as with runc's rootless configs, which drop the option.
fn devpts(source: Option<&str>, opts: &ParsedOptions, shown: &Path) -> Result<OwnedFd> {
    match new_fs("devpts", source, opts, shown) {
        Err(e) if e.errno() == Some(Errno::EINVAL) && opts.data.iter().any(|p| p.key == "gid") => {
            let mut without = opts.clone();
            without.data.retain(|p| p.key != "gid");
            new_fs("devpts", source, &without, shown)
        }
        r => r,
    }
}

/// fsopen, fsconfig each parameter, create, fsmount with the attributes.
pub(super) fn new_fs(fstype: &str, source: Option<&str>, opts: &ParsedOptions, shown: &Path) -> Result<OwnedFd> {
    let fs = sm::fsopen(&cstring(fstype.as_bytes(), shown)?)
        .map_err(|e| Error::sys(format!("fsopen {fstype}"), shown, e))?;
    let fail = |what: String, e: Errno| {
        let log = sm::fs_log(fs.as_fd()).map(|l| format!(" ({l})")).unwrap_or_default();
        Error::sys(format!("{what}{log}"), shown, e)
    };
    if let Some(src) = source {
        sm::fsconfig_string(fs.as_fd(), c"source", &cstring(src.as_bytes(), shown)?)
            .map_err(|e| fail(format!("fsconfig {fstype} source={src}"), e))?;
    }
    for flag in &opts.sb_flags {
        sm::fsconfig_flag(fs.as_fd(), &cstring(flag.as_bytes(), shown)?)
            .map_err(|e| fail(format!("fsconfig {fstype} {flag}"), e))?;
    }
    for p in &opts.data {
        let key = cstring(p.key.as_bytes(), shown)?;
        let r = match &p.value {
            Some(v) => sm::fsconfig_string(fs.as_fd(), &key, &cstring(v.as_bytes(), shown)?),
            None => sm::fsconfig_flag(fs.as_fd(), &key),
        };
        let shown_opt = match &p.value {
            Some(v) => format!("{}={v}", p.key),
            None => p.key.clone(),
        };
        r.map_err(|e| fail(format!("fsconfig {fstype} {shown_opt}"), e))?;
    }
    sm::fsconfig_create(fs.as_fd()).map_err(|e| fail(format!("fsconfig {fstype} create"), e))?;
    // A new mount is a single mount: top-level and recursive attributes
    // mean the same. Clearing is moot, everything starts cleared.
    let attrs = opts.attrs.set | opts.rec_attrs.set;
    sm::fsmount(fs.as_fd(), attrs).map_err(|e| fail(format!("fsmount {fstype}"), e))
}

/// `cgroup`/`cgroup2`: a cgroup2 instance on a v2 or hybrid host (in a
/// cgroup namespace it shows the namespace's root). Without the privilege
/// for a new instance (a user namespace without a cgroup namespace), the
/// init's own cgroup is bound instead, as runc does.
fn cgroup(source: Option<&str>, opts: &ParsedOptions, shown: &Path) -> Result<OwnedFd> {
    let v2_root = cgroup2_root()?;
    match new_fs("cgroup2", source, opts, shown) {
        Err(e) if matches!(e.errno(), Some(Errno::EPERM | Errno::EBUSY)) => {
            let own = own_cgroup()?;
            bind_tree(&Path::new(v2_root).join(own.trim_start_matches('/')), opts, true)
        }
        r => r,
    }
}

/// Where the host's cgroup2 hierarchy is: /sys/fs/cgroup (v2) or
/// /sys/fs/cgroup/unified (hybrid). A pure v1 host cannot give a container
/// a cgroup2 mount.
fn cgroup2_root() -> Result<&'static str> {
    crate::cgroups::standard_unified_mount()
        .ok_or_else(|| Error::Unsupported { what: "cgroup mount".into(), reason: "the host has no cgroup2 hierarchy".into() })
}

/// The init's cgroup2 path, from the `0::` line of /proc/self/cgroup.
fn own_cgroup() -> Result<String> {
    let text = std::fs::read_to_string("/proc/self/cgroup").map_err(|e| Error::io("read", "/proc/self/cgroup", &e))?;
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(str::to_string)
        .ok_or_else(|| Error::sys("find cgroup2 path in", "/proc/self/cgroup", Errno::ENOENT))
}

/// A C string for a syscall; a NUL inside is refused with the path named.
pub(super) fn cstring(b: &[u8], shown: &Path) -> Result<CString> {
    CString::new(b).map_err(|_| Error::sys("convert to C string (NUL byte)", shown, Errno::EINVAL))
}
