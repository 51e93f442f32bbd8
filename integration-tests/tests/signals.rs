//! Signals: `run` forwards what it receives to PID 1; `kill` names, numbers, --all.

use integration_tests::host::{alive, cgroup_dir_of};
use integration_tests::{Container, Spec};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// PID 1 traps `sig` and exits with `code`; it prints `ready` once the trap is set.
fn trapping(sig: &str, code: i32) -> Spec {
    Spec::new().sh(&format!("trap 'exit {code}' {sig}; echo ready; while :; do sleep 1 & wait $!; done"))
}

fn forwards(sig: Signal, name: &str, code: i32) {
    let c = Container::new(&format!("fwd-{name}"), &trapping(name, code));
    let mut run = c.spawn_run(&[]);
    run.wait_stdout("ready");
    kill(Pid::from_raw(run.child.id() as i32), sig).unwrap();
    let out = run.wait_timeout(std::time::Duration::from_secs(20));
    assert_eq!(out.code(), Some(code), "run did not forward SIG{name}: {out}");
}

#[test]
fn run_forwards_sigterm() {
    forwards(Signal::SIGTERM, "TERM", 42);
}

#[test]
fn run_forwards_sigint() {
    forwards(Signal::SIGINT, "INT", 43);
}

#[test]
fn run_forwards_sighup() {
    forwards(Signal::SIGHUP, "HUP", 44);
}

#[test]
fn run_forwards_sigquit() {
    forwards(Signal::SIGQUIT, "QUIT", 45);
}

#[test]
fn run_forwards_sigusr1() {
    forwards(Signal::SIGUSR1, "USR1", 46);
}

#[test]
fn run_forwards_sigusr2() {
    forwards(Signal::SIGUSR2, "USR2", 47);
}

#[test]
fn run_forwards_sigwinch() {
    forwards(Signal::SIGWINCH, "WINCH", 48);
}

/// PID 1 traps TERM, writes `got-TERM` and exits; without a handler PID 1 of a pid
/// namespace would ignore TERM, so the file proves the signal arrived.
fn kill_with(args: Option<&str>, name: &str) {
    let c = Container::new(name, &Spec::new().sh("trap 'echo got-TERM; exit 0' TERM; echo ready; while :; do sleep 1 & wait $!; done"));
    c.create_start();
    c.wait_stdout("ready");
    c.kill(args).ok();
    c.wait_stdout("got-TERM");
    c.wait_status("stopped");
}

#[test]
fn kill_by_name() {
    kill_with(Some("TERM"), "killname");
}

#[test]
fn kill_by_name_with_sig_prefix() {
    kill_with(Some("SIGTERM"), "killsig");
}

#[test]
fn kill_by_number() {
    kill_with(Some("15"), "killnum");
}

#[test]
fn kill_defaults_to_sigterm() {
    kill_with(None, "killdefault");
}

#[test]
fn kill_with_unknown_signal_fails() {
    let c = Container::new("killbad", &Spec::new().sh("echo ready; exec sleep 1000"));
    c.create_start();
    c.kill(Some("SIGNOPE")).fails();
    assert_eq!(c.status(), "running");
}

#[test]
fn kill_of_created_container() {
    let c = Container::new("killcreated", &Spec::new().sh("echo ready; exec sleep 1000"));
    c.create();
    let pid = c.pid();
    c.kill(Some("KILL")).ok();
    c.wait_status("stopped");
    assert!(!alive(pid));
    assert!(!c.stdout().contains("ready"));
}

#[test]
fn kill_of_unknown_container_fails() {
    let c = Container::new("killunknown", &Spec::new());
    c.kill(Some("KILL")).fails();
}

#[test]
fn kill_all_kills_every_process() {
    let c = Container::new("killall", &Spec::new().sh("sleep 1000 | sleep 1000 | { echo ready; sleep 1000; }"));
    c.create_start();
    c.wait_stdout("ready");
    let cg = cgroup_dir_of(c.pid());
    let procs = |cg: &std::path::Path| -> Vec<i32> {
        std::fs::read_to_string(cg.join("cgroup.procs")).unwrap_or_default().lines().map(|l| l.parse().unwrap()).collect()
    };
    let before = procs(&cg);
    assert!(before.len() >= 3, "{before:?}");
    c.rt.run(&["kill", "--all", &c.id, "KILL"]).ok();
    c.wait_status("stopped");
    let t0 = std::time::Instant::now();
    while before.iter().any(|&p| alive(p)) {
        assert!(t0.elapsed().as_secs() < 30, "processes survived kill --all: {:?}", procs(&cg));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn delete_force_kills_every_process() {
    let c = Container::new("delall", &Spec::new().sh("sleep 1000 | sleep 1000 | { echo ready; sleep 1000; }"));
    c.create_start();
    c.wait_stdout("ready");
    let cg = cgroup_dir_of(c.pid());
    let before: Vec<i32> = std::fs::read_to_string(cg.join("cgroup.procs")).unwrap().lines().map(|l| l.parse().unwrap()).collect();
    c.delete(true).ok();
    assert!(before.iter().all(|&p| !alive(p)), "processes survived delete --force");
    assert!(!cg.exists());
}

/// The SigIgn mask of `pid`, from /proc/PID/status.
fn ignored_signals(status: &str) -> u64 {
    let hex = status.lines().find_map(|l| l.strip_prefix("SigIgn:")).unwrap_or_default();
    u64::from_str_radix(hex.trim(), 16).unwrap()
}

/// brig ignores SIGPIPE (a dead reader on a pipe is an EPIPE error that goes
/// through its cleanup, not a silent death), and its container's process
/// does not inherit that: PID 1 (a shell, which ignores a few signals of its
/// own) does not ignore SIGPIPE.
#[test]
fn run_ignores_sigpipe_and_pid1_does_not() {
    let pipe_bit = 1u64 << (Signal::SIGPIPE as i32 - 1);
    let c = Container::new("sigpipe", &Spec::new().sh("grep SigIgn /proc/1/status; echo ready; while :; do sleep 1 & wait $!; done"));
    let mut run = c.spawn_run(&[]);
    run.wait_stdout("ready");
    let brig = std::fs::read_to_string(format!("/proc/{}/status", run.child.id())).unwrap();
    let pid1 = run.stdout_now();
    kill(Pid::from_raw(run.child.id() as i32), Signal::SIGKILL).unwrap();
    run.wait_timeout(std::time::Duration::from_secs(20));
    c.rt.run(&["delete", "--force", &c.id]).ok();
    assert_ne!(ignored_signals(&brig) & pipe_bit, 0, "brig does not ignore SIGPIPE: {brig}");
    assert_eq!(ignored_signals(&pid1) & pipe_bit, 0, "PID 1 inherited an ignored SIGPIPE: {pid1}");
}
