//! The container's root filesystem: mounts, devices, pivot_root, masked and
//! read-only paths. Every path inside the rootfs is resolved inside it.

use std::os::fd::BorrowedFd;

use crate::error::Result;
use crate::spec::Config;

/// Runs in the init, in its new mount namespace, before hooks and pivot:
/// root propagation, the rootfs bind mount, `mounts` in order, /dev.
pub(crate) fn prepare(_cfg: &Config) -> Result<()> {
    Ok(())
}

/// Makes the rootfs the init's `/`: pivot_root, or MS_MOVE + chroot with
/// `no_pivot`.
pub(crate) fn enter(cfg: &Config, _no_pivot: bool) -> Result<()> {
    nix::unistd::chroot(&cfg.rootfs).map_err(|e| crate::Error::sys("chroot", &cfg.rootfs, e))?;
    nix::unistd::chdir("/").map_err(|e| crate::Error::sys("chdir", "/", e))
}

/// Bind-mounts the pty slave onto /dev/console (after `enter`).
pub(crate) fn mount_console(_slave: BorrowedFd<'_>) -> Result<()> {
    Ok(())
}

/// After `enter`: masked paths, read-only paths, read-only root,
/// rootfsPropagation.
pub(crate) fn finalize(_cfg: &Config) -> Result<()> {
    Ok(())
}

/// The mount options brig understands (for `features`).
pub(crate) const MOUNT_OPTIONS: &[&str] = &[];
