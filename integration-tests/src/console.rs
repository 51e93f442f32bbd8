//! Terminals: a `--console-socket` receiver and a pty reader.

use crate::{Container, TempDir};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use std::io::{IoSliceMut, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

/// Receives one fd sent with SCM_RIGHTS on the first connection to a socket.
pub struct ConsoleSocket {
    _dir: TempDir,
    /// The socket's path, for `--console-socket`.
    pub path: String,
    thread: std::thread::JoinHandle<OwnedFd>,
}

impl Default for ConsoleSocket {
    fn default() -> Self {
        ConsoleSocket::new()
    }
}

impl ConsoleSocket {
    /// Binds a new socket in a temp dir and waits for one fd on it.
    pub fn new() -> ConsoleSocket {
        let dir = TempDir::new("console");
        let path = dir.join("console.sock").to_str().unwrap().to_string();
        let listener = UnixListener::bind(&path).unwrap();
        let thread = std::thread::spawn(move || {
            let (conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let mut iov = [IoSliceMut::new(&mut buf)];
            let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
            let msg = recvmsg::<()>(conn.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::empty()).unwrap();
            for cmsg in msg.cmsgs().unwrap() {
                if let ControlMessageOwned::ScmRights(fds) = cmsg {
                    // SAFETY: the kernel just gave us this fd; nobody else owns it.
                    return unsafe { OwnedFd::from_raw_fd(fds[0]) };
                }
            }
            panic!("no SCM_RIGHTS message on the console socket");
        });
        ConsoleSocket { _dir: dir, path, thread }
    }

    /// The fd received (blocks until it is).
    pub fn master(self) -> std::fs::File {
        std::fs::File::from(self.thread.join().unwrap())
    }
}

/// Reads the pty master until `needle` shows up (or EOF/EIO, or the timeout).
pub fn read_until(master: &mut std::fs::File, needle: &str) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    let mut m = master.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        loop {
            match m.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let mut got = String::new();
    let t0 = Instant::now();
    while !got.contains(needle) && t0.elapsed() < Duration::from_secs(30) {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(chunk) => got.push_str(&String::from_utf8_lossy(&chunk)),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(_) => break,
        }
    }
    got
}

/// `create --console-socket`, then `start`; returns the pty master received.
pub fn start_with_console(c: &Container) -> std::fs::File {
    let sock = ConsoleSocket::new();
    c.create_with(&["--console-socket", &sock.path]).ok();
    let master = sock.master();
    c.start().ok();
    master
}
