//! /dev: device nodes (mknod, or a bind of the host's node in a user
//! namespace), the /dev/ptmx link and the /proc/self/fd links. Every path
//! is resolved inside the rootfs: `/dev -> /tmp/host` in an image makes the
//! nodes land in the rootfs's /tmp/host, never on the host.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::stat::{makedev, SFlag};
use nix::unistd::{fchownat, Gid, Uid};
use pathrs::InodeType;

use super::mount::bind_tree;
use super::options::ParsedOptions;
use super::plan::{DeviceNode, NodeKind};
use super::resolve::{is_type, px, stat, RootDir};
use crate::error::pathrs_errno as errno;
use crate::error::{Error, Result};
use crate::sys::mount as sm;

/// Creates one device node. The caller has set the umask to 0, so `mode`
/// is the node's mode exactly.
pub(super) fn device(root: &RootDir, d: &DeviceNode) -> Result<()> {
    if let Some(parent) = d.path.parent() {
        root.ensure_dir(parent)?;
    }
    if d.bind_from_host {
        return bind_host_node(root, d);
    }
    let perm = std::os::unix::fs::PermissionsExt::from_mode(d.mode);
    let dev = makedev(d.major, d.minor);
    let inode = match d.kind {
        NodeKind::Char => InodeType::CharacterDevice(perm, dev),
        NodeKind::Block => InodeType::BlockDevice(perm, dev),
        NodeKind::Fifo => InodeType::Fifo(perm),
    };
    let shown = root.show(&d.path);
    match root.root.create(&d.path, &inode) {
        Ok(()) => {}
        // Whatever the image or an earlier mount already put there stays,
        // as with runc.
        Err(e) if errno(&e) == Errno::EEXIST => return Ok(()),
        // mknod refused (no CAP_MKNOD, or a nodev-enforcing setup): the
        // host's node, bound, serves as well.
        Err(e) if errno(&e) == Errno::EPERM => return bind_host_node(root, d),
        Err(e) => return Err(px("mknod in rootfs", &shown, &e)),
    }
    let h = root.root.resolve_nofollow(&d.path).map_err(|e| px("resolve in rootfs", &shown, &e))?;
    // fchownat with AT_EMPTY_PATH acts on the O_PATH fd itself: no path is
    // walked again between mknod and chown.
    fchownat(
        h.as_fd(),
        "",
        Some(Uid::from_raw(d.uid)),
        Some(Gid::from_raw(d.gid)),
        nix::fcntl::AtFlags::AT_EMPTY_PATH,
    )
    .map_err(|e| Error::sys("chown device node", &shown, e))
}

/// Binds the host's node at the same path over an empty file in the
/// rootfs, for user namespaces where mknod is refused.
fn bind_host_node(root: &RootDir, d: &DeviceNode) -> Result<()> {
    let shown = root.show(&d.path);
    let target = root.ensure_file(&d.path, 0o644)?;
    let st = stat(&target, &shown)?;
    if is_type(&st, SFlag::S_IFDIR) {
        return Err(Error::sys("bind device node", shown, Errno::EISDIR));
    }
    let tree = bind_tree(&d.path, &ParsedOptions::default(), false)?;
    sm::move_mount(tree.as_fd(), target.as_fd()).map_err(|e| Error::sys("move_mount", &shown, e))
}

/// /dev/ptmx becomes a symlink to pts/ptmx, so that ptys come from the
/// container's own devpts instance (mounted with newinstance).
pub(super) fn ptmx(root: &RootDir) -> Result<()> {
    let p = Path::new("/dev/ptmx");
    match root.root.remove_file(p) {
        Ok(()) => {}
        Err(e) if errno(&e) == Errno::ENOENT => {}
        Err(e) => return Err(px("remove in rootfs", &root.show(p), &e)),
    }
    symlink(root, p, Path::new("pts/ptmx"))
}

/// Creates `link -> target` unless `link` already exists.
pub(super) fn symlink(root: &RootDir, link: &Path, target: &Path) -> Result<()> {
    if let Some(parent) = link.parent() {
        root.ensure_dir(parent)?;
    }
    match root.root.create(link, &InodeType::Symlink(PathBuf::from(target))) {
        Ok(()) => Ok(()),
        Err(e) if errno(&e) == Errno::EEXIST => Ok(()),
        Err(e) => Err(px("symlink in rootfs", &root.show(link), &e)),
    }
}
