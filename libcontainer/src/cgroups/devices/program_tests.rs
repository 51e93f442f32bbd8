//! The device program run through a tiny interpreter of exactly the
//! instructions it uses, over a table of (rules, access) → allow/deny.

use super::super::{compile, compile_rules, Access, DevType, Rule, DEFAULT_RULES};
use super::*;

/// Runs `prog` on a bpf_cgroup_dev_ctx; panics on anything the kernel's
/// verifier would refuse (unknown opcode, bad register, jump out of range).
fn run(prog: &Program, typ: i32, access: u8, major: u32, minor: u32) -> bool {
    let ctx = [((u32::from(access)) << 16) | typ as u32, major, minor];
    let mut r = [0u64; 11];
    let mut pc = 0usize;
    for _ in 0..4096 {
        let i = prog.insns[pc];
        assert!(i.dst <= 10 && i.src <= 10, "bad register at {pc}");
        let imm = i.imm as u32;
        let lo = |v: u64| v as u32;
        pc += 1;
        match i.code {
            op::LDX_W => {
                assert_eq!(i.src, 1, "ctx loads only");
                let off = usize::try_from(i.off).unwrap();
                assert!(off % 4 == 0 && off < 12, "ctx offset {off}");
                r[i.dst as usize] = u64::from(ctx[off / 4]);
            }
            op::AND32_K => r[i.dst as usize] = u64::from(lo(r[i.dst as usize]) & imm),
            op::RSH32_K => r[i.dst as usize] = u64::from(lo(r[i.dst as usize]) >> imm),
            op::MOV32_K => r[i.dst as usize] = u64::from(imm),
            op::JNE32_K | op::JSET32_K => {
                let v = lo(r[i.dst as usize]);
                let taken = if i.code == op::JNE32_K { v != imm } else { v & imm != 0 };
                if taken {
                    pc = pc.checked_add_signed(isize::from(i.off)).unwrap();
                }
            }
            op::EXIT => return r[0] == 1,
            c => panic!("opcode {c:#x} at {}", pc - 1),
        }
        assert!(pc < prog.insns.len(), "fell off the end");
    }
    panic!("loop")
}

const B: i32 = DEV_BLOCK;
const C: i32 = DEV_CHAR;
const R: u8 = 2;
const W: u8 = 4;
const M: u8 = 1;

fn rule(s: &str) -> Rule {
    // "allow c 1:3 rwm"
    let p: Vec<&str> = s.split_whitespace().collect();
    let (maj, min) = p[2].split_once(':').unwrap();
    let n = |v: &str| if v == "*" { None } else { Some(v.parse().unwrap()) };
    let typ = match p[1] {
        "a" => DevType::All,
        "b" => DevType::Block,
        _ => DevType::Char,
    };
    Rule { allow: p[0] == "allow", typ, major: n(maj), minor: n(min), access: Access::parse(p[3]).unwrap() }
}

fn decide(rules: &[&str], typ: i32, access: u8, major: u32, minor: u32) -> bool {
    let rules: Vec<Rule> = rules.iter().map(|s| rule(s)).collect();
    run(&compile_rules(&rules).unwrap(), typ, access, major, minor)
}

#[test]
fn table() {
    #[rustfmt::skip]
    type Case<'a> = (&'a [&'a str], i32, u8, u32, u32, bool);
    let cases: &[Case<'_>] = &[
        // no rules: runc's emulator starts deny-all
        (&[], C, R, 1, 3, false),
        (&["allow a *:* rwm"], C, R | W, 1, 1, true),
        (&["allow a *:* rwm"], B, M, 8, 0, true),
        (&["deny a *:* rwm"], C, R, 1, 3, false),
        // allow list
        (&["deny a *:* rwm", "allow c 1:3 rwm"], C, R | W, 1, 3, true),
        (&["deny a *:* rwm", "allow c 1:3 rwm"], B, R, 1, 3, false),
        (&["deny a *:* rwm", "allow c 1:3 rwm"], C, R, 1, 5, false),
        (&["deny a *:* rwm", "allow c 1:3 r"], C, R, 1, 3, true),
        (&["deny a *:* rwm", "allow c 1:3 r"], C, R | W, 1, 3, false),
        (&["deny a *:* rwm", "allow c 1:3 r"], C, W, 1, 3, false),
        (&["deny a *:* rwm", "allow c 1:3 r", "allow c 1:3 w"], C, R | W, 1, 3, true),
        (&["deny a *:* rwm", "allow c *:* m"], C, M, 42, 7, true),
        (&["deny a *:* rwm", "allow c *:* m"], B, M, 42, 7, false),
        (&["deny a *:* rwm", "allow c 136:* rwm"], C, R | W, 136, 99, true),
        (&["deny a *:* rwm", "allow c 136:* rwm"], C, R | W, 137, 99, false),
        (&["deny a *:* rwm", "allow b *:0 r"], B, R, 8, 0, true),
        (&["deny a *:* rwm", "allow b *:0 r"], B, R, 8, 1, false),
        // last match wins
        (&["deny a *:* rwm", "allow c 1:3 rwm", "deny c 1:3 w"], C, W, 1, 3, false),
        (&["deny a *:* rwm", "allow c 1:3 rwm", "deny c 1:3 w"], C, R, 1, 3, true),
        (&["allow c 1:3 rwm", "deny a *:* rwm"], C, R, 1, 3, false),
        // deny list
        (&["allow a *:* rwm", "deny b 8:0 rw"], B, R, 8, 0, false),
        (&["allow a *:* rwm", "deny b 8:0 rw"], B, M, 8, 0, true),
        (&["allow a *:* rwm", "deny b 8:0 rw"], B, R, 8, 16, true),
        (&["allow a *:* rwm", "deny b 8:* w", "allow b 8:* w"], B, W, 8, 1, true),
        // huge numbers compare as u32
        (&["deny a *:* rwm", "allow c 4294967295:4294967295 r"], C, R, u32::MAX, u32::MAX, true),
        (&["deny a *:* rwm", "allow c 4294967295:4294967295 r"], C, R, u32::MAX, 0x7fff_ffff, false),
    ];
    for (i, (rules, t, acc, maj, min, want)) in cases.iter().enumerate() {
        assert_eq!(decide(rules, *t, *acc, *maj, *min), *want, "case {i}: {rules:?}");
    }
}

#[test]
fn punching_a_hole_is_an_error() {
    let rules: Vec<Rule> = ["deny a *:* rwm", "allow c *:* rwm", "deny c 1:3 w"].iter().map(|s| rule(s)).collect();
    assert!(compile_rules(&rules).is_err());
}

#[test]
fn defaults_allow_exactly_runcs_list() {
    let prog = compile(&[], &[]).unwrap();
    assert!(!prog.default_allow);
    for (maj, min) in [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 2), (136, 0), (136, 7)] {
        assert!(run(&prog, C, R | W, maj, min), "c {maj}:{min}");
    }
    // /dev/console, /dev/mem, /dev/kmsg, /dev/net/tun, /dev/fuse, disks
    for (t, maj, min) in [(C, 5, 1), (C, 1, 1), (C, 1, 11), (C, 10, 200), (C, 10, 229), (B, 8, 0), (B, 7, 0)] {
        assert!(!run(&prog, t, R, maj, min), "{t} {maj}:{min}");
        assert!(run(&prog, t, M, maj, min), "mknod {t} {maj}:{min}");
    }
    assert_eq!(DEFAULT_RULES.len(), 10);
}

