//! The container's terminal, made in the init after pivot_root so that the
//! pty belongs to the container's own devpts instance.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::fcntl::OFlag;
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
use oci_spec::runtime::Box as ConsoleSize;

use super::channel::{Channel, Message};
use crate::error::{Context, Result};
use crate::{rootfs, sys};

/// Opens a pty in the container's /dev/ptmx, bind-mounts its slave on
/// /dev/console, sends the master to the parent, and makes the slave the
/// init's stdio and controlling terminal.
pub(super) fn setup(size: Option<ConsoleSize>, chan: &Channel) -> Result<()> {
    let (master, slave, name) = open_pty(size)?;
    rootfs::mount_console(slave.as_fd())?;
    chan.send(&Message::Console, Some(master.as_raw_fd()))?;
    drop(master);
    become_tty(&slave, &name)
}

fn open_pty(size: Option<ConsoleSize>) -> Result<(OwnedFd, OwnedFd, String)> {
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC).ctx("open", "/dev/ptmx")?;
    grantpt(&master).ctx("grantpt", "/dev/ptmx")?;
    unlockpt(&master).ctx("unlockpt", "/dev/ptmx")?;
    // The name is for messages only: the slave is opened through the
    // master, never by path (CVE-2025-52565: /dev/pts/N may be an image's
    // symlink when /dev/pts is not the container's devpts).
    let name = ptsname_r(&master).ctx("ptsname", "/dev/ptmx")?;
    let slave = sys::fd::pty_peer(master.as_fd()).ctx("ioctl TIOCGPTPEER", &name)?;
    if let Some(sz) = size {
        sys::fd::set_winsize(slave.as_fd(), sz.height() as u16, sz.width() as u16).ctx("ioctl TIOCSWINSZ", &name)?;
    }
    Ok((master.into(), slave, name))
}

/// Makes the slave this process's stdio and controlling terminal.
fn become_tty(slave: &OwnedFd, name: &str) -> Result<()> {
    for stdio in 0..=2 {
        sys::fd::dup_onto(slave.as_fd(), stdio).ctx("dup2", name)?;
    }
    sys::fd::set_controlling_tty(slave.as_fd()).ctx("ioctl TIOCSCTTY", name)
}

/// The terminal of an exec'd process: a new pty in the container's devpts,
/// master to the parent, slave as stdio. /dev/console stays the init's.
pub(super) fn setup_exec(size: Option<ConsoleSize>, chan: &Channel) -> Result<()> {
    let (master, slave, name) = open_pty(size)?;
    chan.send(&Message::Console, Some(master.as_raw_fd()))?;
    drop(master);
    become_tty(&slave, &name)
}
