//! Compilation tests without root: a small classic-BPF interpreter runs the
//! stack the way the kernel does (every filter, strictest result, newest
//! wins ties) on chosen (arch, nr, args), for every action, operator and ABI.

use oci_spec::runtime::LinuxSeccomp;

use super::*;
use crate::security::seccomp::profile;

/// One syscall as seccomp_data shows it.
#[derive(Clone, Copy)]
pub(crate) struct Call {
    pub arch: u32,
    pub nr: u32,
    pub args: [u64; 6],
}

impl Call {
    pub(crate) fn x86_64(name: &str, args: &[u64]) -> Call {
        Call::on(Arch::X86_64, name, args)
    }

    pub(crate) fn on(arch: Arch, name: &str, args: &[u64]) -> Call {
        let nr = arch.number(name).unwrap_or_else(|| panic!("{name} on {arch:?}"));
        let audit = if arch == Arch::X86 { AUDIT_ARCH_I386 } else { AUDIT_ARCH_X86_64 };
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        Call { arch: audit, nr, args: a }
    }

    fn word(&self, off: u32) -> u32 {
        match off {
            0 => self.nr,
            4 => self.arch,
            16..=63 => {
                let arg = self.args[((off - 16) / 8) as usize];
                if off.is_multiple_of(8) { arg as u32 } else { (arg >> 32) as u32 }
            }
            _ => panic!("load at {off}"),
        }
    }
}

/// Runs one filter; panics on anything the kernel's checker would refuse.
pub(crate) fn run(prog: &[sock_filter], c: &Call) -> Ret {
    let (mut a, mut pc) = (0u32, 0usize);
    loop {
        let i = &prog[pc];
        pc += 1;
        match i.code {
            LD_ABS => a = c.word(i.k),
            0x54 => a &= i.k, // BPF_ALU | BPF_AND | BPF_K
            JA => pc += i.k as usize,
            RET_K => return i.k,
            code => {
                let taken = match code {
                    JEQ_K => a == i.k,
                    0x25 => a > i.k, // JGT
                    JGE_K => a >= i.k,
                    0x45 => a & i.k != 0, // JSET
                    _ => panic!("opcode {code:#x} at {}", pc - 1),
                };
                pc += usize::from(if taken { i.jt } else { i.jf });
            }
        }
    }
}

/// The stack's verdict, as seccomp_run_filters computes it.
pub(crate) fn verdict(filters: &[Filter], c: &Call) -> Ret {
    let mut ret = ALLOW;
    for f in filters.iter().rev() {
        let cur = run(&f.insns, c);
        if ((cur & libc::SECCOMP_RET_ACTION_FULL) as i32) < ((ret & libc::SECCOMP_RET_ACTION_FULL) as i32) {
            ret = cur;
        }
    }
    ret
}

pub(crate) fn profile_json(json: &str) -> LinuxSeccomp {
    serde_json::from_str(json).unwrap()
}

fn stack(json: &str) -> Vec<Filter> {
    let p = profile::convert(&profile_json(json)).unwrap();
    let (filters, _) = build(&p).unwrap();
    for f in &filters {
        assert!(f.insns.len() <= MAX_INSNS);
    }
    filters
}

const ERRNO: Ret = libc::SECCOMP_RET_ERRNO;
const EPERM: Ret = ERRNO | libc::EPERM as u32;

