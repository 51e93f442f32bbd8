//! `exec`: a new process inside a running container.

use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use nix::unistd::Pid;
use oci_spec::runtime::Process;

use super::Container;
use crate::error::{Context, Error, Result};
use crate::security::seccomp;
use crate::spawn::{spawn_exec, ExecRequest};
use crate::state::Status;
use crate::sys::clone::pidfd_open;

/// Options of `exec`, as runc's flags give them.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// The process to run (from `--process` or built from flags).
    pub process: Process,
    /// Where to write the new process's pid (`--pid-file`).
    pub pid_file: Option<PathBuf>,
    /// Console socket for the pty master (`--console-socket`).
    pub console_socket: Option<PathBuf>,
    /// Fds after stdio passed to the process (`--preserve-fds`).
    pub preserve_fds: u32,
    /// Allow exec into a paused container (`--ignore-paused`).
    pub ignore_paused: bool,
    /// A sub-cgroup of the container's cgroup to run in (`--cgroup`).
    pub sub_cgroup: Option<PathBuf>,
}

impl ExecOptions {
    /// Options running `process` with runc's defaults.
    pub fn new(process: Process) -> ExecOptions {
        ExecOptions {
            process,
            pid_file: None,
            console_socket: None,
            preserve_fds: 0,
            ignore_paused: false,
            sub_cgroup: None,
        }
    }
}

/// A process started by `exec`.
#[derive(Debug)]
pub struct ExecProcess {
    /// Its pid on the host.
    pub pid: Pid,
    /// A pidfd for it.
    pub pidfd: OwnedFd,
    /// The pty master, if it has a terminal and no console socket took it.
    pub console: Option<OwnedFd>,
    /// What was skipped (LSM labels on a host without the LSM), for a
    /// debug log.
    pub notes: Vec<String>,
}

impl Container {
    /// Starts `opts.process` in the container's namespaces and cgroup with
    /// the container's seccomp profile; returns once it is about to execve.
    pub fn exec(&self, opts: &ExecOptions) -> Result<ExecProcess> {
        let status = self.status();
        let allowed = match status {
            Status::Created | Status::Running => true,
            Status::Paused => opts.ignore_paused,
            _ => false,
        };
        if !allowed {
            return Err(Error::BadStatus { op: "exec in", id: self.state.id.clone(), status: status.to_string() });
        }
        let init_pidfd = pidfd_open(self.pid()).ctx("pidfd_open", format!("pid {}", self.pid()))?;
        // The pid may have been recycled between the status check and
        // pidfd_open: check again now that the pidfd pins the process.
        if self.status() == Status::Stopped {
            return Err(Error::BadStatus { op: "exec in", id: self.state.id.clone(), status: "stopped".into() });
        }
        let cgroup_dir = self.state.cgroup_path.as_ref().map(|d| match &opts.sub_cgroup {
            Some(sub) => d.join(sub.strip_prefix("/").unwrap_or(sub)),
            None => d.clone(),
        });
        let cgroup_fd = match &cgroup_dir {
            Some(d) => Some(OwnedFd::from(std::fs::File::open(d).ctx("open cgroup", d)?)),
            None => None,
        };
        let config = self.state.config()?;
        let program = match config.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
            Some(s) => Some(seccomp::compile(s)?),
            None => None,
        };
        // The state for a seccomp agent, only when there is one to tell.
        let listener = config
            .linux()
            .as_ref()
            .and_then(|l| l.seccomp().as_ref())
            .filter(|s| s.listener_path().is_some())
            .map(|s| (s, self.state_json()));
        let req = ExecRequest {
            listener: listener.as_ref().map(|(s, state)| (*s, state.as_slice())),
            process: &opts.process,
            init_pid: self.pid(),
            init_pidfd: init_pidfd.as_fd(),
            cgroup: cgroup_fd.as_ref().map(|f| f.as_fd()),
            seccomp: program.as_ref(),
            preserve_fds: opts.preserve_fds,
        };
        let execed = spawn_exec(&req)?;
        if let Some(p) = &opts.pid_file {
            super::create::write_pid_file(p, execed.pid)?;
        }
        let mut console = execed.console;
        if let (Some(sock), Some(master)) = (&opts.console_socket, &console) {
            crate::spawn::send_console(sock, master.as_fd())?;
            console = None;
        }
        Ok(ExecProcess { pid: execed.pid, pidfd: execed.pidfd, console, notes: execed.notes })
    }
}
