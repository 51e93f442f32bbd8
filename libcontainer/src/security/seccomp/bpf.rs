//! The profile compiled to a stack of BPF filters.
//!
//! A seccompiler filter has one match action and one mismatch action, and
//! the kernel runs every filter of the stack and keeps the strictest result
//! (KILL_PROCESS > KILL_THREAD > TRAP > ERRNO > USER_NOTIF > TRACE > LOG >
//! ALLOW; for equal actions, the newest filter's). So brig builds:
//! - one *default* filter: ALLOW for every call some rule matches, the
//!   default action for everything else;
//! - one filter per other distinct action A (ERRNO(EACCES) and ERRNO(ENOSYS)
//!   are distinct): A for the calls its rules match, ALLOW otherwise;
//! - an *arch guard* when the profile leaves out an ABI this host can run.
//!
//! A call matched by a rule makes the default filter say ALLOW and exactly
//! the filter of that rule's action say A, so the stack returns A: the OCI
//! semantics. Only when rules of different actions overlap (the same call
//! matched by two entries) does precedence decide: the stricter action wins,
//! and between two actions of the same kind (two ERRNO values) the entry
//! listed first wins, because its filter is installed last.
//!
//! Every filter dispatches on the ABI first (see [`super::syscalls`]), then
//! runs seccompiler's code for that ABI's syscall numbers.

use std::collections::{BTreeMap, BTreeSet};

use seccompiler::{
    sock_filter, BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use super::profile::{Cond, Profile, Ret, Rule};
use super::syscalls::{Arch, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT};
use crate::error::{Error, Result};

/// The kernel's limit on instructions per filter (BPF_MAXINSNS).
pub(crate) const MAX_INSNS: usize = 4096;
/// What the guard returns for an ABI the profile does not list. libseccomp's
/// default bad-arch action, which runc and crun keep, is SCMP_ACT_KILL.
pub(crate) const BAD_ARCH: Ret = libc::SECCOMP_RET_KILL_THREAD;

/// One filter of the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filter {
    pub insns: BpfProgram,
    /// SECCOMP_FILTER_FLAG_* to install it with.
    pub flags: u32,
}

const ALLOW: Ret = libc::SECCOMP_RET_ALLOW;
const NOTIFY: Ret = libc::SECCOMP_RET_USER_NOTIF;
/// Stands in for USER_NOTIF, which seccompiler lacks, in a NOTIFY filter
/// (whose only other action is ALLOW); patched afterwards.
const NOTIFY_PLACEHOLDER: Ret = libc::SECCOMP_RET_TRAP;

/// Builds the stack, in install order. Also returns the names no ABI of the
/// profile knows, which were skipped (as runc does).
pub(crate) fn build(p: &Profile) -> Result<(Vec<Filter>, Vec<String>)> {
    let skipped: Vec<String> = p
        .rules
        .iter()
        .filter(|r| p.arches.iter().all(|a| a.number(&r.name).is_none()))
        .map(|r| r.name.clone())
        .collect();
    let base = p.flags
        & (libc::SECCOMP_FILTER_FLAG_TSYNC | libc::SECCOMP_FILTER_FLAG_LOG | libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW)
            as u32;
    let mut out = Vec::new();
    if let Some(guard) = arch_guard(&p.arches) {
        out.push(Filter { insns: guard, flags: base });
    }
    if p.default != ALLOW {
        let rules: Vec<&Rule> = p.rules.iter().filter(|r| r.action != p.default).collect();
        for insns in action_filter(&p.arches, &rules, ALLOW, p.default)? {
            out.push(Filter { insns, flags: base });
        }
    }
    // Actions in order of first appearance; installed in reverse, so that
    // the first-listed one is newest and wins ties of equal precedence.
    let mut actions: Vec<Ret> = Vec::new();
    for r in &p.rules {
        if r.action != p.default && r.action != ALLOW && !actions.contains(&r.action) {
            actions.push(r.action);
        }
    }
    for &act in actions.iter().rev() {
        let rules: Vec<&Rule> = p.rules.iter().filter(|r| r.action == act).collect();
        let progs = action_filter(&p.arches, &rules, act, ALLOW)?;
        if act == NOTIFY && progs.len() > 1 {
            return Err(Error::config("linux.seccomp.syscalls", "the SCMP_ACT_NOTIFY rules exceed one BPF program"));
        }
        for insns in progs {
            out.push(Filter { insns, flags: if act == NOTIFY { notify_flags(p.flags, base) } else { base } });
        }
    }
    Ok((out, skipped))
}

