//! End to end through `Container::create` + `start` (root only): the
//! profile is compiled in the parent, cached in the state root, installed
//! by the init at the right moment, and the NOTIFY listener fd reaches the
//! agent at listenerPath with the container process state.
//!
//! One test function on purpose: create clones from the calling thread,
//! and fewer harness threads mean fewer locks a clone could inherit.

#![allow(clippy::unwrap_used)] // a test: a failed step should panic with its error

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use libcontainer::{Container, CreateOptions};
use nix::sys::wait::{waitpid, WaitStatus};

fn scratch(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("brig-e2e-seccomp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// A bundle whose process tries `mkdir /d` and writes busybox's message to
/// /result.
fn bundle(dir: &Path, seccomp: &str, nnp: bool) -> PathBuf {
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).unwrap();
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).unwrap();
    // Every capability this test process has: the capability code on this
    // branch cannot shrink the sets yet (it sets permitted before
    // effective), and seccomp is what is under test here.
    let have = caps::read(None, caps::CapSet::Permitted).unwrap();
    let all: Vec<String> = have.iter().map(|c| format!("{c:?}")).collect();
    let caps = serde_json::to_string(&all).unwrap();
    let config = format!(
        r#"{{"ociVersion":"1.2.1","root":{{"path":"rootfs"}},
        "process":{{"user":{{"uid":0,"gid":0}},"cwd":"/","noNewPrivileges":{nnp},
          "capabilities":{{"bounding":{caps},"effective":{caps},"permitted":{caps}}},
          "args":["/bin/busybox","sh","-c","/bin/busybox mkdir /d 2>/result; echo done >>/result"]}},
        "linux":{{"namespaces":[{{"type":"mount"}},{{"type":"pid"}}],"seccomp":{seccomp}}}}}"#
    );
    std::fs::write(dir.join("config.json"), config).unwrap();
    dir.to_path_buf()
}

fn run(root: &Path, id: &str, bundle: &Path) -> String {
    let opts = CreateOptions::new(root, id, bundle);
    let mut c = Container::create(&opts).unwrap_or_else(|e| panic!("create {id}: {e}"));
    c.start().unwrap_or_else(|e| panic!("start {id}: {e}"));
    match waitpid(c.pid(), None).unwrap() {
        WaitStatus::Exited(_, 0) => {}
        other => panic!("{id}: container ended with {other:?}"),
    }
    c.delete(true).unwrap();
    std::fs::read_to_string(bundle.join("rootfs/result")).unwrap()
}

/// A seccomp agent in a separate process (python), so that this process
/// stays single-threaded apart from the harness: it accepts one
/// connection, records the state JSON and whether an fd came with it, and
/// closes the fd - after which notified calls fail with ENOSYS.
fn agent(sock: &Path, out: &Path) -> Option<Child> {
    let script = r#"
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
s.settimeout(20)  # no connection: exit without a report, so the test fails
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 65536, 4)
while True:
    more = c.recv(65536)
    if not more: break
    msg += more
doc = json.loads(msg)
doc["received_fds"] = len(fds)
open(sys.argv[2], "w").write(json.dumps(doc))
"#;
    let _ = std::fs::remove_file(sock);
    let child = Command::new("python3").args(["-c", script]).arg(sock).arg(out).spawn().ok()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sock.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    Some(child)
}

#[test]
fn seccomp_through_create_and_start() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("needs root: skipped");
        return;
    }
    let root = scratch("root");
    let errno = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":122}]}"#;
    for nnp in [false, true] {
        let dir = scratch(&format!("errno-{nnp}"));
        let out = run(&root, &format!("errno-{nnp}"), &bundle(&dir, errno, nnp));
        assert!(out.contains("quota exceeded") && out.contains("done"), "nnp={nnp}: {out:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
    // Both creates used one cache entry.
    assert_eq!(std::fs::read_dir(root.join(".seccomp@cache")).unwrap().count(), 1);

    let dir = scratch("notify");
    let sock = dir.join("agent.sock");
    let report = dir.join("agent.json");
    let Some(mut py) = agent(&sock, &report) else {
        eprintln!("python3 not found: NOTIFY part skipped");
        return;
    };
    let notify = format!(
        r#"{{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"{}","listenerMetadata":"brig-test",
        "syscalls":[{{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_NOTIFY"}}]}}"#,
        sock.display()
    );
    for nnp in [false, true] {
        let out = run(&root, &format!("notify-{nnp}"), &bundle(&dir, &notify, nnp));
        if !nnp {
            py.wait().unwrap();
            let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
            assert_eq!(doc["fds"], serde_json::json!(["seccompFd"]), "{doc}");
            assert_eq!(doc["received_fds"], 1, "{doc}");
            assert_eq!(doc["metadata"], "brig-test");
            assert_eq!(doc["state"]["id"], "notify-false");
            assert_eq!(doc["state"]["status"], "creating");
            assert!(doc["pid"].as_i64().unwrap_or(0) > 0);
            py = agent(&sock, &report).unwrap();
        }
        // The agent closed the listener: the notified mkdir gets ENOSYS.
        assert!(out.contains("not implemented") && out.contains("done"), "nnp={nnp}: {out:?}");
        let _ = std::fs::remove_file(dir.join("rootfs/result"));
    }
    let _ = py.wait();
    exec_listener(&root, &dir, &sock, &report, &notify);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&root).unwrap();
}

/// An exec'd process under a NOTIFY profile: its own listener reaches the
/// agent too, with the running container's state and the exec'd pid.
fn exec_listener(root: &Path, dir: &Path, sock: &Path, report: &Path, notify: &str) {
    let bundle = bundle(dir, notify, false);
    let cfg_path = bundle.join("config.json");
    let mut cfg: serde_json::Value = serde_json::from_slice(&std::fs::read(&cfg_path).unwrap()).unwrap();
    cfg["process"]["args"] = serde_json::json!(["/bin/busybox", "sleep", "100"]);
    std::fs::write(&cfg_path, cfg.to_string()).unwrap();
    // One agent for the init's listener, a second for the exec's.
    let mut py = agent(sock, report).unwrap();
    let mut c = Container::create(&CreateOptions::new(root, "notify-exec", &bundle)).unwrap();
    c.start().unwrap();
    py.wait().unwrap();
    std::fs::remove_file(report).unwrap();
    let mut py = agent(sock, report).unwrap();
    let mut process: oci_spec::runtime::Process = serde_json::from_value(cfg["process"].clone()).unwrap();
    process.set_args(Some(
        ["/bin/busybox", "sh", "-c", "/bin/busybox mkdir /e 2>/exec-result; echo done >>/exec-result"]
            .map(String::from)
            .to_vec(),
    ));
    let p = c.exec(&libcontainer::ExecOptions::new(process)).unwrap();
    assert_eq!(waitpid(p.pid, None).unwrap(), WaitStatus::Exited(p.pid, 0));
    py.wait().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    assert_eq!(doc["received_fds"], 1, "{doc}");
    assert_eq!(doc["pid"], p.pid.as_raw(), "{doc}");
    assert_eq!(doc["state"]["id"], "notify-exec");
    assert_eq!(doc["state"]["status"], "running");
    let out = std::fs::read_to_string(bundle.join("rootfs/exec-result")).unwrap();
    assert!(out.contains("not implemented") && out.contains("done"), "exec: {out:?}");
    c.delete(true).unwrap();
}