#[test]
fn every_action_maps_to_its_kernel_value() {
    let cases = [
        ("SCMP_ACT_KILL", libc::SECCOMP_RET_KILL_THREAD),
        ("SCMP_ACT_KILL_THREAD", libc::SECCOMP_RET_KILL_THREAD),
        ("SCMP_ACT_KILL_PROCESS", libc::SECCOMP_RET_KILL_PROCESS),
        ("SCMP_ACT_TRAP", libc::SECCOMP_RET_TRAP),
        ("SCMP_ACT_ERRNO", EPERM),
        ("SCMP_ACT_TRACE", libc::SECCOMP_RET_TRACE | libc::EPERM as u32),
        ("SCMP_ACT_LOG", libc::SECCOMP_RET_LOG),
        ("SCMP_ACT_NOTIFY", NOTIFY),
    ];
    for (name, want) in cases {
        let extra = if name == "SCMP_ACT_NOTIFY" { r#","listenerPath":"/x""# } else { "" };
        let f = stack(&format!(
            r#"{{"defaultAction":"SCMP_ACT_ALLOW"{extra},"syscalls":[{{"names":["mkdir"],"action":"{name}"}}]}}"#
        ));
        assert_eq!(verdict(&f, &Call::x86_64("mkdir", &[])), want, "{name}");
        assert_eq!(verdict(&f, &Call::x86_64("getpid", &[])), ALLOW, "{name}");
        // ...and as default action, with getpid allowed.
        if name != "SCMP_ACT_NOTIFY" {
            let f = stack(&format!(
                r#"{{"defaultAction":"{name}","syscalls":[{{"names":["getpid"],"action":"SCMP_ACT_ALLOW"}}]}}"#
            ));
            assert_eq!(verdict(&f, &Call::x86_64("mkdir", &[])), want, "default {name}");
            assert_eq!(verdict(&f, &Call::x86_64("getpid", &[])), ALLOW, "default {name}");
        }
    }
}

#[test]
fn errno_ret_and_default_errno_ret() {
    let f = stack(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"syscalls":[
            {"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13},
            {"names":["rmdir"],"action":"SCMP_ACT_TRACE","errnoRet":5},
            {"names":["getpid","read"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    assert_eq!(verdict(&f, &Call::x86_64("mkdir", &[])), ERRNO | 13);
    assert_eq!(verdict(&f, &Call::x86_64("rmdir", &[])), libc::SECCOMP_RET_TRACE | 5);
    assert_eq!(verdict(&f, &Call::x86_64("unshare", &[])), ERRNO | 38);
    assert_eq!(verdict(&f, &Call::x86_64("read", &[])), ALLOW);
}

#[test]
fn errno_ret_on_other_actions_is_refused() {
    for act in ["SCMP_ACT_ALLOW", "SCMP_ACT_KILL", "SCMP_ACT_TRAP", "SCMP_ACT_LOG"] {
        let j = format!(r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{{"names":["mkdir"],"action":"{act}","errnoRet":1}}]}}"#);
        let e = profile::convert(&profile_json(&j)).unwrap_err().to_string();
        assert!(e.contains("syscalls[0].action") && e.contains("errnoRet"), "{e}");
    }
}

#[test]
fn every_operator_on_64_bit_args() {
    let big = 0x1_0000_0005u64;
    type Case<'a> = (&'a str, u64, Option<u64>, &'a [(u64, bool)]);
    let cases: [Case<'_>; 7] = [
        ("SCMP_CMP_EQ", big, None, &[(big, true), (5, false), (big + 1, false)]),
        ("SCMP_CMP_NE", big, None, &[(big, false), (5, true)]),
        ("SCMP_CMP_LT", big, None, &[(big - 1, true), (big, false), (u64::MAX, false)]),
        ("SCMP_CMP_LE", big, None, &[(big, true), (big + 1, false), (0, true)]),
        ("SCMP_CMP_GT", big, None, &[(big + 1, true), (big, false), (5, false)]),
        ("SCMP_CMP_GE", big, None, &[(big, true), (big - 1, false), (u64::MAX, true)]),
        // (arg & 0xf0000000f) == 0x100000001
        ("SCMP_CMP_MASKED_EQ", 0xf_0000_000f, Some(0x1_0000_0001), &[(0x1_0000_0001, true), (0x1_ff00_0001, true), (1, false), (0x1_0000_0002, false)]),
    ];
    for (op, value, two, checks) in cases {
        let two = two.map_or(String::new(), |v| format!(r#","valueTwo":{v}"#));
        let f = stack(&format!(
            r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{{"names":["ioctl"],"action":"SCMP_ACT_ERRNO",
                "args":[{{"index":1,"value":{value}{two},"op":"{op}"}}]}}]}}"#
        ));
        for &(arg, matches) in checks {
            let got = verdict(&f, &Call::x86_64("ioctl", &[0, arg]));
            assert_eq!(got, if matches { EPERM } else { ALLOW }, "{op} arg {arg:#x}");
        }
    }
}

#[test]
fn masked_eq_with_value_outside_mask_never_matches() {
    let f = stack(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["ioctl"],"action":"SCMP_ACT_ERRNO",
            "args":[{"index":0,"value":15,"valueTwo":16,"op":"SCMP_CMP_MASKED_EQ"}]}]}"#,
    );
    for arg in [0, 16, 0x1f, 0xff] {
        assert_eq!(verdict(&f, &Call::x86_64("ioctl", &[arg])), ALLOW);
    }
}