/// The listener filter's flags: NEW_LISTENER, WAIT_KILLABLE_RECV if asked,
/// and TSYNC_ESRCH with TSYNC, which the kernel requires next to a listener.
fn notify_flags(asked: u32, base: u32) -> u32 {
    let mut f = base | libc::SECCOMP_FILTER_FLAG_NEW_LISTENER as u32;
    f |= asked & libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV as u32;
    if f & libc::SECCOMP_FILTER_FLAG_TSYNC as u32 != 0 {
        f |= libc::SECCOMP_FILTER_FLAG_TSYNC_ESRCH as u32;
    }
    f
}

/// Where the ABI dispatch sends one ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum To {
    /// The n-th body.
    Body(usize),
    /// A fixed return.
    Ret(Ret),
}

/// The guard: BAD_ARCH for ABIs the profile leaves out, ALLOW otherwise.
/// None when every ABI this host can run is listed.
fn arch_guard(arches: &[Arch]) -> Option<BpfProgram> {
    let to = |a: Arch| To::Ret(if arches.contains(&a) { ALLOW } else { BAD_ARCH });
    let (x86, x32) = (to(Arch::X86), to(Arch::X32));
    if x86 == To::Ret(ALLOW) && x32 == To::Ret(ALLOW) {
        return None;
    }
    Some(dispatch([x86, to(Arch::X86_64), x32], To::Ret(BAD_ARCH), Vec::new()))
}

/// The filter(s) for one action: `on_match` for the calls `rules` match,
/// `otherwise` for the rest, for every ABI. One program when it fits,
/// else one per ABI.
fn action_filter(arches: &[Arch], rules: &[&Rule], on_match: Ret, otherwise: Ret) -> Result<Vec<BpfProgram>> {
    let mut bodies = Vec::new();
    for &arch in arches {
        let map = rule_map(arch, rules)?;
        // An ABI without rules for a rule filter needs no body: ALLOW.
        if map.is_empty() && otherwise == ALLOW {
            continue;
        }
        bodies.push((arch, body(arch, map, on_match, otherwise)?));
    }
    if bodies.is_empty() {
        return Ok(Vec::new());
    }
    let all = assemble(&bodies);
    if all.len() <= MAX_INSNS {
        return Ok(vec![all]);
    }
    let split: Vec<BpfProgram> = bodies.iter().map(|b| assemble(std::slice::from_ref(b))).collect();
    if split.iter().any(|p| p.len() > MAX_INSNS) {
        return Err(Error::config("linux.seccomp.syscalls", format!("the rules exceed {MAX_INSNS} BPF instructions")));
    }
    Ok(split)
}

fn assemble(bodies: &[(Arch, BpfProgram)]) -> BpfProgram {
    let target = |a: Arch| bodies.iter().position(|(b, _)| *b == a).map_or(To::Ret(ALLOW), To::Body);
    let progs = bodies.iter().map(|(_, p)| p.clone()).collect();
    dispatch([target(Arch::X86), target(Arch::X86_64), target(Arch::X32)], To::Ret(ALLOW), progs)
}

/// seccompiler's code for one ABI, without its own arch check (the first
/// three instructions, which kill any other arch): the dispatch does that.
fn body(arch: Arch, map: BTreeMap<i64, Vec<SeccompRule>>, on_match: Ret, otherwise: Ret) -> Result<BpfProgram> {
    let notify = on_match == NOTIFY;
    let m = action(if notify { NOTIFY_PLACEHOLDER } else { on_match });
    let filter = SeccompFilter::new(map, action(otherwise), m, TargetArch::x86_64).map_err(backend_err)?;
    let prog: BpfProgram = filter.try_into().map_err(backend_err)?;
    let mut body: BpfProgram = prog.into_iter().skip(3).collect();
    if notify {
        for i in body.iter_mut().filter(|i| i.code == RET_K && i.k == NOTIFY_PLACEHOLDER) {
            i.k = NOTIFY;
        }
    }
    debug_assert!(body.first().is_some_and(|i| i.code == LD_ABS && i.k == 0) || body.len() == 1, "{arch:?}");
    Ok(body)
}

fn backend_err(e: seccompiler::BackendError) -> Error {
    Error::config("linux.seccomp", format!("BPF compile: {e}"))
}

