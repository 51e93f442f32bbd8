//! Terminals: the pty master sent over --console-socket, consoleSize, and `run`
//! relaying its own terminal.

use integration_tests::console::read_until;
use integration_tests::{Container, Spec};
use std::time::{Duration, Instant};

fn tty_spec(script: &str) -> Spec {
    Spec::new().terminal(true).sh(script)
}

#[test]
fn console_socket_receives_the_pty_master() {
    let c = Container::new("console", &tty_spec("tty; stat -c %F /dev/console; echo console-done; sleep 1"));
    let mut master = integration_tests::console::start_with_console(&c);
    let out = read_until(&mut master, "console-done");
    assert!(out.contains("/dev/pts/"), "{out:?}");
    assert!(out.contains("character special file"), "no /dev/console: {out:?}");
}

#[test]
fn console_input_reaches_the_container() {
    let c = Container::new("consolein", &tty_spec("read line; echo \"got:$line\"; sleep 1"));
    let mut master = integration_tests::console::start_with_console(&c);
    std::io::Write::write_all(&mut master, b"typed\n").unwrap();
    let out = read_until(&mut master, "got:typed");
    assert!(out.contains("got:typed"), "{out:?}");
}

#[test]
fn console_size_is_applied() {
    let spec = tty_spec("stty size; echo size-done; sleep 1")
        .set("/process/consoleSize", serde_json::json!({"height": 33, "width": 111}));
    let c = Container::new("consolesize", &spec);
    let mut master = integration_tests::console::start_with_console(&c);
    let out = read_until(&mut master, "size-done");
    assert!(out.contains("33 111"), "{out:?}");
}

#[test]
fn terminal_create_without_console_socket_fails() {
    let c = Container::new("noconsole", &tty_spec("true"));
    c.create_with(&[]).fails();
    assert!(!c.state_dir().exists());
}

#[test]
fn run_in_foreground_relays_its_terminal_and_size() {
    use nix::pty::{openpty, Winsize};
    let ws = Winsize { ws_row: 41, ws_col: 123, ws_xpixel: 0, ws_ypixel: 0 };
    let pty = openpty(Some(&ws), None).unwrap();
    // openpty does not set CLOEXEC: keep these out of other tests' runtimes
    for fd in [&pty.master, &pty.slave] {
        nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC)).unwrap();
    }
    let c = Container::new("runtty", &tty_spec("tty; stty size; echo relay-done"));
    let mut cmd = c.run_cmd(&[]);
    let slave = std::fs::File::from(pty.slave);
    cmd.stdin(slave.try_clone().unwrap()).stdout(slave.try_clone().unwrap()).stderr(slave.try_clone().unwrap());
    // SAFETY: setsid and ioctl(TIOCSCTTY) are async-signal-safe.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    drop(slave);
    let mut master = std::fs::File::from(pty.master);
    let out = read_until(&mut master, "relay-done");
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(t0.elapsed().as_secs() < 30, "run did not exit: {out:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(out.contains("/dev/pts/"), "{out:?}");
    assert!(out.contains("41 123"), "window size not passed on: {out:?}");
}
