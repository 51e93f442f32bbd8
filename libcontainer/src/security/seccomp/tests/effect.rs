//! Each action and the MASKED_EQ operator, installed for real.

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;
use nix::sys::wait::WaitStatus;
use nix::unistd::mkdir;

use super::*;

fn mkdir_profile(action: &str) -> String {
    let extra = if action.contains("NOTIFY") { r#","listenerPath":"/nonexistent""# } else { "" };
    format!(r#"{{"defaultAction":"SCMP_ACT_ALLOW"{extra},"syscalls":[{{"names":["mkdir","mkdirat"],"action":"{action}"}}]}}"#)
}

fn try_mkdir(name: &str) -> impl FnOnce() -> nix::Result<()> {
    let dir = scratch(name);
    move || mkdir(&dir, Mode::from_bits_truncate(0o755))
}

#[test]
fn errno_with_errno_ret() {
    let p = program(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#,
    );
    assert_errno(run_under(&p, try_mkdir("errno")), Some(Errno::EACCES));
    // Unrelated calls still work.
    assert_errno(run_under(&p, || nix::unistd::access("/", nix::unistd::AccessFlags::F_OK)), None);
}

#[test]
fn errno_default_is_eperm() {
    let p = program(&mkdir_profile("SCMP_ACT_ERRNO"));
    assert_errno(run_under(&p, try_mkdir("eperm")), Some(Errno::EPERM));
}

#[test]
fn kill_actions_and_trap_send_sigsys() {
    for act in ["SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"] {
        let p = program(&mkdir_profile(act));
        assert_signal(run_under(&p, try_mkdir("kill")), Signal::SIGSYS);
    }
}

#[test]
fn log_allows() {
    let p = program(&mkdir_profile("SCMP_ACT_LOG"));
    let dir = scratch("log");
    let d = dir.clone();
    assert_errno(run_under(&p, move || mkdir(&d, Mode::from_bits_truncate(0o755))), None);
    assert!(dir.is_dir());
    std::fs::remove_dir(&dir).unwrap();
}

#[test]
fn trace_without_tracer_is_enosys() {
    // seccomp(2): with no tracer attached, SECCOMP_RET_TRACE fails the call
    // with ENOSYS.
    let p = program(&mkdir_profile("SCMP_ACT_TRACE"));
    assert_errno(run_under(&p, try_mkdir("trace")), Some(Errno::ENOSYS));
}

#[test]
fn notify_gives_a_listener_and_enosys_once_it_is_closed() {
    if !crate::sys::seccomp::action_available(libc::SECCOMP_RET_USER_NOTIF) {
        eprintln!("SECCOMP_RET_USER_NOTIF not available: skipped");
        return;
    }
    let p = program(&mkdir_profile("SCMP_ACT_NOTIFY"));
    assert!(p.needs_listener());
    let dir = scratch("notify");
    let status = in_child(move || {
        if nix::sys::prctl::set_no_new_privs().is_err() {
            return INSTALL_FAILED;
        }
        match install(&p) {
            // Without a listener the kernel fails notified calls with ENOSYS.
            Ok(Some(fd)) => drop(fd),
            _ => return INSTALL_FAILED,
        }
        match mkdir(&dir, Mode::from_bits_truncate(0o755)) {
            Ok(()) => OK,
            Err(e) => e as i32,
        }
    });
    assert_errno(status, Some(Errno::ENOSYS));
}

#[test]
fn masked_eq_on_mkdir_mode() {
    // Refuse group-writable directories: (mode & 0o020) == 0o020.
    let p = program(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":1,
            "args":[{"index":1,"value":16,"valueTwo":16,"op":"SCMP_CMP_MASKED_EQ"}]}]}"#,
    );
    let dir = scratch("masked");
    let d = dir.clone();
    assert_errno(run_under(&p, move || mkdir(&d, Mode::from_bits_truncate(0o775))), Some(Errno::EPERM));
    let d = dir.clone();
    assert_errno(run_under(&p, move || mkdir(&d, Mode::from_bits_truncate(0o755))), None);
    std::fs::remove_dir(&dir).unwrap();
}