#[test]
fn spec_rules_come_first_defaults_last() {
    // A spec deny of /dev/null is overridden by the default allow (runc).
    let deny_null: oci_spec::runtime::LinuxDeviceCgroup =
        serde_json::from_str(r#"{"allow":false,"type":"c","major":1,"minor":3,"access":"rwm"}"#).unwrap();
    let prog = compile(std::slice::from_ref(&deny_null), &[]).unwrap();
    assert!(run(&prog, C, R, 1, 3));
    // ... unless linux.devices redefines /dev/null, which drops that default.
    let dev: oci_spec::runtime::LinuxDevice =
        serde_json::from_str(r#"{"path":"/dev/null","type":"c","major":1,"minor":3}"#).unwrap();
    let prog = compile(&[deny_null], &[dev]).unwrap();
    assert!(!run(&prog, C, R, 1, 3));
    // docker's usual list: deny all, then allow a disk
    let spec: Vec<oci_spec::runtime::LinuxDeviceCgroup> = serde_json::from_str(
        r#"[{"allow":false,"access":"rwm"},{"allow":true,"type":"b","major":7,"minor":0,"access":"rw"}]"#,
    )
    .unwrap();
    let prog = compile(&spec, &[]).unwrap();
    assert!(run(&prog, B, R | W, 7, 0));
    assert!(!run(&prog, B, R, 7, 1));
}

#[test]
fn bad_spec_rules() {
    for bad in [
        r#"{"allow":true,"type":"p","access":"rwm"}"#,
        r#"{"allow":true,"type":"c","access":""}"#,
        r#"{"allow":true,"type":"c"}"#,
        r#"{"allow":true,"type":"c","access":"rx"}"#,
        r#"{"allow":true,"type":"c","major":4294967296,"access":"r"}"#,
    ] {
        let d: oci_spec::runtime::LinuxDeviceCgroup = serde_json::from_str(bad).unwrap();
        assert!(compile(&[d], &[]).is_err(), "{bad}");
    }
}

#[test]
fn encoding() {
    let i = Insn { code: op::JNE32_K, dst: 4, src: 0, off: 3, imm: -1 };
    assert_eq!(i.encode(), [0x56, 0x04, 3, 0, 0xff, 0xff, 0xff, 0xff]);
    let i = Insn { code: op::LDX_W, dst: 2, src: 1, off: 8, imm: 0 };
    assert_eq!(i.encode(), [0x61, 0x12, 8, 0, 0, 0, 0, 0]);
    assert_eq!(compile(&[], &[]).unwrap().encode().len() % 8, 0);
}

#[test]
fn extreme_rules_never_panic() {
    let nums = ["null", "-9223372036854775808", "-1", "0", "4294967295", "4294967296", "9223372036854775807"];
    for t in ["null", "\"a\"", "\"b\"", "\"c\"", "\"u\"", "\"p\""] {
        for n in nums {
            for access in ["\"\"", "\"rwm\"", "\"mmm\"", "\"x\"", "null"] {
                for allow in [true, false] {
                    let j = format!(r#"{{"allow":{allow},"type":{t},"major":{n},"minor":{n},"access":{access}}}"#);
                    let Ok(d) = serde_json::from_str::<oci_spec::runtime::LinuxDeviceCgroup>(&j) else { continue };
                    if let Ok(p) = compile(&[d.clone(), d], &[]) {
                        // every compiled program is well formed for the interpreter
                        let _ = run(&p, C, R, 0, 0);
                    }
                }
            }
        }
    }
}
