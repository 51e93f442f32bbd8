//! `--console-socket`: hand the pty master to the engine over a unix socket.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};

use crate::error::{Context, Result};

/// Connects to `path` and sends `master` with SCM_RIGHTS, as runc does
/// (the payload is the pty's name, which engines ignore).
pub(crate) fn send_console(path: &Path, master: BorrowedFd<'_>) -> Result<()> {
    let sock = UnixStream::connect(path).ctx("connect console socket", path)?;
    let fds = [master.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let name = b"/dev/ptmx";
    sendmsg::<()>(sock.as_raw_fd(), &[IoSlice::new(name)], &cmsg, MsgFlags::empty(), None)
        .ctx("sendmsg console socket", path)?;
    Ok(())
}
