//! The parent side of spawning: prepare everything the init needs, clone3
//! it into its namespaces and cgroup, then serve its requests until Ready.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::sys::wait::waitpid;
use nix::unistd::{mkfifo, Pid};

use super::channel::{self, Channel, Message};
use super::init::{self, InitArgs};
use crate::cgroups::Cgroup;
use crate::error::{Context, Error, Result};
use crate::hooks::{self, Stage};
use crate::namespaces::{self, Plan};
use crate::security::caps::CapSets;
use crate::security::lsm::{self, HostLsm};
use crate::security::seccomp;
use crate::spec::Config;
use crate::state::StateDir;
use crate::sys::clone::{clone3, Forked};

/// What the container needs from its creator.
pub(crate) struct SpawnRequest<'a> {
    pub cfg: &'a Config,
    pub state_dir: &'a StateDir,
    /// The cgroup, and its open directory for CLONE_INTO_CGROUP.
    pub cgroup: Option<(&'a Cgroup, BorrowedFd<'a>)>,
    pub seccomp: Option<&'a seccomp::Program>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: u32,
    /// The state JSON given to prestart and createRuntime hooks.
    pub hook_state: &'a dyn Fn(Pid, crate::state::Status) -> Vec<u8>,
}

/// A spawned init, waiting on exec.fifo.
#[derive(Debug)]
pub(crate) struct Spawned {
    pub pid: Pid,
    pub pidfd: OwnedFd,
    /// The pty master, when `process.terminal` is set.
    pub console: Option<OwnedFd>,
    /// What was skipped (LSM labels on a host without the LSM), for the
    /// caller's debug log.
    pub notes: Vec<String>,
}

/// Spawns the init. On any failure after clone the init is killed and
/// reaped before the error is returned.
pub(crate) fn spawn(req: &SpawnRequest<'_>) -> Result<Spawned> {
    let linux = req.cfg.spec.linux().as_ref();
    let plan = namespaces::plan(linux);
    if !plan.mountns {
        return Err(Error::config("linux.namespaces", "a mount namespace is required"));
    }
    let process = req.cfg.spec.process().as_ref().ok_or_else(|| Error::config("process", "is required"))?;
    let caps = match process.capabilities() {
        Some(c) => CapSets::from_spec(c)?,
        None => CapSets::default(),
    };
    let ns_files = namespaces::open_all(&plan)?;
    let mount_label = linux.and_then(|l| l.mount_label().as_deref());
    let lsm = lsm::plan(process, mount_label, HostLsm::probe);
    let fifo_path = req.state_dir.fifo_path();
    mkfifo(&fifo_path, Mode::from_bits_truncate(0o622)).ctx("mkfifo", &fifo_path)?;
    // The umask trimmed the mode; and in a user namespace the init is the
    // container's root, not ours, so it gets the fifo (as in runc).
    std::fs::set_permissions(&fifo_path, std::os::unix::fs::PermissionsExt::from_mode(0o622)).ctx("chmod", &fifo_path)?;
    let (uid, gid) = namespaces::host_root_ids(linux);
    nix::unistd::chown(&fifo_path, Some(uid), Some(gid)).ctx("chown", &fifo_path)?;
    let fifo = open(&fifo_path, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty()).ctx("open", &fifo_path)?;
    let host_proc = open("/proc", OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty()).ctx("open", "/proc")?;
    let (parent_chan, init_chan) = channel::pair()?;
    // pid and time namespaces apply to children only, so the parent joins
    // (or creates) them right before clone.
    for ns in ns_files.iter().filter(|n| namespaces::joined_by_parent(n.typ)) {
        namespaces::join(ns)?;
    }
    if plan.new_time {
        namespaces::new_time_ns(linux)?;
    }
    let args = InitArgs {
        cfg: req.cfg,
        plan: &plan,
        ns_files: &ns_files,
        caps: &caps,
        seccomp: req.seccomp,
        lsm: &lsm,
        fifo: &fifo,
        host_proc: &host_proc,
        no_pivot: req.no_pivot,
        no_new_keyring: req.no_new_keyring,
        preserve_fds: req.preserve_fds,
        lock_fd: req.state_dir.lock_fd().as_raw_fd(),
        parent_end: parent_chan.raw(),
        hook_state: req.hook_state,
    };
    let (pid, pidfd) = match clone_init(plan.clone_flags, req.cgroup)? {
        Forked::Child => init::run(args, init_chan),
        Forked::Parent { pid, pidfd } => (pid, pidfd),
    };
    drop(init_chan);
    match serve(req, &plan, &parent_chan, pid) {
        Ok(console) => Ok(Spawned { pid, pidfd, console, notes: lsm.notes }),
        Err(e) => {
            let _ = crate::sys::clone::pidfd_send_signal(pidfd.as_fd(), nix::sys::signal::Signal::SIGKILL);
            let _ = waitpid(pid, None);
            Err(e)
        }
    }
}