/// A kernel action value as seccompiler's action (never USER_NOTIF).
fn action(ret: Ret) -> SeccompAction {
    let data = ret & libc::SECCOMP_RET_DATA;
    match ret & libc::SECCOMP_RET_ACTION_FULL {
        libc::SECCOMP_RET_KILL_PROCESS => SeccompAction::KillProcess,
        libc::SECCOMP_RET_KILL_THREAD => SeccompAction::KillThread,
        libc::SECCOMP_RET_TRAP => SeccompAction::Trap,
        libc::SECCOMP_RET_ERRNO => SeccompAction::Errno(data),
        libc::SECCOMP_RET_TRACE => SeccompAction::Trace(data),
        libc::SECCOMP_RET_LOG => SeccompAction::Log,
        _ => SeccompAction::Allow,
    }
}

/// The rules for one ABI, keyed by syscall number. An unconditional rule
/// makes the whole syscall match (an empty chain in seccompiler).
fn rule_map(arch: Arch, rules: &[&Rule]) -> Result<BTreeMap<i64, Vec<SeccompRule>>> {
    let mut map: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    let mut always = BTreeSet::new();
    for r in rules {
        let Some(nr) = arch.number(&r.name) else { continue };
        let nr = i64::from(nr);
        if r.alternatives.is_empty() {
            always.insert(nr);
            map.entry(nr).or_default();
            continue;
        }
        for alt in &r.alternatives {
            if let Some(rule) = seccompiler_rule(arch, alt)? {
                map.entry(nr).or_default().push(rule);
            }
        }
    }
    for nr in always {
        map.insert(nr, Vec::new());
    }
    Ok(map)
}

/// One AND-set of conditions; None if it can never match (a MASKED_EQ
/// whose value has bits outside the mask, as libseccomp compares exactly).
fn seccompiler_rule(arch: Arch, conds: &[Cond]) -> Result<Option<SeccompRule>> {
    let (len, width) =
        if arch.wide_args() { (SeccompCmpArgLen::Qword, u64::MAX) } else { (SeccompCmpArgLen::Dword, u64::from(u32::MAX)) };
    let mut out = Vec::with_capacity(conds.len());
    for c in conds {
        if let SeccompCmpOp::MaskedEq(mask) = c.op {
            if c.value & !mask & width != 0 {
                return Ok(None);
            }
        }
        out.push(SeccompCondition::new(c.index, len.clone(), c.op.clone(), c.value & width).map_err(backend_err)?);
    }
    SeccompRule::new(out).map(Some).map_err(backend_err)
}

const LD_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGE_K: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const JA: u16 = 0x05; // BPF_JMP | BPF_JA
const RET_K: u16 = 0x06; // BPF_RET | BPF_K
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// The ABI dispatch, then the fixed returns it uses, then the bodies:
/// ```text
/// 0 ld arch            4 ja  other          8 ja  x86_64
/// 1 jeq I386 ? 2 : 3   5 ld nr              9.. ret ... (each distinct Ret)
/// 2 ja  x86            6 jge X32_BIT ? 7 : 8    bodies
/// 3 jeq X86_64 ? 5 : 4 7 ja  x32
/// ```
/// `abi` is [x86, x86_64, x32]. Long jumps (JA, 32-bit offsets) reach
/// bodies of any length.
fn dispatch(abi: [To; 3], other: To, bodies: Vec<BpfProgram>) -> BpfProgram {
    const HEADER: usize = 9;
    let mut rets: Vec<Ret> = Vec::new();
    for t in abi.iter().chain([&other]) {
        if let To::Ret(r) = t {
            if !rets.contains(r) {
                rets.push(*r);
            }
        }
    }
    let mut starts = Vec::with_capacity(bodies.len());
    let mut at = HEADER + rets.len();
    for b in &bodies {
        starts.push(at);
        at += b.len();
    }
    let addr = |t: To| match t {
        To::Ret(r) => HEADER + rets.iter().position(|x| *x == r).unwrap_or(0),
        To::Body(i) => starts[i],
    };
    // A JA at `pc` to `t`; targets lie after the header, so no underflow.
    let ja = |pc: usize, t: To| insn(JA, 0, 0, (addr(t) - pc - 1) as u32);
    let mut p = vec![
        insn(LD_ABS, 0, 0, OFF_ARCH),
        insn(JEQ_K, 0, 1, AUDIT_ARCH_I386),
        ja(2, abi[0]),
        insn(JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        ja(4, other),
        insn(LD_ABS, 0, 0, OFF_NR),
        insn(JGE_K, 0, 1, X32_SYSCALL_BIT),
        ja(7, abi[2]),
        ja(8, abi[1]),
    ];
    p.extend(rets.iter().map(|&r| insn(RET_K, 0, 0, r)));
    for b in bodies {
        p.extend(b);
    }
    p
}

#[cfg(test)]
#[path = "bpf_tests.rs"]
pub(crate) mod tests;
