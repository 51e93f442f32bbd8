//! Making the rootfs a mount point, and then the init's `/`: pivot_root, or
//! MS_MOVE + chroot for roots that cannot be pivoted (ramfs).

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::stat::Mode;
use nix::unistd::{chdir, chroot, fchdir, pivot_root};

use super::mount::cstring;
use super::options::{Propagation, PropagationKind};
use crate::error::{Context, Error, Result};
use crate::sys::mount::{self as sm, MountAttr};

fn open_host(path: &Path, flags: OFlag) -> Result<OwnedFd> {
    open(path, flags | OFlag::O_CLOEXEC, Mode::empty()).ctx("open", path)
}

/// Applies `p` to `/` of the init's new mount namespace. This runs first:
/// until `/` is a slave (or private), every mount made below would
/// propagate into the host's namespace.
pub(super) fn root_propagation(p: Propagation) -> Result<()> {
    let mut flags = MsFlags::from_bits_truncate(p.kind.ms_flag() as libc::c_ulong);
    if p.recursive {
        flags |= MsFlags::MS_REC;
    }
    mount(None::<&str>, "/", None::<&str>, flags, None::<&str>).ctx("mount (set propagation)", "/")
}

/// Makes the mount the rootfs lives on private. pivot_root(2) refuses a new
/// root whose parent mount is shared, which it can still be when
/// rootfsPropagation is `shared` or non-recursive. Walks up from the rootfs
/// (a trusted host path) until it reaches a mount root: mount_setattr
/// answers EINVAL for a directory that is not one.
pub(super) fn make_parent_private(rootfs: &Path) -> Result<()> {
    let private = MountAttr { propagation: PropagationKind::Private.ms_flag(), ..Default::default() };
    let mut dir = Some(rootfs);
    while let Some(d) = dir {
        let fd = open_host(d, OFlag::O_PATH | OFlag::O_DIRECTORY)?;
        match sm::mount_setattr(fd.as_fd(), false, &private) {
            Ok(()) => return Ok(()),
            Err(Errno::EINVAL) => dir = d.parent(),
            Err(e) => return Err(Error::sys("mount_setattr MS_PRIVATE", d, e)),
        }
    }
    Ok(())
}

/// Binds the rootfs onto itself (recursively), so that it is a mount point
/// pivot_root can use and so that everything mounted into it afterwards
/// hangs below one mount.
pub(super) fn bind_rootfs(rootfs: &Path) -> Result<()> {
    let c = cstring(rootfs.as_os_str().as_encoded_bytes(), rootfs)?;
    let tree = sm::clone_path(&c, true).map_err(|e| Error::sys("open_tree (rootfs)", rootfs, e))?;
    let target = open_host(rootfs, OFlag::O_PATH | OFlag::O_DIRECTORY)?;
    sm::move_mount(tree.as_fd(), target.as_fd()).map_err(|e| Error::sys("move_mount (rootfs onto itself)", rootfs, e))
}

/// pivot_root(".", "."), as runc and crun: no put_old directory is needed
/// inside the rootfs; the old root ends up stacked on the new one and is
/// detached right away.
pub(super) fn pivot(rootfs: &Path) -> Result<()> {
    let old_root = open_host(Path::new("/"), OFlag::O_DIRECTORY | OFlag::O_RDONLY)?;
    let new_root = open_host(rootfs, OFlag::O_DIRECTORY | OFlag::O_RDONLY)?;
    fchdir(new_root.as_fd()).ctx("fchdir", rootfs)?;
    pivot_root(".", ".").ctx("pivot_root", rootfs)?;
    // The kernel leaves "." at the old root today, but does not promise it.
    fchdir(old_root.as_fd()).ctx("fchdir", "old root")?;
    // rslave before the unmount, so that it cannot propagate to the host.
    mount(None::<&str>, ".", None::<&str>, MsFlags::MS_SLAVE | MsFlags::MS_REC, None::<&str>)
        .ctx("mount MS_SLAVE|MS_REC", "old root")?;
    umount2(".", MntFlags::MNT_DETACH).ctx("umount2 MNT_DETACH", "old root")?;
    chdir("/").ctx("chdir", "/")
}

/// --no-pivot: moves the rootfs mount onto `/` and chroots into it. The old
/// root stays underneath, unreachable from the new `/`.
pub(super) fn move_root(rootfs: &Path) -> Result<()> {
    chdir(rootfs).ctx("chdir", rootfs)?;
    let fd = open_host(rootfs, OFlag::O_PATH | OFlag::O_DIRECTORY)?;
    sm::move_mount_to_path(fd.as_fd(), c"/").map_err(|e| Error::sys("move_mount (rootfs onto /)", rootfs, e))?;
    chroot(".").ctx("chroot", rootfs)?;
    chdir("/").ctx("chdir", "/")
}