/// clone3 straight into the cgroup; where the kernel refuses
/// CLONE_INTO_CGROUP, clone plainly and move the child with cgroup.procs
/// (the child waits for MapsWritten/HooksDone before doing anything that the
/// cgroup limits would have to cover).
fn clone_init(flags: u64, cgroup: Option<(&Cgroup, BorrowedFd<'_>)>) -> Result<Forked> {
    match clone3(flags, cgroup.map(|(_, fd)| fd)) {
        Ok(f) => Ok(f),
        Err(e @ (nix::errno::Errno::EINVAL | nix::errno::Errno::E2BIG | nix::errno::Errno::EOPNOTSUPP)) if cgroup.is_some() => {
            match clone3(flags, None).ctx("clone3", "init")? {
                Forked::Child => Ok(Forked::Child),
                Forked::Parent { pid, pidfd } => {
                    if let Some((cg, _)) = cgroup {
                        cg.add_pid(pid).map_err(|_| Error::sys("clone3 CLONE_INTO_CGROUP", cg.dir(), e))?;
                    }
                    Ok(Forked::Parent { pid, pidfd })
                }
            }
        }
        Err(e) => Err(Error::sys("clone3", "init", e)),
    }
}

/// Serves the init until it reports Ready; returns the pty master if any.
fn serve(req: &SpawnRequest<'_>, plan: &Plan, chan: &Channel, pid: Pid) -> Result<Option<OwnedFd>> {
    if plan.clone_flags & libc::CLONE_NEWUSER as u64 != 0 {
        namespaces::write_id_maps(pid, req.cfg.spec.linux().as_ref())?;
        chan.send(&Message::MapsWritten, None)?;
    }
    let mut console = None;
    loop {
        match chan.recv()? {
            Some((Message::RunHooks, _)) => {
                let state = (req.hook_state)(pid, crate::state::Status::Creating);
                let h = req.cfg.spec.hooks().as_ref();
                hooks::run(h, Stage::Prestart, &state)?;
                hooks::run(h, Stage::CreateRuntime, &state)?;
                chan.send(&Message::HooksDone, None)?;
            }
            Some((Message::Console, Some(fd))) => console = Some(fd),
            Some((Message::SeccompFd, Some(fd))) => {
                // The agent socket is on the host: the parent sends, not the init.
                if let Some(s) = req.cfg.spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
                    seccomp::send_to_agent(s, pid.as_raw(), &(req.hook_state)(pid, crate::state::Status::Creating), fd.as_fd())?;
                }
            }
            Some((Message::Ready, _)) => return Ok(console),
            Some((Message::Failed { errno, message }, _)) => {
                return Err(Error::InitFailed { message, errno: (errno != 0).then(|| nix::errno::Errno::from_raw(errno)) })
            }
            Some((other, _)) => {
                return Err(Error::InitFailed { message: format!("unexpected {other:?} from init"), errno: None })
            }
            None => return Err(Error::InitFailed { message: "init exited during setup".into(), errno: None }),
        }
    }
}
