//! `exec`: a new process in a running container. The parent joins the
//! container's pid namespace for its children, clones the process straight
//! into the container's cgroup, and the child joins the other namespaces
//! through the init's pidfd, applies the process spec and execs.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::sched::{setns, CloneFlags};
use nix::unistd::{setsid, Pid};
use oci_spec::runtime::{LinuxSeccomp, Process};

use super::channel::{self, Channel, Message};
use super::init::{self, Never};
use super::terminal;
use crate::error::{Context, Error, Result};
use crate::procfs::Procfs;
use crate::process::{self, Exec};
use crate::security::caps::CapSets;
use crate::security::lsm::{self, HostLsm, LsmPlan};
use crate::security::seccomp;
use crate::sys::clone::{clone3, Forked};

/// What an exec needs.
pub(crate) struct ExecRequest<'a> {
    pub process: &'a Process,
    pub init_pid: Pid,
    pub init_pidfd: BorrowedFd<'a>,
    pub cgroup: Option<BorrowedFd<'a>>,
    pub seccomp: Option<&'a seccomp::Program>,
    /// `linux.seccomp` (for listenerPath) and the container state JSON: a
    /// NOTIFY listener of the exec'd process goes to the agent, as runc does.
    pub listener: Option<(&'a LinuxSeccomp, &'a [u8])>,
    pub preserve_fds: u32,
}

/// The running exec'd process.
pub(crate) struct Execed {
    pub pid: Pid,
    pub pidfd: OwnedFd,
    pub console: Option<OwnedFd>,
    /// What was skipped (LSM labels), for the caller's debug log.
    pub notes: Vec<String>,
}

const NS_ORDER: [(&str, libc::c_int); 7] = [
    ("user", libc::CLONE_NEWUSER),
    ("ipc", libc::CLONE_NEWIPC),
    ("uts", libc::CLONE_NEWUTS),
    ("net", libc::CLONE_NEWNET),
    ("cgroup", libc::CLONE_NEWCGROUP),
    ("mnt", libc::CLONE_NEWNS),
    ("time", libc::CLONE_NEWTIME),
];

/// The namespaces of `pid` that differ from ours (joining one's own user
/// namespace is an error, so only real differences are joined).
fn differing_namespaces(pid: Pid) -> CloneFlags {
    let mut flags = CloneFlags::empty();
    for (name, flag) in NS_ORDER.iter().chain([("pid", libc::CLONE_NEWPID)].iter()) {
        let theirs = std::fs::metadata(format!("/proc/{pid}/ns/{name}")).map(|m| std::os::unix::fs::MetadataExt::ino(&m));
        let ours = std::fs::metadata(format!("/proc/self/ns/{name}")).map(|m| std::os::unix::fs::MetadataExt::ino(&m));
        if let (Ok(t), Ok(o)) = (theirs, ours) {
            if t != o {
                flags |= CloneFlags::from_bits_retain(*flag);
            }
        }
    }
    flags
}

/// Spawns the exec'd process and returns once it is about to execve.
pub(crate) fn spawn_exec(req: &ExecRequest<'_>) -> Result<Execed> {
    let caps = match req.process.capabilities() {
        Some(c) => CapSets::from_spec(c)?,
        None => CapSets::default(),
    };
    let flags = differing_namespaces(req.init_pid);
    let lsm = lsm::plan(req.process, None, HostLsm::probe);
    let (parent_chan, child_chan) = channel::pair()?;
    // The pid (and time) namespace applies to children only: the parent
    // joins it, and the clone below is born inside.
    let for_children = flags & (CloneFlags::CLONE_NEWPID | CloneFlags::from_bits_retain(libc::CLONE_NEWTIME));
    if !for_children.is_empty() {
        setns(req.init_pidfd, for_children).ctx("setns pidfd (pid, time)", format!("pid {}", req.init_pid))?;
    }
    let child_flags = flags & !CloneFlags::CLONE_NEWPID;
    let forked = clone3(0, req.cgroup).ctx("clone3 CLONE_INTO_CGROUP", "exec")?;
    let (pid, pidfd) = match forked {
        Forked::Child => {
            crate::sys::fd::close_raw(parent_chan.raw());
            init::fail(exec_steps(req, &caps, &lsm, child_flags, &child_chan), &child_chan)
        }
        Forked::Parent { pid, pidfd } => (pid, pidfd),
    };
    drop(child_chan);
    let mut console = None;
    loop {
        match parent_chan.recv()? {
            Some((Message::Console, Some(fd))) => console = Some(fd),
            Some((Message::SeccompFd, Some(fd))) => forward_listener(req, pid, fd.as_fd())?,
            Some((Message::Ready, _)) | None => break,
            Some((Message::Failed { errno, message }, _)) => {
                let _ = nix::sys::wait::waitpid(pid, None);
                return Err(Error::InitFailed { message, errno: (errno != 0).then(|| nix::errno::Errno::from_raw(errno)) });
            }
            Some((other, _)) => {
                return Err(Error::InitFailed { message: format!("unexpected {other:?} from exec"), errno: None })
            }
        }
    }
    Ok(Execed { pid, pidfd, console, notes: lsm.notes })
}

/// Sends the exec'd process's NOTIFY listener to the agent at listenerPath
/// (from the parent: the socket is on the host). If that fails the process
/// is killed, as a failed create is: its notified calls would never be
/// answered.
fn forward_listener(req: &ExecRequest<'_>, pid: Pid, fd: BorrowedFd<'_>) -> Result<()> {
    let Some((s, state)) = req.listener else { return Ok(()) };
    seccomp::send_to_agent(s, pid.as_raw(), state, fd).inspect_err(|_| {
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(pid, None);
    })
}

fn exec_steps(req: &ExecRequest<'_>, caps: &CapSets, lsm: &LsmPlan, flags: CloneFlags, chan: &Channel) -> Result<Never> {
    // Non-dumpable before entering the container (see init.rs): the
    // container's processes must not reach brig through /proc/PID/exe.
    nix::sys::prctl::set_dumpable(false).ctx("prctl PR_SET_DUMPABLE", "exec")?;
    init::keep_only_stdio_and_preserved(req.preserve_fds)?;
    // Before setns: the container's /proc is never used for brig's reads
    // and writes (see procfs.rs).
    let proc = Procfs::per_process()?;
    // One setns through the pidfd joins every namespace at once, so the
    // process can never be half inside (Linux 5.8).
    if !flags.is_empty() {
        setns(req.init_pidfd, flags).ctx("setns pidfd", format!("pid {}", req.init_pid))?;
    }
    setsid().ctx("setsid", "exec")?;
    let p = req.process;
    if p.terminal().unwrap_or(false) {
        terminal::setup_exec(p.console_size(), chan)?;
    }
    if let Some(limits) = p.rlimits() {
        process::set_rlimits(limits)?;
    }
    let env = process::with_home(p.env().clone().unwrap_or_default(), p.user().uid());
    // chdir first: a relative args[0] ("./boot.sh") is relative to cwd, as in runc.
    crate::rootfs::chdir_inside(p.cwd())?;
    let exec = Exec::resolve(p.args().as_deref().unwrap_or(&[]), &env)?;
    lsm::apply(&proc, &lsm.writes)?;
    init::drop_privileges(caps, req.seccomp, p, &proc, chan)?;
    drop(proc);
    if p.no_new_privileges().unwrap_or(false) {
        if let Some(prog) = req.seccomp {
            init::install_seccomp(prog, chan)?;
        }
    }
    chan.send(&Message::Ready, None)?;
    init::exec_process(&exec)
}