#[test]
fn conditions_and_within_an_entry_or_on_the_same_index() {
    // Different indexes: AND.
    let f = stack(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["socket"],"action":"SCMP_ACT_ERRNO","args":[
            {"index":0,"value":1,"op":"SCMP_CMP_EQ"},{"index":1,"value":2,"op":"SCMP_CMP_EQ"}]}]}"#,
    );
    assert_eq!(verdict(&f, &Call::x86_64("socket", &[1, 2])), EPERM);
    assert_eq!(verdict(&f, &Call::x86_64("socket", &[1, 3])), ALLOW);
    // Same index twice: OR, as runc.
    let f = stack(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[
            {"index":0,"value":0,"op":"SCMP_CMP_EQ"},{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}]}"#,
    );
    assert_eq!(verdict(&f, &Call::x86_64("personality", &[0])), ALLOW);
    assert_eq!(verdict(&f, &Call::x86_64("personality", &[8])), ALLOW);
    assert_eq!(verdict(&f, &Call::x86_64("personality", &[1])), EPERM);
}

#[test]
fn arches_are_checked_and_numbered_per_abi() {
    let rule = r#""syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]"#;
    let all = stack(&format!(
        r#"{{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],{rule}}}"#
    ));
    for arch in [Arch::X86_64, Arch::X86, Arch::X32] {
        assert_eq!(verdict(&all, &Call::on(arch, "mkdir", &[])), ERRNO | 13, "{arch:?}");
        assert_eq!(verdict(&all, &Call::on(arch, "getpid", &[])), ALLOW, "{arch:?}");
    }
    // i386 mkdir is 39, which on x86_64 is getpid: it must not be refused.
    assert_eq!(verdict(&all, &Call { arch: AUDIT_ARCH_X86_64, nr: 39, args: [0; 6] }), ALLOW);
    // Native only: the other ABIs are killed, as libseccomp's bad-arch action.
    let native = stack(&format!(r#"{{"defaultAction":"SCMP_ACT_ALLOW",{rule}}}"#));
    assert_eq!(verdict(&native, &Call::on(Arch::X86_64, "mkdir", &[])), ERRNO | 13);
    assert_eq!(verdict(&native, &Call::on(Arch::X86, "getpid", &[])), BAD_ARCH);
    assert_eq!(verdict(&native, &Call::on(Arch::X32, "getpid", &[])), BAD_ARCH);
    assert_eq!(verdict(&native, &Call { arch: 0xc000_00b7, nr: 0, args: [0; 6] }), BAD_ARCH);
    // x86 listed, x32 not.
    let x86 = stack(&format!(r#"{{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],{rule}}}"#));
    assert_eq!(verdict(&x86, &Call::on(Arch::X86, "mkdir", &[])), ERRNO | 13);
    assert_eq!(verdict(&x86, &Call::on(Arch::X32, "mkdir", &[])), BAD_ARCH);
}

#[test]
fn x86_compares_32_bit_args() {
    let f = stack(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],"syscalls":[{"names":["ioctl"],
            "action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":4294967295,"op":"SCMP_CMP_EQ"}]}]}"#,
    );
    assert_eq!(verdict(&f, &Call::on(Arch::X86, "ioctl", &[0, 0xffff_ffff])), EPERM);
    assert_eq!(verdict(&f, &Call::on(Arch::X86, "ioctl", &[0, 1])), ALLOW);
}

#[test]
fn overlapping_rules_strictest_wins_then_first_listed() {
    let f = stack(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13},
            {"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":2,"args":[{"index":1,"value":448,"op":"SCMP_CMP_EQ"}]},
            {"names":["rmdir"],"action":"SCMP_ACT_ERRNO","errnoRet":2},
            {"names":["rmdir"],"action":"SCMP_ACT_KILL_PROCESS","args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"}]}]}"#,
    );
    assert_eq!(verdict(&f, &Call::x86_64("mkdir", &[1, 448])), ERRNO | 13, "first-listed ERRNO wins");
    assert_eq!(verdict(&f, &Call::x86_64("rmdir", &[0])), libc::SECCOMP_RET_KILL_PROCESS, "stricter wins");
    assert_eq!(verdict(&f, &Call::x86_64("rmdir", &[1])), ERRNO | 2);
}

