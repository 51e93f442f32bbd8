//! The parent/init channel: a SOCK_SEQPACKET socketpair carrying the
//! messages below, one per packet, with fds attached where a message says so.
//!
//! | step | direction     | message          | when                                   |
//! |------|---------------|------------------|----------------------------------------|
//! | 1    | parent → init | `MapsWritten`    | after uid/gid maps (user ns only)      |
//! | 2    | init → parent | `RunHooks`       | rootfs mounted, before pivot_root      |
//! | 3    | parent → init | `HooksDone`      | prestart + createRuntime hooks passed  |
//! | 4    | init → parent | `Console` + fd   | pty made (terminal: true only)         |
//! | 5    | init → parent | `SeccompFd` + fd | NOTIFY filter installed                |
//! | 6    | init → parent | `Ready`          | all set up, about to wait on exec.fifo |
//! | any  | init → parent | `Failed`         | a step failed; the init then exits     |
//!
//! The init is untrusted once it has entered the rootfs, so every packet is
//! decoded strictly: unknown tags, short payloads and non-UTF-8 text are
//! errors, never panics.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::cmsg_space;
use nix::errno::Errno;
use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType,
};

use crate::error::{Context, Error, Result};
use crate::sys;

const MAX_PACKET: usize = 8192;

/// One message on the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The parent has written the user namespace's id maps.
    MapsWritten,
    /// The init asks the parent to run prestart and createRuntime hooks.
    RunHooks,
    /// The parent ran them successfully.
    HooksDone,
    /// The pty master follows as an fd.
    Console,
    /// The seccomp notify listener follows as an fd.
    SeccompFd,
    /// Setup finished; the init now waits for start.
    Ready,
    /// Setup failed at this step.
    Failed {
        /// The errno, 0 if none.
        errno: i32,
        /// The init's error line.
        message: String,
    },
}

impl Message {
    /// Encodes to one packet: a tag byte, then the payload.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Message::MapsWritten => vec![1],
            Message::RunHooks => vec![2],
            Message::HooksDone => vec![3],
            Message::Console => vec![4],
            Message::SeccompFd => vec![5],
            Message::Ready => vec![6],
            Message::Failed { errno, message } => {
                let mut v = vec![7];
                v.extend_from_slice(&errno.to_le_bytes());
                let text = message.as_bytes();
                v.extend_from_slice(&text[..text.len().min(MAX_PACKET - 5)]);
                v
            }
        }
    }

    /// Decodes one packet strictly.
    pub fn decode(buf: &[u8]) -> std::result::Result<Message, &'static str> {
        let (&tag, rest) = buf.split_first().ok_or("empty packet")?;
        let simple = |m: Message| if rest.is_empty() { Ok(m) } else { Err("trailing bytes") };
        match tag {
            1 => simple(Message::MapsWritten),
            2 => simple(Message::RunHooks),
            3 => simple(Message::HooksDone),
            4 => simple(Message::Console),
            5 => simple(Message::SeccompFd),
            6 => simple(Message::Ready),
            7 => {
                let errno = rest.get(..4).ok_or("short Failed packet")?;
                let errno = i32::from_le_bytes([errno[0], errno[1], errno[2], errno[3]]);
                let message = std::str::from_utf8(&rest[4..]).map_err(|_| "Failed text is not UTF-8")?;
                Ok(Message::Failed { errno, message: message.to_string() })
            }
            _ => Err("unknown message tag"),
        }
    }
}

/// One end of the channel.
#[derive(Debug)]
pub struct Channel {
    fd: OwnedFd,
}

/// Makes a connected pair (parent end, init end), both close-on-exec.
pub fn pair() -> Result<(Channel, Channel)> {
    let (a, b) = socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC)
        .ctx("socketpair", "AF_UNIX SOCK_SEQPACKET")?;
    Ok((Channel { fd: a }, Channel { fd: b }))
}

impl Channel {
    /// The raw fd, for the init to close its inherited copy.
    pub fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Sends `msg`, with `fd` attached if given.
    pub fn send(&self, msg: &Message, fd: Option<RawFd>) -> Result<()> {
        let data = msg.encode();
        let iov = [IoSlice::new(&data)];
        let fds = fd.map(|f| [f]);
        let cmsgs: Vec<ControlMessage<'_>> = fds.as_ref().map(|f| ControlMessage::ScmRights(f)).into_iter().collect();
        loop {
            match sendmsg::<()>(self.fd.as_raw_fd(), &iov, &cmsgs, MsgFlags::MSG_NOSIGNAL, None) {
                Err(Errno::EINTR) => continue,
                r => return r.map(|_| ()).ctx("sendmsg", "init channel"),
            }
        }
    }

    /// Receives one message and any fd attached to it. `Ok(None)` means the
    /// other end closed (for the parent: the init died).
    pub fn recv(&self) -> Result<Option<(Message, Option<OwnedFd>)>> {
        let mut buf = vec![0u8; MAX_PACKET];
        let mut space = cmsg_space!([RawFd; 1]);
        let (len, fd) = loop {
            let mut iov = [IoSliceMut::new(&mut buf)];
            match recvmsg::<()>(self.fd.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC) {
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(Error::sys("recvmsg", "init channel", e)),
                Ok(r) => {
                    let mut fd = None;
                    for c in r.cmsgs().map_err(|e| Error::sys("recvmsg cmsgs", "init channel", e))? {
                        if let ControlMessageOwned::ScmRights(fds) = c {
                            for f in fds {
                                // Own every fd received, so extras are closed, never leaked.
                                let owned = sys::fd::own(f);
                                fd.get_or_insert(owned);
                            }
                        }
                    }
                    break (r.bytes, fd);
                }
            }
        };
        if len == 0 {
            return Ok(None);
        }
        let msg = Message::decode(&buf[..len]).map_err(|reason| Error::InitFailed {
            message: format!("bad message from init: {reason}"),
            errno: None,
        })?;
        Ok(Some((msg, fd)))
    }

    /// Receives and requires exactly `want`; anything else is a protocol error.
    pub fn expect(&self, want: Message) -> Result<()> {
        match self.recv()? {
            Some((m, _)) if m == want => Ok(()),
            Some((Message::Failed { errno, message }, _)) => {
                Err(Error::InitFailed { message, errno: (errno != 0).then(|| Errno::from_raw(errno)) })
            }
            other => Err(Error::InitFailed {
                message: format!("expected {want:?} on the init channel, got {:?}", other.map(|(m, _)| m)),
                errno: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_every_message() {
        let all = [
            Message::MapsWritten,
            Message::RunHooks,
            Message::HooksDone,
            Message::Console,
            Message::SeccompFd,
            Message::Ready,
            Message::Failed { errno: 2, message: "mount /x: ENOENT".into() },
        ];
        for m in all {
            assert_eq!(Message::decode(&m.encode()).unwrap(), m);
        }
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [&[][..], &[0], &[99], &[1, 0], &[7, 1, 2], &[7, 0, 0, 0, 0, 0xff]] {
            assert!(Message::decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn fds_cross_the_pair() {
        let (a, b) = pair().unwrap();
        let f = std::fs::File::open("/dev/null").unwrap();
        a.send(&Message::Console, Some(f.as_raw_fd())).unwrap();
        let (m, fd) = b.recv().unwrap().unwrap();
        assert_eq!(m, Message::Console);
        assert!(fd.is_some());
        drop(a);
        assert!(b.recv().unwrap().is_none());
    }
}
