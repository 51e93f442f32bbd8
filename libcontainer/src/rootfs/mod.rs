//! The container's root filesystem: mounts, devices, pivot_root, masked and
//! read-only paths.
//!
//! Every path inside the rootfs is resolved inside it (`pathrs`, openat2
//! RESOLVE_IN_ROOT), and every mount is attached by fd with the new mount
//! API, so a symlink in the image (`/proc -> /`, `/dev -> /tmp/host`, a
//! destination pointing at the host's `/etc`) can never make brig mount,
//! mknod or write outside the rootfs.
//!
//! The work is planned first (`plan::plan`, pure data) and then applied. The
//! only public items are the option parser and its types, for fuzzing.

mod copyup;
mod dev;
mod masked;
mod mount;
pub mod options;
mod pivot;
pub(crate) mod plan;
mod resolve;

use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::sys::stat::{umask, Mode, SFlag};

pub use options::{parse_mount_options, ParsedOptions};
use options::PropagationKind;
use plan::{plan, MountOp};
use resolve::{is_type, stat, RootDir};

use crate::error::{Error, Result};
use crate::spec::Config;
use crate::sys::mount as sm;

/// Runs in the init, in its new mount namespace, before hooks and pivot:
/// root propagation, the rootfs bind mount, `mounts` in order, /dev.
/// `mount_label` is the SELinux context for new filesystems (only given
/// when the host runs SELinux).
pub(crate) fn prepare(cfg: &Config, mount_label: Option<&str>) -> Result<()> {
    let plan = plan(cfg)?;
    // First, so that nothing below propagates back to the host.
    pivot::root_propagation(plan.root_propagation)?;
    // Before the self-bind: pivot_root needs the new root's parent mount
    // not to be shared. After rslave or rprivate nothing is shared, and the
    // parent is left alone so that binds from it stay slaves of the host,
    // as with runc (which privatizes it only when it is shared).
    let p = plan.root_propagation;
    if !(p.recursive && matches!(p.kind, PropagationKind::Slave | PropagationKind::Private)) {
        pivot::make_parent_private(&cfg.rootfs)?;
    }
    pivot::bind_rootfs(&cfg.rootfs)?;
    // Opened after the self-bind, so that lookups start on the new mount
    // and everything lands on it, not on the one hidden underneath.
    let root = RootDir::open(&cfg.rootfs)?;
    // Device nodes get exactly their configured mode.
    let old_umask = umask(Mode::empty());
    let r = plan.ops.iter().try_for_each(|op| apply(&root, op, mount_label));
    umask(old_umask);
    r
}

fn apply(root: &RootDir, op: &MountOp, mount_label: Option<&str>) -> Result<()> {
    match op {
        MountOp::Mount(m) => mount::apply(root, m, mount_label),
        MountOp::Device(d) => dev::device(root, d),
        MountOp::Ptmx => dev::ptmx(root),
        MountOp::Symlink { link, target, if_host_has } => {
            if if_host_has.is_some_and(|p| !Path::new(p).exists()) {
                return Ok(());
            }
            dev::symlink(root, link, target)
        }
    }
}

/// Makes the rootfs the init's `/`: pivot_root, or MS_MOVE + chroot with
/// `no_pivot`. Ends with the cwd at the new `/`.
pub(crate) fn enter(cfg: &Config, no_pivot: bool) -> Result<()> {
    if no_pivot {
        pivot::move_root(&cfg.rootfs)
    } else {
        pivot::pivot(&cfg.rootfs)
    }
}

/// chdir to `process.cwd`, resolved inside the container's root with no
/// magic links. A plain chdir("/proc/self/fd/N") would land on whatever
/// directory brig itself holds open as fd N (the host's /proc, a cgroup
/// directory) and the container would start outside its root
/// (CVE-2024-21626); here that is ELOOP. Runs after `enter` (or after
/// setns into the container's mount namespace, for exec).
pub(crate) fn chdir_inside(cwd: &Path) -> Result<()> {
    let root = RootDir::open(Path::new("/"))?;
    let dir = root.lookup(cwd)?.ok_or_else(|| Error::sys("chdir to process.cwd", cwd, Errno::ENOENT))?;
    nix::unistd::fchdir(dir.as_fd()).map_err(|e| Error::sys("chdir to process.cwd", cwd, e))?;
    // The kernel's own check, as runc makes it: getcwd fails (ENOENT) for
    // a directory that is not under this process's root.
    nix::unistd::getcwd().map_err(|e| Error::sys("chdir to process.cwd: outside the container's root", cwd, e))?;
    Ok(())
}

/// Bind-mounts the pty slave onto /dev/console (after `enter`), by fd.
/// /dev/console is created as an empty file if missing; a symlink there is
/// refused, never followed.
pub(crate) fn mount_console(slave: BorrowedFd<'_>) -> Result<()> {
    let root = RootDir::open(Path::new("/"))?;
    let p = Path::new("/dev/console");
    let target = match root.lookup_nofollow(p)? {
        Some(h) => h,
        None => root.ensure_file(p, 0o666)?,
    };
    let st = stat(&target, p)?;
    if is_type(&st, SFlag::S_IFLNK) || is_type(&st, SFlag::S_IFDIR) {
        return Err(Error::sys("mount console (not a file or device)", p, Errno::EINVAL));
    }
    let tree = sm::clone_fd(slave, false).map_err(|e| Error::sys("open_tree (pty slave)", p, e))?;
    sm::move_mount(tree.as_fd(), target.as_fd()).map_err(|e| Error::sys("move_mount", p, e))
}

/// After `enter`: rootfsPropagation, read-only paths, masked paths, the
/// deferred read-only remounts, read-only root.
pub(crate) fn finalize(cfg: &Config) -> Result<()> {
    let plan = plan(cfg)?;
    let root = RootDir::open(Path::new("/"))?;
    masked::apply(&root, &plan.final_ops)
}

/// The mount options brig understands (for `features`): every flag of the
/// parser's table; anything else is passed to the filesystem as a parameter.
pub(crate) const MOUNT_OPTIONS: &[&str] = options::KNOWN_OPTIONS;

#[cfg(test)]
mod live_tests;
