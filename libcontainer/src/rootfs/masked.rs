//! After pivot_root: rootfsPropagation, the process's cwd, read-only paths, masked paths,
//! deferred read-only remounts and the read-only root. Paths are resolved
//! inside the new `/`, which no symlink can leave.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::sys::stat::{major, minor, SFlag};

use super::mount::new_fs;
use super::options::{AttrChange, ParsedOptions, Propagation};
use super::plan::FinalOp;
use super::resolve::{is_type, stat, RootDir};
use crate::error::{Error, Result};
use crate::sys::mount::{self as sm, attr, MountAttr};

/// Applies the `finalize` steps in order. `null` is opened on first need.
pub(super) fn apply(root: &RootDir, ops: &[FinalOp]) -> Result<()> {
    let mut null: Option<OwnedFd> = None;
    for op in ops {
        match op {
            FinalOp::RootPropagation(p) => root_propagation(root, *p)?,
            FinalOp::ReadonlyPath(p) => readonly_path(root, p)?,
            FinalOp::MaskPath(p) => {
                if null.is_none() {
                    null = Some(dev_null(root)?);
                }
                if let Some(n) = &null {
                    mask_path(root, p, n)?;
                }
            }
            FinalOp::RemountRo(p) => remount_ro(root, p)?,
            FinalOp::ReadonlyRoot => set_rdonly(root.root.as_fd(), false, &root.show(Path::new("/")))?,
        }
    }
    Ok(())
}

fn set_rdonly(fd: std::os::fd::BorrowedFd<'_>, recursive: bool, shown: &Path) -> Result<()> {
    let a = MountAttr { attr_set: attr::RDONLY, ..Default::default() };
    sm::mount_setattr(fd, recursive, &a).map_err(|e| Error::sys("mount_setattr MOUNT_ATTR_RDONLY", shown, e))
}

/// Applied after pivot_root, to the new `/`: before it, the rootfs mount
/// could be shared with the host's and the change would reach the host.
fn root_propagation(root: &RootDir, p: Propagation) -> Result<()> {
    let a = MountAttr { propagation: p.kind.ms_flag(), ..Default::default() };
    sm::mount_setattr(root.root.as_fd(), p.recursive, &a)
        .map_err(|e| Error::sys("mount_setattr (rootfsPropagation)", root.show(Path::new("/")), e))
}

/// A recursive read-only bind of the path onto itself. mount_setattr only
/// adds MOUNT_ATTR_RDONLY, so each mount keeps its nosuid, nodev and noexec.
/// A missing path is skipped, as with runc.
fn readonly_path(root: &RootDir, p: &Path) -> Result<()> {
    let Some(h) = root.lookup(p)? else { return Ok(()) };
    let shown = root.show(p);
    let tree = sm::clone_fd(h.as_fd(), true).map_err(|e| Error::sys("open_tree", &shown, e))?;
    set_rdonly(tree.as_fd(), true, &shown)?;
    sm::move_mount(tree.as_fd(), h.as_fd()).map_err(|e| Error::sys("move_mount", &shown, e))
}

/// The container's /dev/null, checked to really be the 1:3 character
/// device: masking with anything else (a file the image put there) would
/// expose rather than hide.
fn dev_null(root: &RootDir) -> Result<OwnedFd> {
    let p = Path::new("/dev/null");
    let shown = root.show(p);
    let h = root.lookup_nofollow(p)?.ok_or_else(|| Error::sys("find (needed for maskedPaths)", &shown, Errno::ENOENT))?;
    let st = stat(&h, &shown)?;
    if !is_type(&st, SFlag::S_IFCHR) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3 {
        return Err(Error::sys("check (not the 1:3 character device, needed for maskedPaths)", shown, Errno::ENODEV));
    }
    Ok(h.into())
}

/// Covers a file with a bind of /dev/null (by fd), a directory with an
/// empty read-only tmpfs. A missing path is skipped.
fn mask_path(root: &RootDir, p: &Path, null: &OwnedFd) -> Result<()> {
    let Some(h) = root.lookup(p)? else { return Ok(()) };
    let shown = root.show(p);
    let st = stat(&h, &shown)?;
    let tree = if is_type(&st, SFlag::S_IFDIR) {
        let opts = ParsedOptions { attrs: AttrChange { set: attr::RDONLY, clr: 0 }, ..Default::default() };
        new_fs("tmpfs", Some("tmpfs"), &opts, &shown)?
    } else {
        sm::clone_fd(null.as_fd(), false).map_err(|e| Error::sys("open_tree", root.show(Path::new("/dev/null")), e))?
    };
    sm::move_mount(tree.as_fd(), h.as_fd()).map_err(|e| Error::sys("move_mount (mask)", &shown, e))
}

/// The deferred `ro` of a tmpfs or /dev, now that nothing more is created
/// inside it. Only that mount, not the ones below (runc's remount).
fn remount_ro(root: &RootDir, p: &Path) -> Result<()> {
    let shown = root.show(p);
    let h = root.lookup(p)?.ok_or_else(|| Error::sys("find (to make read-only)", &shown, Errno::ENOENT))?;
    set_rdonly(h.as_fd(), false, &shown)
}
