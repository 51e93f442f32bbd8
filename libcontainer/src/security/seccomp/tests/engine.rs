//! The default profile of the Docker/Podman family, as Debian's
//! golang-github-containers-common ships it in /usr/share/containers/seccomp.json.
//! It is in the engines' format; `resolve` turns it into the OCI section for
//! a capability set the way the engines do (containers/common
//! pkg/seccomp: archMap, includes/excludes by caps, arches and minKernel).

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use nix::errno::Errno;
use oci_spec::runtime::LinuxSeccomp;
use serde_json::{json, Value};

use super::*;
use crate::security::seccomp::bpf::tests::{verdict, Call};
use crate::security::seccomp::syscalls::Arch;
use crate::security::seccomp::{bpf, profile};
use crate::sys::testing::{before_exec, raw_syscall};

const PROFILE: &str = "/usr/share/containers/seccomp.json";

/// Podman's default capabilities (containers.conf default_capabilities).
const PODMAN_CAPS: &[&str] = &[
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
    "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
];

fn load() -> Option<Value> {
    match std::fs::read(PROFILE) {
        Ok(b) => Some(serde_json::from_slice(&b).expect("profile JSON")),
        Err(e) => {
            eprintln!("{PROFILE}: {e}: install golang-github-containers-common; skipped");
            None
        }
    }
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

fn kernel_at_least(min: &str) -> bool {
    let ver = |s: &str| -> Vec<u32> { s.split(['.', '-']).take(2).map(|p| p.parse().unwrap_or(0)).collect() };
    let release = nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default();
    ver(&release) >= ver(min)
}

/// The engine's resolution for an amd64 host and `caps`.
pub(crate) fn resolve(engine: &Value, caps: &[&str]) -> LinuxSeccomp {
    let native = "SCMP_ARCH_X86_64";
    let mut arches = vec![json!(native)];
    for m in engine["archMap"].as_array().into_iter().flatten() {
        if m["architecture"] == native {
            arches.extend(strings(&m["subArchitectures"]).into_iter().map(Value::from));
        }
    }
    let mut syscalls = Vec::new();
    'entries: for s in engine["syscalls"].as_array().into_iter().flatten() {
        let (inc, exc) = (&s["includes"], &s["excludes"]);
        let inc_arches = strings(&inc["arches"]);
        if !inc_arches.is_empty() && !inc_arches.contains(&"amd64") {
            continue;
        }
        if strings(&exc["arches"]).contains(&"amd64") {
            continue;
        }
        for c in strings(&inc["caps"]) {
            if !caps.contains(&c) {
                continue 'entries;
            }
        }
        if strings(&exc["caps"]).iter().any(|c| caps.contains(c)) {
            continue;
        }
        if inc["minKernel"].as_str().is_some_and(|k| !kernel_at_least(k)) {
            continue;
        }
        let mut out = json!({"names": s["names"], "action": s["action"]});
        if s["args"].as_array().is_some_and(|a| !a.is_empty()) {
            out["args"] = s["args"].clone();
        }
        if !s["errnoRet"].is_null() {
            out["errnoRet"] = s["errnoRet"].clone();
        }
        syscalls.push(out);
    }
    let mut oci = json!({"defaultAction": engine["defaultAction"], "architectures": arches, "syscalls": syscalls});
    if !engine["defaultErrnoRet"].is_null() {
        oci["defaultErrnoRet"] = engine["defaultErrnoRet"].clone();
    }
    serde_json::from_value(oci).expect("resolved profile is OCI")
}

fn podman_default() -> Option<LinuxSeccomp> {
    load().map(|e| resolve(&e, PODMAN_CAPS))
}

#[test]
fn resolves_and_compiles() {
    let Some(s) = podman_default() else { return };
    let p = compile(&s).unwrap();
    let (filters, insns) = p.size();
    assert!(filters >= 2 && insns > 1000, "{filters} filters, {insns} insns");
    // Capability-dependent entries follow the caps.
    let e = load().unwrap();
    let admin = resolve(&e, &["CAP_SYS_ADMIN"]);
    let conv = profile::convert(&admin).unwrap();
    let (f, _) = bpf::build(&conv).unwrap();
    assert_eq!(verdict(&f, &Call::x86_64("bpf", &[])), libc::SECCOMP_RET_ALLOW);
}

