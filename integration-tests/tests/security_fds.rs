//! CVE-2024-21626 class: no fd of brig's reaches the container, and a
//! process.cwd of /proc/self/fd/N can never put the process on a directory
//! brig holds open (the host's /proc, a cgroup directory, the state dir).

use integration_tests::runtime::Spawned;
use integration_tests::{leak_fds, Container, Probe, Spec};

/// The fd numbers in an `ls -l /proc/PID/fd` listing.
fn fd_numbers(listing: &str) -> Vec<u32> {
    let mut v: Vec<u32> = listing
        .lines()
        .filter_map(|l| l.split_once(" -> ")?.0.split_whitespace().last()?.parse().ok())
        .collect();
    v.sort();
    v
}

/// At create, fds the caller leaks to brig do not reach PID 1; at exec,
/// neither they nor any of brig's own reach the new process, except the
/// --preserve-fds ones.
#[test]
fn container_processes_hold_only_stdio_and_preserved_fds() {
    let c = Container::new("fds21626", &Spec::new().sh("exec sleep 1000"));
    let mut create = c.create_cmd(&[]);
    let _leaked = leak_fds(&mut create, &[3, 4, 7]);
    Spawned::spawn_to(create, c.stdout_path(), c.path("create.err")).wait().ok();
    c.start().ok();
    c.wait_status("running");
    let pid1 = c.rt.run(&["exec", &c.id, "ls", "-l", "/proc/1/fd"]).ok();
    assert_eq!(fd_numbers(&pid1.stdout), [0, 1, 2], "{pid1}");

    let mut exec = c.rt.cmd(&["exec", &c.id, "/bin/sh", "/probe.sh"]);
    let _leaked = leak_fds(&mut exec, &[3, 4, 7]);
    let out = c.rt.spawn(exec).wait().ok();
    assert_eq!(Probe::parse(&out.stdout).fd_numbers(), [0, 1, 2], "{out}");

    let mut exec = c.rt.cmd(&["exec", "--preserve-fds", "2", &c.id, "/bin/sh", "/probe.sh"]);
    let _leaked = leak_fds(&mut exec, &[3, 4, 5]);
    let out = c.rt.spawn(exec).wait().ok();
    let p = Probe::parse(&out.stdout);
    assert_eq!(p.fd_numbers(), [0, 1, 2, 3, 4], "{out}");
    assert!(p.fds()[4].1.ends_with("/preserved-4"), "{:?}", p.fds());
}

/// The script run with a suspicious cwd: it says where it is. A process
/// started outside the container's root would see the host's directory.
const WHERE: &str = "echo ran; ls -la; readlink /proc/$$/cwd";

#[track_caller]
fn assert_refused(out: &integration_tests::Out, n: u32) {
    assert!(!out.stdout.contains("ran"), "cwd /proc/self/fd/{n}: the process ran, maybe outside the container: {out}");
    assert_ne!(out.code(), Some(0), "{out}");
    assert!(out.stderr.contains("process.cwd") || out.stderr.contains("/proc/self/fd"), "the error names the cwd: {out}");
}

/// process.cwd = /proc/self/fd/N for every N brig could hold during setup:
/// create fails cleanly, the process never runs.
#[test]
fn cwd_through_proc_self_fd_fails_at_create() {
    for n in 3..=10 {
        let cwd = format!("/proc/self/fd/{n}");
        let c = Container::new("cwdfd", &Spec::new().cwd(&cwd).sh(WHERE));
        let out = c.run(&[]);
        assert_refused(&out, n);
        assert!(!c.state_dir().exists(), "create left state behind for cwd {cwd}");
    }
}

/// The same through `exec --cwd` (the exec child holds the container's
/// cgroup directory open while it sets up).
#[test]
fn exec_cwd_through_proc_self_fd_fails() {
    let c = Container::new("execcwdfd", &Spec::new().sh("exec sleep 1000"));
    c.create_start();
    for n in 3..=10 {
        let cwd = format!("/proc/self/fd/{n}");
        let out = c.rt.run(&["exec", "--cwd", &cwd, &c.id, "/bin/sh", "-c", WHERE]);
        assert_refused(&out, n);
    }
    // The container is fine afterwards, and an ordinary cwd still works.
    let out = c.rt.run(&["exec", "--cwd", "/tmp", &c.id, "/bin/sh", "-c", "pwd"]).ok();
    assert_eq!(out.stdout.trim(), "/tmp");
}

/// brig started with its stdin closed (an engine or a shell may do that):
/// before opening anything, brig puts /dev/null on the closed stdio fd, so
/// none of its own files lands on fd 0 and is handed to the container.
#[test]
fn closed_stdin_reaches_the_container_as_dev_null() {
    let c = Container::new("stdin-closed", &Spec::new().sh("stat -L -c 'stdin=%t:%T' /proc/self/fd/0"));
    let run = c.run_cmd(&[]);
    let mut sh = std::process::Command::new("/bin/sh");
    sh.arg("-c").arg("exec \"$0\" \"$@\" <&-").arg(run.get_program()).args(run.get_args());
    let out = c.rt.spawn(sh).wait().ok();
    // /dev/null is character device 1:3 (stat prints them in hex)
    assert!(out.stdout.contains("stdin=1:3"), "{out}");
}
