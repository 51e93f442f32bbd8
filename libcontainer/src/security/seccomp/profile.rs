//! `linux.seccomp` converted once into brig's own terms: kernel action
//! values, the architectures this host can execute, resolved flags, and
//! rules whose conditions are already checked. Every refusal names its
//! JSON path.

use oci_spec::runtime::{
    Arch as OciArch, LinuxSeccomp, LinuxSeccompAction as Act, LinuxSeccompFilterFlag as Flag,
    LinuxSeccompOperator as Op, LinuxSyscall,
};
use seccompiler::SeccompCmpOp;

use super::syscalls::Arch;
use crate::error::{Error, Result};

/// The kernel's return value for an action (SECCOMP_RET_* | data).
pub(crate) type Ret = u32;

/// The converted profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Profile {
    pub default: Ret,
    /// The architectures to filter; the native one is always first.
    pub arches: Vec<Arch>,
    /// SECCOMP_FILTER_FLAG_* asked for (TSYNC, LOG, SPEC_ALLOW, WAIT_KILLABLE_RECV).
    pub flags: u32,
    pub rules: Vec<Rule>,
}

/// One syscall name of one `syscalls[]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub name: String,
    pub action: Ret,
    /// Alternatives (OR) of condition sets (AND). Empty: unconditional.
    pub alternatives: Vec<Vec<Cond>>,
}

/// One argument condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cond {
    pub index: u8,
    pub op: SeccompCmpOp,
    pub value: u64,
}

const SYSCALL_ARGS: usize = 6;

/// Converts and validates the OCI section.
pub(crate) fn convert(s: &LinuxSeccomp) -> Result<Profile> {
    let default = action("linux.seccomp.defaultAction", s.default_action(), s.default_errno_ret())?;
    if s.default_action() == Act::ScmpActNotify {
        return Err(Error::config("linux.seccomp.defaultAction", "SCMP_ACT_NOTIFY cannot be the default action"));
    }
    let mut rules = Vec::new();
    for (i, sc) in s.syscalls().iter().flatten().enumerate() {
        convert_entry(i, sc, &mut rules)?;
    }
    let uses_notify = rules.iter().any(|r| r.action == libc::SECCOMP_RET_USER_NOTIF);
    if uses_notify && s.listener_path().as_ref().is_none_or(|p| p.as_os_str().is_empty()) {
        return Err(Error::config("linux.seccomp.listenerPath", "is required when SCMP_ACT_NOTIFY is used"));
    }
    if s.listener_metadata().is_some() && s.listener_path().is_none() {
        return Err(Error::config("linux.seccomp.listenerMetadata", "must not be set without listenerPath"));
    }
    Ok(Profile { default, arches: arches(s.architectures().as_deref().unwrap_or(&[])), flags: flags(s), rules })
}

fn convert_entry(i: usize, sc: &LinuxSyscall, rules: &mut Vec<Rule>) -> Result<()> {
    let field = format!("linux.seccomp.syscalls[{i}]");
    if sc.names().is_empty() {
        return Err(Error::config(format!("{field}.names"), "must contain at least one name"));
    }
    let act = action(&format!("{field}.action"), sc.action(), sc.errno_ret())?;
    let alternatives = conditions(&field, sc)?;
    for name in sc.names() {
        // The init sends the listener fd to brig with sendmsg right after the
        // filter is installed: a notified sendmsg would wait forever for an
        // agent that has not got the fd yet (runc refuses `write` likewise).
        if act == libc::SECCOMP_RET_USER_NOTIF && name == "sendmsg" {
            return Err(Error::config(format!("{field}.names"), "SCMP_ACT_NOTIFY cannot be used for sendmsg"));
        }
        rules.push(Rule { name: name.clone(), action: act, alternatives: alternatives.clone() });
    }
    Ok(())
}

