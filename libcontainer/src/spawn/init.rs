//! The container's init, as a flat list of named steps. It runs in the
//! cloned child, never returns, and ends in execve of the user's program,
//! which thereby becomes PID 1 of the container with no brig process left.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::fcntl::{openat, OFlag};
use nix::sys::prctl;
use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow};
use nix::sys::stat::Mode;
use nix::unistd::{execve, setsid, sethostname};

use super::channel::{Channel, Message};
use super::terminal;
use crate::error::{Context, Error, Result};
use crate::hooks::{self, Stage};
use crate::namespaces::{self, NsFile, Plan};
use crate::procfs::{self, Base, Procfs};
use crate::process::{self, Exec};
use crate::security::caps::CapSets;
use crate::security::lsm::{self, LsmPlan};
use crate::security::seccomp;
use crate::spec::Config;
use crate::state::Status;
use crate::{rootfs, sys};

/// Everything the init needs, prepared by the parent before clone.
pub(super) struct InitArgs<'a> {
    pub cfg: &'a Config,
    pub plan: &'a Plan,
    pub ns_files: &'a [NsFile],
    pub caps: &'a CapSets,
    pub seccomp: Option<&'a seccomp::Program>,
    /// The LSM labels, as planned for this host by the parent.
    pub lsm: &'a LsmPlan,
    /// The exec fifo, opened O_PATH by the parent.
    pub fifo: &'a OwnedFd,
    /// The host's /proc, to reopen the fifo after pivot_root.
    pub host_proc: &'a OwnedFd,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: u32,
    /// The raw fd of the state dir's flock, to be closed (not unlocked).
    pub lock_fd: i32,
    /// The parent's end of the channel, to be closed.
    pub parent_end: i32,
    /// The state JSON for hooks, given the init's host pid.
    pub hook_state: &'a dyn Fn(nix::unistd::Pid, Status) -> Vec<u8>,
}

/// Runs the init. On failure it tells the parent why and exits 1.
pub(super) fn run(args: InitArgs<'_>, chan: Channel) -> ! {
    fail(steps(&args, &chan), &chan)
}

/// Reports the error of a failed step list to the parent and exits.
pub(super) fn fail(result: Result<Never>, chan: &Channel) -> ! {
    let err = match result {
        Ok(never) => match never {},
        Err(e) => e,
    };
    let failed = Message::Failed { errno: err.errno().map_or(0, |e| e as i32), message: err.to_string() };
    if chan.send(&failed, None).is_err() {
        // After Ready the parent is gone (start has happened): the
        // container's stderr is the only place left to say why.
        let _ = writeln!(std::io::stderr(), "brig: unable to start container process: {err}");
    }
    sys::fd::exit_now(127)
}

/// The type of a step list that only ends in execve.
pub(super) enum Never {}

fn steps(a: &InitArgs<'_>, chan: &Channel) -> Result<Never> {
    let spec = &a.cfg.spec;
    let process = spec.process().as_ref().ok_or_else(|| Error::config("process", "is required"))?;
    enter_namespaces(a, chan)?;
    // Before any mount: "/proc" is still the host's here, should the
    // kernel refuse a new instance and pathrs fall back to cloning it. The
    // container's own /proc is never used for brig's writes. The per-process
    // instance is the one pathrs caches and resolves the rootfs with anyway;
    // a second one with the global files is made only for sysctls.
    let proc = Procfs::per_process()?;
    let sysctl_proc = match sysctls(a.cfg) {
        Some(_) => Some(Procfs::with_globals()?),
        None => None,
    };
    rootfs::prepare(a.cfg, a.lsm.mount_label.as_deref())?;
    // prestart and createRuntime hooks run in the runtime's namespaces, by
    // the parent, after the mounts and before pivot_root.
    chan.send(&Message::RunHooks, None)?;
    chan.expect(Message::HooksDone)?;
    // createContainer hooks run here, in the container's namespaces, before
    // pivot_root: their binaries still resolve on the host.
    let pid = host_pid(a)?;
    let state = (a.hook_state)(pid, Status::Creating);
    hooks::run(spec.hooks().as_ref(), Stage::CreateContainer, &state)?;
    rootfs::enter(a.cfg, a.no_pivot)?;
    if a.cfg.terminal() {
        terminal::setup(process.console_size(), chan)?;
    }
    set_identity(a.cfg)?;
    // sysctls go through brig's own procfs, which the container's
    // readonlyPaths and mounts over /proc do not reach.
    if let Some(p) = sysctl_proc {
        write_sysctls(a.cfg, &p)?;
    }
    rootfs::finalize(a.cfg)?;
    set_limits(process, &proc)?;
    let env = process::with_home(process.env().clone().unwrap_or_default(), process.user().uid());
    // chdir first: a relative args[0] ("./boot.sh") is relative to cwd, as in runc.
    rootfs::chdir_inside(process.cwd())?;
    let exec = Exec::resolve(process.args().as_deref().unwrap_or(&[]), &env)?;
    // While still root, before seccomp: the labels apply at execve.
    lsm::apply(&proc, &a.lsm.writes)?;
    drop_privileges(a.caps, a.seccomp, process, &proc, chan)?;
    drop(proc);
    let nnp = process.no_new_privileges().unwrap_or(false);
    // With no_new_privs the filter goes last, so a strict profile does not
    // have to allow brig's own syscalls - unless it has a NOTIFY rule: the
    // listener fd must reach the parent, which is gone after Ready.
    let late = a.seccomp.filter(|p| nnp && !p.needs_listener());
    if nnp && late.is_none() {
        if let Some(p) = a.seccomp {
            install_seccomp(p, chan)?;
        }
    }
    chan.send(&Message::Ready, None)?;
    let fifo = wait_for_start(a)?;
    // startContainer hooks run once start has been asked for, before the
    // fifo byte: if one fails, start reads EOF and reports the failure.
    hooks::run(spec.hooks().as_ref(), Stage::StartContainer, &(a.hook_state)(pid, Status::Created))?;
    signal_started(fifo)?;
    if let Some(p) = late {
        seccomp::install(p)?;
    }
    exec_process(&exec)
}

