//! `listenerPath`: the seccomp notify fd goes to the agent listening on a
//! unix stream socket, with the container process state (runtime-spec
//! config-linux.md, "The Container Process State"): one connection, one
//! sendmsg carrying the JSON and the fd (SCM_RIGHTS), then close.
//!
//! This runs in the parent (brig create), which receives the fd from the
//! init: the socket path is on the host, out of the container's reach.

use std::io::IoSlice;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::sys::socket::{connect, sendmsg, socket, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, UnixAddr};
use oci_spec::runtime::LinuxSeccomp;

use crate::error::{Context, Error, Result};

/// The runtime-spec version brig writes into the process state.
const OCI_VERSION: &str = "1.2.1";

/// The process state JSON for the agent. `state` is the container state as
/// hooks get it (status "creating").
pub(crate) fn process_state(pid: i32, metadata: Option<&str>, state: &[u8]) -> Result<Vec<u8>> {
    let state: serde_json::Value =
        serde_json::from_slice(state).map_err(|e| Error::config("state", format!("not JSON: {e}")))?;
    let mut doc = serde_json::json!({
        "ociVersion": OCI_VERSION,
        "fds": [oci_spec::runtime::SECCOMP_FD_NAME],
        "pid": pid,
        "state": state,
    });
    if let (Some(m), Some(obj)) = (metadata, doc.as_object_mut()) {
        obj.insert("metadata".into(), m.into());
    }
    serde_json::to_vec(&doc).map_err(|e| Error::config("state", e.to_string()))
}

/// Connects to `listenerPath` and sends the state and `fd`. Any failure is
/// an error, as the spec requires. Does nothing without a listenerPath.
pub(crate) fn send_to_agent(s: &LinuxSeccomp, pid: i32, state: &[u8], fd: BorrowedFd<'_>) -> Result<()> {
    let Some(path) = s.listener_path().as_deref() else { return Ok(()) };
    let body = process_state(pid, s.listener_metadata().as_deref(), state)?;
    send(path, &body, fd)
}

fn send(path: &Path, body: &[u8], fd: BorrowedFd<'_>) -> Result<()> {
    let sock = socket(AddressFamily::Unix, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)
        .ctx("socket", "AF_UNIX SOCK_STREAM")?;
    let addr = UnixAddr::new(path).ctx("seccomp listenerPath", path)?;
    loop {
        match connect(sock.as_raw_fd(), &addr) {
            Err(Errno::EINTR) => continue,
            r => break r.ctx("connect to seccomp agent", path)?,
        }
    }
    let fds = [fd.as_raw_fd()];
    let mut sent = 0;
    while sent < body.len() {
        let iov = [IoSlice::new(&body[sent..])];
        // The fd goes with the first sendmsg only, as the spec requires.
        let cmsg = [ControlMessage::ScmRights(&fds)];
        let cmsgs: &[ControlMessage<'_>] = if sent == 0 { &cmsg } else { &[] };
        match sendmsg::<()>(sock.as_raw_fd(), &iov, cmsgs, MsgFlags::MSG_NOSIGNAL, None) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(Error::sys("sendmsg to seccomp agent", path, e)),
            Ok(n) => sent += n,
        }
    }
    Ok(())
}
