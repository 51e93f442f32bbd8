//! `run` in the foreground: brig stays the init's parent, forwards every
//! catchable signal it receives to the container's PID 1, relays the pty
//! when there is one, and returns the container's exit status.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg, Termios};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{isatty, read, write, Pid};

use crate::error::{Context, Error, Result};
use crate::sys;
use crate::sys::clone::pidfd_send_signal;

/// Signals blocked and read through a signalfd while the container runs.
///
/// Create it **before** the init is cloned: SIGCHLD from an init that exits
/// at once is then queued, never lost, and `run` cannot hang.
#[derive(Debug)]
pub struct Foreground {
    sigfd: SignalFd,
    old_mask: SigSet,
}

impl Foreground {
    /// Blocks every signal brig can catch.
    pub fn block() -> Result<Foreground> {
        let mut all = SigSet::all();
        all.remove(Signal::SIGKILL);
        all.remove(Signal::SIGSTOP);
        let mut old_mask = SigSet::empty();
        sigprocmask(SigmaskHow::SIG_BLOCK, Some(&all), Some(&mut old_mask)).ctx("sigprocmask", "run")?;
        let sigfd = SignalFd::with_flags(&all, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK).ctx("signalfd", "run")?;
        Ok(Foreground { sigfd, old_mask })
    }

    /// Forwards signals (and relays `console`, the pty master, if given)
    /// until the init `pid` exits; returns its status as a shell would:
    /// the exit code, or 128+N when signal N killed it.
    pub fn wait(&mut self, pid: Pid, pidfd: BorrowedFd<'_>, console: Option<OwnedFd>) -> Result<i32> {
        let _raw = match &console {
            Some(_) => RawTerminal::enter(),
            None => None,
        };
        if let Some(m) = &console {
            copy_winsize(m.as_fd());
        }
        let mut stdin_open = console.is_some();
        let mut master_open = console.is_some();
        loop {
            let master = console.as_ref().filter(|_| master_open).map(|m| m.as_fd());
            let stdin = master.filter(|_| stdin_open).map(|_| sys::fd::stdio(0));
            let mut fds = vec![PollFd::new(self.sigfd.as_fd(), PollFlags::POLLIN), PollFd::new(pidfd, PollFlags::POLLIN)];
            fds.extend(master.iter().chain(stdin.iter()).map(|fd| PollFd::new(*fd, PollFlags::POLLIN)));
            match poll(&mut fds, PollTimeout::NONE) {
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(Error::sys("poll", "run", e)),
                Ok(_) => {}
            }
            let ready: Vec<bool> = fds.iter().map(|f| f.revents().is_some_and(|r| !r.is_empty())).collect();
            drop(fds);
            if ready[0] {
                self.forward_signals(pidfd, console.as_ref())?;
            }
            if let Some(m) = master {
                // EOF on the master means every slave fd closed; the exit
                // itself comes through the pidfd.
                if ready[2] {
                    master_open = relay(m, sys::fd::stdio(1));
                }
                if stdin.is_some() && ready.get(3).copied().unwrap_or(false) {
                    stdin_open = relay(sys::fd::stdio(0), m);
                }
            }
            if ready[1] {
                if let (Some(m), true) = (&console, master_open) {
                    while relay(m.as_fd(), sys::fd::stdio(1)) {}
                }
                return reap(pid);
            }
        }
    }

    fn forward_signals(&mut self, pidfd: BorrowedFd<'_>, console: Option<&OwnedFd>) -> Result<()> {
        while let Ok(Some(info)) = self.sigfd.read_signal() {
            let Ok(sig) = Signal::try_from(info.ssi_signo as i32) else { continue };
            match sig {
                // The pidfd tells us when the init exits.
                Signal::SIGCHLD => {}
                Signal::SIGWINCH if console.is_some() => {
                    if let Some(m) = console {
                        copy_winsize(m.as_fd());
                    }
                }
                _ => match pidfd_send_signal(pidfd, sig) {
                    Ok(()) | Err(Errno::ESRCH) => {}
                    Err(e) => return Err(Error::sys("pidfd_send_signal", format!("{sig}"), e)),
                },
            }
        }
        Ok(())
    }
}

impl Drop for Foreground {
    fn drop(&mut self) {
        let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&self.old_mask), None);
    }
}

/// Copies one chunk from `from` to `to`; false on EOF or error (EIO is how
/// a pty master reports that the slave side is closed).
fn relay(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> bool {
    let mut buf = [0u8; 8192];
    let n = match read(from, &mut buf) {
        Ok(0) | Err(_) => return false,
        Ok(n) => n,
    };
    let mut off = 0;
    while off < n {
        match write(to, &buf[off..n]) {
            Ok(w) => off += w,
            Err(Errno::EINTR | Errno::EAGAIN) => {}
            Err(_) => return false,
        }
    }
    true
}

fn copy_winsize(master: BorrowedFd<'_>) {
    if let Ok((rows, cols)) = sys::fd::get_winsize(sys::fd::stdio(0)) {
        let _ = sys::fd::set_winsize(master, rows, cols);
    }
}

/// Reaps `pid` (a child of this process) and returns its shell-style status.
pub(crate) fn reap(pid: Pid) -> Result<i32> {
    loop {
        match waitpid(pid, None) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(Error::sys("waitpid", format!("pid {pid}"), e)),
            Ok(WaitStatus::Exited(_, code)) => return Ok(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(128 + sig as i32),
            Ok(_) => continue,
        }
    }
}

/// brig's own terminal in raw mode while a container's pty is relayed,
/// restored on drop.
struct RawTerminal {
    saved: Termios,
}

impl RawTerminal {
    fn enter() -> Option<RawTerminal> {
        let stdin = sys::fd::stdio(0);
        if !isatty(stdin).unwrap_or(false) {
            return None;
        }
        let saved = tcgetattr(stdin).ok()?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(stdin, SetArg::TCSANOW, &raw).ok()?;
        Some(RawTerminal { saved })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = tcsetattr(sys::fd::stdio(0), SetArg::TCSANOW, &self.saved);
    }
}