/// Exact verdicts of a sample of rules, by the BPF interpreter.
#[test]
fn sample_rules_are_exact() {
    let Some(s) = podman_default() else { return };
    let (f, _) = bpf::build(&profile::convert(&s).unwrap()).unwrap();
    let errno = |e: i32| libc::SECCOMP_RET_ERRNO | e as u32;
    let allow = libc::SECCOMP_RET_ALLOW;
    let cases: &[(&str, &[u64], u32)] = &[
        ("read", &[], allow),
        ("kexec_load", &[], errno(libc::EPERM)),
        ("vmsplice", &[], errno(libc::EPERM)),
        ("bpf", &[], errno(libc::EPERM)),
        ("open_by_handle_at", &[], errno(libc::EPERM)),
        ("add_key", &[], errno(libc::ENOSYS)),
        ("request_key", &[], errno(libc::ENOSYS)),
        ("personality", &[0xffff_ffff], allow),
        ("personality", &[8], allow),
        ("personality", &[1], errno(libc::ENOSYS)),
        // AF_NETLINK + NETLINK_AUDIT without CAP_AUDIT_WRITE: EINVAL.
        ("socket", &[16, 3, 9], errno(libc::EINVAL)),
        ("socket", &[16, 3, 0], allow),
        ("socket", &[2, 1, 0], allow),
        ("chroot", &[], allow),
    ];
    for &(name, args, want) in cases {
        assert_eq!(verdict(&f, &Call::x86_64(name, args)), want, "{name}{args:?}");
    }
    // The same on the i386 ABI.
    assert_eq!(verdict(&f, &Call::on(Arch::X86, "kexec_load", &[])), errno(libc::EPERM));
    assert_eq!(verdict(&f, &Call::on(Arch::X86, "socketcall", &[])), allow);
}

/// Root without the capabilities a container lacks, under the profile:
/// what the container's process gets from the kernel.
#[test]
fn refused_calls_get_the_right_errno() {
    let Some(s) = podman_default() else { return };
    let p = compile(&s).unwrap();
    let check = |call: fn() -> nix::Result<()>, want: Errno| {
        let p = p.clone();
        let status = in_child(move || {
            let keep: caps::CapsHashSet = PODMAN_CAPS.iter().filter_map(|c| c.parse().ok()).collect();
            if caps::set(None, caps::CapSet::Effective, &keep).is_err() || !enter(&p) {
                return INSTALL_FAILED;
            }
            call().map_or_else(|e| e as i32, |()| OK)
        });
        assert_errno(status, Some(want));
    };
    // Allowed by this profile (unlike Docker's); refused for lack of CAP_SYS_ADMIN.
    check(|| nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS), Errno::EPERM);
    check(|| nix::mount::mount(Some("none"), "/mnt", Some("tmpfs"), nix::mount::MsFlags::empty(), None::<&str>), Errno::EPERM);
    // ptrace is allowed too; attaching to the host's init needs CAP_SYS_PTRACE.
    check(|| raw_syscall(libc::SYS_ptrace, [libc::PTRACE_ATTACH as u64, 1, 0, 0]).map(drop), Errno::EPERM);
    // keyctl is allowed; creating keys is not in the allow list: the
    // profile's default ENOSYS (EFAULT without the filter: NULL args).
    check(|| raw_syscall(libc::SYS_add_key, [0; 4]).map(drop), Errno::ENOSYS);
    // The explicit deny list: EPERM (EBADF without the filter).
    check(|| raw_syscall(libc::SYS_vmsplice, [u64::MAX, 0, 0, 0]).map(drop), Errno::EPERM);
}

/// A normal workload runs under the profile: busybox and python.
#[test]
fn workloads_run_under_the_profile() {
    let Some(s) = podman_default() else { return };
    let p = compile(&s).unwrap();
    let dir = scratch("workload");
    let script = format!(
        "set -e; mkdir -p {d}/a; echo hello > {d}/a/f; cat {d}/a/f | grep -q hello; ls -l / >/dev/null; \
         sort < /etc/passwd | head -1 >/dev/null; sleep 0.01 & wait; rm -r {d}",
        d = dir.display()
    );
    let mut cmds = vec![Command::new("/bin/busybox")];
    cmds[0].args(["sh", "-c", &script]);
    let py = "import json, os, subprocess, threading, socket, tempfile\n\
              t = threading.Thread(target=lambda: None); t.start(); t.join()\n\
              with tempfile.TemporaryDirectory() as d: open(os.path.join(d, 'x'), 'w').write(json.dumps({'a': 1}))\n\
              s = socket.socket(); s.close()\n\
              assert subprocess.run(['/bin/busybox', 'true']).returncode == 0\n";
    if let Ok(python) = which("python3") {
        let mut c = Command::new(python);
        c.args(["-c", py]);
        cmds.push(c);
    }
    for mut cmd in cmds {
        let prog = p.clone();
        before_exec(&mut cmd, move || {
            nix::sys::prctl::set_no_new_privs().map_err(std::io::Error::from)?;
            install(&prog).map(drop).map_err(|e| std::io::Error::other(e.to_string()))
        });
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{cmd:?}: {:?} signal {:?}\n{}",
            out.status.code(),
            out.status.signal(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()).ok_or(())
}