/// Closes what the init must not keep, then becomes a member of every
/// namespace it lives in: id maps, joined namespaces, its own session,
/// keyring and loopback.
fn enter_namespaces(a: &InitArgs<'_>, chan: &Channel) -> Result<()> {
    // Close the lock first: the flock lives on the open file, and a copy
    // kept here would hold the container's lock until start.
    sys::fd::close_raw(a.lock_fd);
    sys::fd::close_raw(a.parent_end);
    // Until execve this process runs brig's own binary: non-dumpable, no
    // process in the container (without CAP_SYS_PTRACE over the host) can
    // open /proc/1/exe and overwrite brig (CVE-2019-5736). execve of the
    // user's program makes it dumpable again. No copy of the binary needed.
    prctl::set_dumpable(false).ctx("prctl PR_SET_DUMPABLE", "init")?;
    keep_only_stdio_and_preserved(a.preserve_fds)?;
    if a.plan.clone_flags & libc::CLONE_NEWUSER as u64 != 0 {
        // Until the parent has written our id maps we are nobody.
        chan.expect(Message::MapsWritten)?;
        // Become the namespace's root: with a map that does not cover our
        // host uid we would otherwise be the overflow uid and every mount
        // would fail with EOVERFLOW.
        nix::unistd::setresgid(0.into(), 0.into(), 0.into()).ctx("setresgid", "user namespace root")?;
        nix::unistd::setresuid(0.into(), 0.into(), 0.into()).ctx("setresuid", "user namespace root")?;
    }
    for ns in a.ns_files.iter().filter(|n| !namespaces::joined_by_parent(n.typ)) {
        namespaces::join(ns)?;
    }
    // A new session: the container's process must not share brig's, and a
    // controlling terminal can only be acquired by a session leader.
    setsid().ctx("setsid", "init")?;
    if !a.no_new_keyring {
        match sys::keyring::join_new_session_keyring() {
            Ok(()) | Err(nix::errno::Errno::ENOSYS) => {}
            Err(e) => return Err(Error::sys("keyctl JOIN_SESSION_KEYRING", "session keyring", e)),
        }
    }
    if a.plan.clone_flags & libc::CLONE_NEWNET as u64 != 0 {
        sys::net::loopback_up().ctx("ioctl SIOCSIFFLAGS IFF_UP", "lo")?;
    }
    Ok(())
}

/// rlimits and oom_score_adj, while still root (raising a hard limit or
/// lowering the score needs privileges the user may not have).
fn set_limits(process: &oci_spec::runtime::Process, proc: &Procfs) -> Result<()> {
    if let Some(limits) = process.rlimits() {
        process::set_rlimits(limits)?;
    }
    if let Some(adj) = process.oom_score_adj() {
        process::set_oom_score_adj(proc, adj)?;
    }
    Ok(())
}

/// The init's pid as the host sees it: the host procfs's `self` link.
fn host_pid(a: &InitArgs<'_>) -> Result<nix::unistd::Pid> {
    let link = nix::fcntl::readlinkat(a.host_proc.as_fd(), "self").ctx("readlink", "/proc/self")?;
    let pid = link.to_str().and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok(nix::unistd::Pid::from_raw(pid))
}

