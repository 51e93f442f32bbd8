//! The container lifecycle: create, start, kill, delete, state. This file
//! orchestrates; the kernel work lives in `spawn`, `rootfs`, `cgroups`.

mod cgroup_ops;
mod create;
mod exec;

pub use create::CreateOptions;
pub use exec::{ExecOptions, ExecProcess};

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::{open, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;
use nix::unistd::{read, Pid};

use crate::cgroups::Cgroup;
use crate::error::{Context, Error, Result};
use crate::hooks::{self, Stage};
use crate::state::{derive_status, ContainerId, State, StateDir, Status};
use crate::sys::clone::{pidfd_open, pidfd_send_signal};

/// A container known to the state root.
#[derive(Debug)]
pub struct Container {
    root: PathBuf,
    state: State,
    /// A pidfd for the init, when this process spawned it (create/run).
    pidfd: Option<OwnedFd>,
    /// The pty master, when this process keeps it (run with a terminal).
    console: Option<OwnedFd>,
    /// What create skipped, e.g. an LSM label on a host without the LSM.
    notes: Vec<String>,
}

impl Container {
    /// What `create` skipped and why (LSM labels on a host that does not
    /// run the LSM, as runc skips them), for a debug log. Empty after load.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Loads the container `id` from the state root `root`.
    pub fn load(root: &Path, id: &str) -> Result<Container> {
        let id = ContainerId::parse(id)?;
        let dir = StateDir::open(root, &id)?;
        let state = dir.read_state()?.ok_or_else(|| Error::BadStatus {
            op: "load",
            id: id.to_string(),
            status: "creating (or its create crashed: use delete --force)".into(),
        })?;
        Ok(Container { root: root.to_path_buf(), state, pidfd: None, console: None, notes: Vec::new() })
    }

    /// The persisted state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The init's pid on the host.
    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.state.pid)
    }

    /// The pidfd of the init, if this process spawned it.
    pub fn pidfd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        self.pidfd.as_ref().map(|f| f.as_fd())
    }

    /// Takes the pty master kept by `create` (run with a terminal and no
    /// console socket).
    pub fn take_console(&mut self) -> Option<OwnedFd> {
        self.console.take()
    }

    fn cgroup(&self) -> Option<Cgroup> {
        self.state.cgroup_path.as_ref().map(Cgroup::new)
    }

    fn dir_path(&self) -> PathBuf {
        self.root.join(&self.state.id)
    }

    /// The status, derived from facts: is the init alive with the recorded
    /// start time, does exec.fifo exist, is the cgroup frozen.
    pub fn status(&self) -> Status {
        let frozen = self.cgroup().is_some_and(|c| c.is_frozen());
        derive_status(self.state.pid, self.state.init_start_time, &self.dir_path(), frozen)
    }

    /// The state JSON as hooks and `brig state` see it.
    pub fn state_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.state.report(self.status())).unwrap_or_default()
    }

    /// Lets the init exec the user's process. Fails, instead of hanging, if
    /// the init died. Poststart hooks run after; their failures are returned
    /// as warnings.
    pub fn start(&mut self) -> Result<Vec<Error>> {
        let id = ContainerId::parse(&self.state.id)?;
        let dir = StateDir::open(&self.root, &id)?;
        let status = self.status();
        if status != Status::Created {
            return Err(Error::BadStatus { op: "start", id: id.to_string(), status: status.to_string() });
        }
        // The pidfd before the fifo: opening the fifo lets the init exec, and
        // a program that exits at once may be reaped by the init's parent
        // (containerd's shim is a subreaper) before a later pidfd_open.
        let pidfd = match self.pidfd.take() {
            Some(fd) => fd,
            None => pidfd_open(self.pid()).ctx("pidfd_open", format!("pid {}", self.pid()))?,
        };
        let fifo_path = dir.fifo_path();
        let fifo = open(&fifo_path, OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC, Mode::empty())
            .ctx("open", &fifo_path)?;
        let result = wait_fifo(&fifo, &pidfd, &fifo_path);
        self.pidfd = Some(pidfd);
        result?;
        std::fs::remove_file(&fifo_path).ctx("unlink", &fifo_path)?;
        drop(dir);
        Ok(hooks::run_warn(self.state.hooks.as_ref(), Stage::Poststart, &self.state_json()))
    }

    /// Waits for the init to exit and returns its status as a shell would
    /// (the exit code, or 128+N for signal N). Only the process that
    /// created the container (its parent) can wait for it.
    pub fn wait(&self) -> Result<i32> {
        crate::foreground::reap(self.pid())
    }

    /// Sends `signal` to the init, or with `all` to every process of the
    /// container (through its cgroup).
    pub fn kill(&self, signal: i32, all: bool) -> Result<()> {
        let status = self.status();
        if matches!(status, Status::Stopped | Status::Creating) {
            return Err(Error::BadStatus { op: "kill", id: self.state.id.clone(), status: status.to_string() });
        }
        let sig = Signal::try_from(signal).ctx("kill", format!("signal {signal}"))?;
        if all {
            if let Some(cg) = self.cgroup() {
                return signal_cgroup(&cg, sig);
            }
        }
        let pidfd = match &self.pidfd {
            Some(fd) => fd.try_clone().ctx("dup", "pidfd")?,
            None => pidfd_open(self.pid()).ctx("pidfd_open", format!("pid {}", self.pid()))?,
        };
        pidfd_send_signal(pidfd.as_fd(), sig).ctx("pidfd_send_signal", format!("pid {} {sig}", self.pid()))
    }

    /// Deletes the container: with `force` a live one is killed first;
    /// without it only a created or stopped one may go. Poststop hook
    /// failures are returned as warnings.
    pub fn delete(self, force: bool) -> Result<Vec<Error>> {
        let id = ContainerId::parse(&self.state.id)?;
        let dir = StateDir::open(&self.root, &id)?;
        let status = self.status();
        if matches!(status, Status::Running | Status::Paused) && !force {
            return Err(Error::BadStatus { op: "delete", id: id.to_string(), status: format!("{status} (use --force)") });
        }
        if status != Status::Stopped {
            self.kill_and_wait()?;
        }
        // A create that died after clone can leave an orphaned init (or its
        // children) in the cgroup even though no live pid is recorded.
        if let Some(cg) = self.cgroup().filter(|c| c.populated()) {
            cg.kill_all()?;
        }
        let warnings = hooks::run_warn(self.state.hooks.as_ref(), Stage::Poststop, &self.state_json());
        if let Some(cg) = self.cgroup() {
            cg.remove()?;
        }
        dir.remove()?;
        Ok(warnings)
    }

    fn kill_and_wait(&self) -> Result<()> {
        if self.state.pid == 0 {
            return Ok(());
        }
        match self.cgroup() {
            Some(cg) => cg.kill_all()?,
            None => {
                if let Ok(fd) = pidfd_open(self.pid()) {
                    let _ = pidfd_send_signal(fd.as_fd(), Signal::SIGKILL);
                }
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.status() != Status::Stopped {
            if Instant::now() > deadline {
                return Err(Error::sys("wait for init to die", format!("pid {}", self.pid()), nix::errno::Errno::ETIMEDOUT));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }
}

/// Signals every process in the cgroup; SIGKILL goes through cgroup.kill.
fn signal_cgroup(cg: &Cgroup, sig: Signal) -> Result<()> {
    if sig == Signal::SIGKILL {
        return cg.kill_all();
    }
    for pid in cg.pids()? {
        match nix::sys::signal::kill(pid, sig) {
            Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
            Err(e) => return Err(Error::sys("kill", format!("pid {pid}"), e)),
        }
    }
    Ok(())
}

/// Waits until the init has written to exec.fifo, or has died.
fn wait_fifo(fifo: &OwnedFd, pidfd: &OwnedFd, path: &Path) -> Result<()> {
    loop {
        let mut fds = [PollFd::new(fifo.as_fd(), PollFlags::POLLIN), PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(Error::sys("poll", path, e)),
            Ok(_) => {}
        }
        let fifo_ready = fds[0].revents().is_some_and(|r| !r.is_empty());
        let init_dead = fds[1].revents().is_some_and(|r| !r.is_empty());
        if fifo_ready {
            let mut b = [0u8; 1];
            match read(fifo, &mut b) {
                Ok(1) => return Ok(()),
                Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => {}
                Ok(_) => break,
                Err(e) => return Err(Error::sys("read", path, e)),
            }
        }
        if init_dead {
            break;
        }
    }
    Err(Error::InitFailed {
        message: format!(
            "the init failed before exec (startContainer hook or process setup; see the container's stderr) ({})",
            path.display()
        ),
        errno: None,
    })
}