/// The kernel value of an action. `errnoRet` only fits ERRNO and TRACE; both
/// default to EPERM, as in runc.
fn action(field: &str, a: Act, errno_ret: Option<u32>) -> Result<Ret> {
    let data = || -> Result<u32> {
        match errno_ret {
            None => Ok(libc::EPERM as u32),
            Some(e) if e <= libc::SECCOMP_RET_DATA => Ok(e),
            Some(e) => Err(Error::config(field, format!("errnoRet {e} does not fit the 16-bit action data"))),
        }
    };
    let ret = match a {
        Act::ScmpActErrno => return Ok(libc::SECCOMP_RET_ERRNO | data()?),
        Act::ScmpActTrace => return Ok(libc::SECCOMP_RET_TRACE | data()?),
        Act::ScmpActKill | Act::ScmpActKillThread => libc::SECCOMP_RET_KILL_THREAD,
        Act::ScmpActKillProcess => libc::SECCOMP_RET_KILL_PROCESS,
        Act::ScmpActTrap => libc::SECCOMP_RET_TRAP,
        Act::ScmpActNotify => libc::SECCOMP_RET_USER_NOTIF,
        Act::ScmpActLog => libc::SECCOMP_RET_LOG,
        Act::ScmpActAllow => libc::SECCOMP_RET_ALLOW,
    };
    if errno_ret.is_some() {
        return Err(Error::config(field, format!("errnoRet is not allowed with {a}")));
    }
    Ok(ret)
}

/// The argument conditions as alternatives. All conditions of one entry must
/// hold (AND) - except, as in runc, when two of them test the same argument:
/// then each condition becomes a rule of its own (OR), which is how profiles
/// express "arg0 is A or B".
fn conditions(field: &str, sc: &LinuxSyscall) -> Result<Vec<Vec<Cond>>> {
    let args = sc.args().as_deref().unwrap_or(&[]);
    let mut conds = Vec::with_capacity(args.len());
    let mut seen = [0usize; SYSCALL_ARGS];
    for (j, a) in args.iter().enumerate() {
        let index = a.index();
        if index >= SYSCALL_ARGS {
            return Err(Error::config(format!("{field}.args[{j}].index"), format!("{index} is not a syscall argument (0-5)")));
        }
        seen[index] += 1;
        let op = match a.op() {
            Op::ScmpCmpNe => SeccompCmpOp::Ne,
            Op::ScmpCmpLt => SeccompCmpOp::Lt,
            Op::ScmpCmpLe => SeccompCmpOp::Le,
            Op::ScmpCmpEq => SeccompCmpOp::Eq,
            Op::ScmpCmpGe => SeccompCmpOp::Ge,
            Op::ScmpCmpGt => SeccompCmpOp::Gt,
            // libseccomp: (arg & value) == valueTwo.
            Op::ScmpCmpMaskedEq => SeccompCmpOp::MaskedEq(a.value()),
        };
        let value = if a.op() == Op::ScmpCmpMaskedEq { a.value_two().unwrap_or(0) } else { a.value() };
        // index < 6, checked above.
        conds.push(Cond { index: index as u8, op, value });
    }
    if conds.is_empty() {
        return Ok(Vec::new());
    }
    if seen.iter().any(|&n| n > 1) {
        return Ok(conds.into_iter().map(|c| vec![c]).collect());
    }
    Ok(vec![conds])
}

/// The architectures to filter: the native one always (libseccomp starts
/// every filter with it), then the listed ones this host can execute.
/// Others (e.g. SCMP_ARCH_AARCH64 on x86_64) can never reach the filter.
fn arches(list: &[OciArch]) -> Vec<Arch> {
    let mut out = vec![Arch::native()];
    for a in list {
        let arch = match a {
            OciArch::ScmpArchNative => Some(Arch::native()),
            OciArch::ScmpArchX86_64 => Some(Arch::X86_64),
            OciArch::ScmpArchX86 => Some(Arch::X86),
            OciArch::ScmpArchX32 => Some(Arch::X32),
            _ => None,
        };
        if let Some(arch) = arch.filter(|a| a.runs_here() && !out.contains(a)) {
            out.push(arch);
        }
    }
    out
}

fn flags(s: &LinuxSeccomp) -> u32 {
    let mut out = 0;
    for f in s.flags().iter().flatten() {
        out |= match f {
            Flag::SeccompFilterFlagTsync => libc::SECCOMP_FILTER_FLAG_TSYNC,
            Flag::SeccompFilterFlagLog => libc::SECCOMP_FILTER_FLAG_LOG,
            Flag::SeccompFilterFlagSpecAllow => libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW,
            Flag::SeccompFilterFlagWaitKillableRecv => libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
        } as u32;
    }
    out
}