/// Marks every fd but 0-2 and the preserved ones close-on-exec, and clears
/// the flag on the preserved ones (`--preserve-fds`).
pub(super) fn keep_only_stdio_and_preserved(preserve: u32) -> Result<()> {
    sys::fd::cloexec_from(3 + preserve).ctx("close_range", "CLOSE_RANGE_CLOEXEC")?;
    for fd in 3..3 + preserve as i32 {
        sys::fd::clear_cloexec(fd).ctx("fcntl F_SETFD (--preserve-fds)", format!("fd {fd}"))?;
    }
    Ok(())
}

fn set_identity(cfg: &Config) -> Result<()> {
    if let Some(h) = cfg.spec.hostname().as_deref().filter(|h| !h.is_empty()) {
        sethostname(h).ctx("sethostname", h)?;
    }
    if let Some(d) = cfg.spec.domainname().as_deref().filter(|d| !d.is_empty()) {
        sys::fd::set_domainname(d).ctx("setdomainname", d)?;
    }
    Ok(())
}

/// `linux.sysctl`, when it has any key.
fn sysctls(cfg: &Config) -> Option<&std::collections::HashMap<String, String>> {
    cfg.spec.linux().as_ref().and_then(|l| l.sysctl().as_ref()).filter(|m| !m.is_empty())
}

/// sysctls, through brig's private procfs: the net and ipc files resolve
/// in the init's namespaces, whatever the container's /proc is.
fn write_sysctls(cfg: &Config, proc: &Procfs) -> Result<()> {
    for (key, value) in sysctls(cfg).into_iter().flatten() {
        proc.write(Base::Root, &procfs::sysctl_path(key), value.as_bytes())?;
    }
    Ok(())
}

/// Bounding set, no_new_privs, seccomp (without no_new_privs it needs
/// CAP_SYS_ADMIN, so before the drop), user and groups, then the final
/// capability sets.
pub(super) fn drop_privileges(
    caps: &CapSets,
    seccomp: Option<&seccomp::Program>,
    process: &oci_spec::runtime::Process,
    proc: &Procfs,
    chan: &Channel,
) -> Result<()> {
    caps.drop_bounding()?;
    let nnp = process.no_new_privileges().unwrap_or(false);
    if nnp {
        prctl::set_no_new_privs().ctx("prctl PR_SET_NO_NEW_PRIVS", "init")?;
    } else if let Some(p) = seccomp {
        install_seccomp(p, chan)?;
    }
    prctl::set_keepcaps(true).ctx("prctl PR_SET_KEEPCAPS", "init")?;
    process::set_user(process.user(), setgroups_allowed(proc))?;
    prctl::set_keepcaps(false).ctx("prctl PR_SET_KEEPCAPS", "init")?;
    caps.apply()
}

/// Installs the filter stack and, for a NOTIFY profile, sends the listener
/// fd to the parent at once, as runc does: a notified call made before the
/// agent has the fd would wait forever. The parent passes it on to the
/// agent at listenerPath; our copy is closed here, so the container never
/// holds it.
pub(super) fn install_seccomp(p: &seccomp::Program, chan: &Channel) -> Result<()> {
    if let Some(fd) = seccomp::install(p)? {
        chan.send(&Message::SeccompFd, Some(fd.as_raw_fd()))?;
    }
    Ok(())
}

/// In a user namespace whose setgroups file says "deny", setgroups(2) fails.
/// Read through brig's procfs: a fake "deny" in the container's /proc would
/// otherwise leave the process with brig's supplementary groups.
fn setgroups_allowed(proc: &Procfs) -> bool {
    proc.read(Base::Own, "setgroups").map_or(true, |s| s.trim() != "deny")
}

/// Blocks until `start` opens exec.fifo for reading. The fifo is reopened
/// for writing through the host's /proc, which works even when the
/// container has no /proc of its own.
fn wait_for_start(a: &InitArgs<'_>) -> Result<std::fs::File> {
    let rel = format!("self/fd/{}", a.fifo.as_raw_fd());
    let fd = openat(a.host_proc.as_fd(), rel.as_str(), OFlag::O_WRONLY | OFlag::O_CLOEXEC, Mode::empty())
        .ctx("open exec.fifo", &rel)?;
    Ok(std::fs::File::from(fd))
}

/// Tells `start` that the user's process is about to be exec'd.
fn signal_started(mut fifo: std::fs::File) -> Result<()> {
    fifo.write_all(b"0").ctx("write", "exec.fifo")
}

pub(super) fn exec_process(exec: &Exec) -> Result<Never> {
    // The parent may have blocked or ignored signals; the user's process
    // starts with a clean slate.
    sys::signal::reset_all_dispositions();
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None).ctx("sigprocmask", "init")?;
    match execve(&exec.path, &exec.argv, &exec.envp) {
        Ok(never) => match never {},
        Err(e) => Err(Error::sys("execve", exec.path.to_string_lossy().into_owned(), e)),
    }
}