#[test]
fn rule_equal_to_default_and_unknown_names() {
    let p = profile::convert(&profile_json(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["getpid","no_such_syscall"],"action":"SCMP_ACT_ALLOW"},
            {"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#,
    ))
    .unwrap();
    let (f, skipped) = build(&p).unwrap();
    assert_eq!(skipped, ["no_such_syscall"]);
    assert_eq!(verdict(&f, &Call::x86_64("getpid", &[])), ALLOW);
    assert_eq!(verdict(&f, &Call::x86_64("mkdir", &[])), EPERM);
}

#[test]
fn notify_filter_has_the_listener_flag() {
    let p = profile::convert(&profile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/agent.sock","flags":["SECCOMP_FILTER_FLAG_TSYNC",
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV","SECCOMP_FILTER_FLAG_LOG"],
            "syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"},{"names":["rmdir"],"action":"SCMP_ACT_TRAP"}]}"#,
    ))
    .unwrap();
    let (f, _) = build(&p).unwrap();
    let listeners: Vec<_> = f.iter().filter(|f| f.flags & libc::SECCOMP_FILTER_FLAG_NEW_LISTENER as u32 != 0).collect();
    assert_eq!(listeners.len(), 1);
    let want = (libc::SECCOMP_FILTER_FLAG_NEW_LISTENER
        | libc::SECCOMP_FILTER_FLAG_TSYNC
        | libc::SECCOMP_FILTER_FLAG_TSYNC_ESRCH
        | libc::SECCOMP_FILTER_FLAG_LOG
        | libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) as u32;
    assert_eq!(listeners[0].flags, want);
    let log_tsync = (libc::SECCOMP_FILTER_FLAG_TSYNC | libc::SECCOMP_FILTER_FLAG_LOG) as u32;
    assert!(f.iter().all(|f| f.flags & log_tsync == log_tsync));
    // The TRAP filter keeps TRAP: only the NOTIFY filter's placeholder is patched.
    assert_eq!(verdict(&f, &Call::x86_64("rmdir", &[])), libc::SECCOMP_RET_TRAP);
    assert_eq!(verdict(&f, &Call::x86_64("mkdir", &[])), NOTIFY);
}

#[test]
fn refusals_name_the_field() {
    let cases = [
        (r#"{"defaultAction":"SCMP_ACT_NOTIFY","listenerPath":"/x"}"#, "defaultAction"),
        (r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}"#, "listenerPath"),
        (r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/x","syscalls":[{"names":["sendmsg"],"action":"SCMP_ACT_NOTIFY"}]}"#, "names"),
        (r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":[],"action":"SCMP_ACT_ERRNO"}]}"#, "syscalls[0].names"),
        (r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":0,"op":"SCMP_CMP_EQ"}]}]}"#, "args[0].index"),
        (r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":65536}"#, "defaultAction"),
        (r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerMetadata":"m"}"#, "listenerMetadata"),
    ];
    for (json, field) in cases {
        let e = profile::convert(&profile_json(json)).unwrap_err().to_string();
        assert!(e.contains(field), "{json}: {e}");
    }
}

#[test]
fn big_allow_list_splits_per_abi_and_stays_exact() {
    // Every i386 syscall but rmdir allowed on three ABIs: too big for one program.
    let names: Vec<String> = Arch::X86.names().filter(|n| *n != "rmdir").map(|n| format!("{n:?}")).collect();
    let json = format!(
        r#"{{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86","SCMP_ARCH_X32"],"syscalls":[{{"names":[{}],"action":"SCMP_ACT_ALLOW"}}]}}"#,
        names.join(",")
    );
    let f = stack(&json);
    assert!(f.len() >= 2, "{} filters", f.len());
    for arch in [Arch::X86_64, Arch::X86, Arch::X32] {
        assert_eq!(verdict(&f, &Call::on(arch, "mkdir", &[])), ALLOW, "{arch:?}");
        assert_eq!(verdict(&f, &Call::on(arch, "rmdir", &[])), EPERM, "{arch:?}");
    }
}