#[test]
fn stricter_action_wins_when_rules_overlap() {
    let p = program(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13},
            {"names":["mkdir"],"action":"SCMP_ACT_KILL_PROCESS","args":[{"index":1,"value":448,"op":"SCMP_CMP_EQ"}]}]}"#,
    );
    let dir = scratch("overlap");
    let d = dir.clone();
    assert_signal(run_under(&p, move || mkdir(&d, Mode::from_bits_truncate(0o700))), Signal::SIGSYS);
    assert_errno(run_under(&p, move || mkdir(&dir, Mode::from_bits_truncate(0o755))), Some(Errno::EACCES));
}

#[test]
fn allow_list_with_errno_default() {
    // A strict profile: only what a tiny child needs, mkdir falls to the default.
    let p = program(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"syscalls":[{"names":["exit_group","exit","access"],
            "action":"SCMP_ACT_ALLOW"}]}"#,
    );
    assert_errno(run_under(&p, try_mkdir("strict")), Some(Errno::ENOSYS));
    assert_errno(run_under(&p, || nix::unistd::access("/", nix::unistd::AccessFlags::F_OK)), None);
}

#[test]
fn every_flag_installs() {
    let flags = [
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    ];
    for flag in flags {
        let p = program(&format!(
            r#"{{"defaultAction":"SCMP_ACT_ALLOW","flags":["{flag}"],"listenerPath":"/x","syscalls":[
                {{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}},{{"names":["rmdir"],"action":"SCMP_ACT_NOTIFY"}}]}}"#
        ));
        assert_errno(run_under(&p, try_mkdir("flags")), Some(Errno::EACCES));
    }
}

#[test]
fn install_without_privilege_names_the_filter() {
    // Without no_new_privs and without CAP_SYS_ADMIN the kernel refuses.
    let p = program(&mkdir_profile("SCMP_ACT_ERRNO"));
    let status = in_child(move || {
        if caps::clear(None, caps::CapSet::Effective).is_err() {
            return INSTALL_FAILED;
        }
        match install(&p) {
            Err(e) if e.to_string().contains("filter 0 of") => e.errno().map_or(0, |e| e as i32),
            _ => INSTALL_FAILED,
        }
    });
    assert_errno(status, Some(Errno::EACCES));
}

/// The kernel's arch word, for real: an i386 call through `int 0x80` is
/// filtered by its i386 number, and killed when the profile leaves x86 out.
#[test]
fn i386_calls_are_filtered_by_their_own_numbers() {
    use crate::sys::testing::int80;
    const I386_GETPID: u32 = 20; // x86_64's 20 is writev
    // Without a filter: does this kernel run i386 syscalls at all?
    let native = in_child(|| if int80(I386_GETPID) > 0 { OK } else { 1 });
    if native != WaitStatus::Exited(native_pid(native), OK) {
        eprintln!("no IA32 emulation (int 0x80 getpid: {native:?}): skipped");
        return;
    }
    let p = program(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],
            "syscalls":[{"names":["getpid"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#,
    );
    let got = in_child(move || {
        if !enter(&p) {
            return INSTALL_FAILED;
        }
        // i386 getpid refused; i386 getppid (64) not; x86_64's 20 (writev)
        // untouched although it is i386's getpid number.
        let writev = nix::sys::uio::writev(crate::sys::fd::stdio(1), &[]);
        match (int80(I386_GETPID), int80(64) > 0, writev) {
            (-13, true, Ok(0)) => OK,
            _ => 1,
        }
    });
    assert_errno(got, None);
    // Native only: any i386 call hits the bad-arch action.
    let p = program(r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#);
    let got = in_child(move || {
        if !enter(&p) {
            return INSTALL_FAILED;
        }
        int80(64);
        OK
    });
    assert_signal(got, Signal::SIGSYS);
}

fn native_pid(s: WaitStatus) -> nix::unistd::Pid {
    s.pid().unwrap_or(nix::unistd::Pid::from_raw(0))
}
