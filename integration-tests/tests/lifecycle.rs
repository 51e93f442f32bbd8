//! create / start / run / state / delete, as an engine drives them.

use integration_tests::host::{alive, cgroup_dir_of};
use integration_tests::{Container, Spec};

fn sleeper() -> Spec {
    Spec::new().sh("echo ready; exec sleep 1000")
}

#[test]
fn create_reports_created_with_pid_and_writes_pid_file() {
    let c = Container::new("created", &sleeper());
    c.create();
    let st = c.state();
    assert_eq!(st["status"], "created", "{st}");
    let pid = st["pid"].as_i64().unwrap() as i32;
    assert!(pid > 0 && alive(pid), "pid {pid} not alive");
    let pid_file = std::fs::read_to_string(c.pid_file()).unwrap();
    assert_eq!(pid_file.trim(), pid.to_string());
    // the user's program has not run yet
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!c.stdout().contains("ready"), "process ran before start: {}", c.stdout());
}

#[test]
fn start_makes_container_running() {
    let c = Container::new("start", &sleeper());
    c.create();
    c.start().ok();
    c.wait_stdout("ready");
    assert_eq!(c.status(), "running");
}

#[test]
fn start_of_running_container_fails() {
    let c = Container::new("start2", &sleeper());
    c.create_start();
    c.start().fails();
    assert_eq!(c.status(), "running");
}

#[test]
fn start_of_unknown_container_fails() {
    let c = Container::new("nostart", &sleeper());
    c.start().fails();
}

#[test]
fn create_of_existing_id_fails() {
    let c = Container::new("dup", &sleeper());
    c.create();
    c.create_with(&[]).fails();
    assert_eq!(c.status(), "created");
}

#[test]
fn init_is_pid1_and_is_the_users_program() {
    let c = Container::new("pid1", &Spec::new());
    let p = c.probe();
    assert_eq!(p.pid(), 1);
    assert_eq!(p.cmdline(), "/bin/sh /probe.sh");
    assert_eq!(p.status("Name"), "sh");
}

#[test]
fn host_pid_of_state_is_the_users_program() {
    let c = Container::new("hostpid", &sleeper());
    c.create_start();
    c.wait_stdout("ready");
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", c.pid())).unwrap();
    assert_eq!(String::from_utf8_lossy(&cmdline), "sleep\x001000\x00");
}

#[test]
fn container_is_stopped_after_its_process_exits() {
    let c = Container::new("stops", &Spec::new().sh("echo bye"));
    c.create_start();
    c.wait_status("stopped");
    assert!(c.stdout().contains("bye"));
}

#[test]
fn run_exits_with_the_containers_code() {
    let c = Container::new("exit3", &Spec::new().sh("exit 3"));
    assert_eq!(c.run(&[]).code(), Some(3));
}

#[test]
fn run_exits_0_on_success() {
    let c = Container::new("exit0", &Spec::new().args(&["/bin/true"]));
    c.run(&[]).ok();
}

#[test]
fn run_exits_128_plus_signal_when_killed() {
    let c = Container::new("sigkill", &sleeper());
    let mut run = c.spawn_run(&[]);
    run.wait_stdout("ready");
    c.kill(Some("KILL")).ok();
    assert_eq!(run.wait().code(), Some(128 + 9));
}

#[test]
fn run_removes_the_container() {
    let c = Container::new("rm", &Spec::new().args(&["/bin/true"]));
    c.run(&[]).ok();
    c.rt.run(&["state", &c.id]).fails();
    assert!(!c.state_dir().exists());
}

#[test]
fn run_keep_leaves_a_stopped_container() {
    let c = Container::new("keep", &Spec::new().args(&["/bin/true"]));
    c.run(&["--keep"]).ok();
    assert_eq!(c.status(), "stopped");
    c.delete(false).ok();
    assert!(!c.state_dir().exists());
}

#[test]
fn run_does_not_hang_when_the_container_exits_instantly() {
    for _ in 0..10 {
        let c = Container::new("instant", &Spec::new().args(&["/bin/true"]));
        c.spawn_run(&[]).wait_timeout(std::time::Duration::from_secs(30));
    }
}

#[test]
fn run_detach_leaves_it_running() {
    let c = Container::new("detach", &sleeper());
    c.run(&["-d"]).ok();
    assert_eq!(c.status(), "running");
    assert!(alive(c.pid()));
}

#[test]
fn state_has_runcs_fields() {
    let c = Container::new("statefields", &sleeper().set("/annotations", serde_json::json!({"org.test": "yes"})));
    c.create();
    let st = c.state();
    for f in ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"] {
        assert!(st.get(f).is_some(), "state lacks {f}: {st}");
    }
    assert_eq!(st["id"], c.id.as_str());
    assert_eq!(st["bundle"], c.bundle().to_str().unwrap());
    assert_eq!(st["rootfs"], c.rootfs().to_str().unwrap());
    assert!(st["ociVersion"].as_str().unwrap().starts_with("1."));
    assert_eq!(st["annotations"]["org.test"], "yes");
    let created = st["created"].as_str().unwrap();
    assert!(created.starts_with("20") && created.contains('T'), "created not RFC 3339: {created}");
}

#[test]
fn state_of_stopped_container_has_pid_0() {
    let c = Container::new("stoppedpid", &Spec::new().args(&["/bin/true"]));
    c.create_start();
    c.wait_status("stopped");
    assert_eq!(c.state()["pid"], 0);
}

#[test]
fn state_of_unknown_container_fails() {
    let c = Container::new("nostate", &sleeper());
    c.rt.run(&["state", &c.id]).fails();
}

#[test]
fn delete_force_kills_a_running_container() {
    let c = Container::new("delforce", &sleeper());
    c.create_start();
    let pid = c.pid();
    c.delete(true).ok();
    assert!(!alive(pid), "pid {pid} survived delete --force");
    assert!(!c.state_dir().exists());
    c.rt.run(&["state", &c.id]).fails();
}

#[test]
fn delete_force_of_created_container() {
    let c = Container::new("delcreated", &sleeper());
    c.create();
    let pid = c.pid();
    c.delete(true).ok();
    assert!(!alive(pid));
    assert!(!c.state_dir().exists());
}

#[test]
fn delete_force_of_unknown_id_succeeds() {
    let c = Container::new("delunknown", &sleeper());
    c.delete(true).ok();
}

#[test]
fn delete_of_unknown_id_fails() {
    let c = Container::new("delunknown2", &sleeper());
    c.delete(false).fails();
}

#[test]
fn delete_of_running_container_without_force_fails() {
    let c = Container::new("delrunning", &sleeper());
    c.create_start();
    c.delete(false).fails();
    assert_eq!(c.status(), "running");
}

#[test]
fn delete_of_stopped_container_removes_it() {
    let c = Container::new("delstopped", &Spec::new().args(&["/bin/true"]));
    c.create_start();
    c.wait_status("stopped");
    c.delete(false).ok();
    assert!(!c.state_dir().exists());
}

#[test]
fn cgroup_exists_while_running_and_is_removed_by_delete() {
    let c = Container::new("cgroup", &sleeper());
    c.create_start();
    let pid = c.pid();
    let dir = cgroup_dir_of(pid);
    assert_ne!(dir, integration_tests::host::unified_root(), "container left in the root cgroup");
    let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap();
    assert!(procs.lines().any(|l| l == pid.to_string()), "{pid} not in {}", dir.display());
    c.delete(true).ok();
    assert!(!dir.exists(), "{} left after delete", dir.display());
}

#[test]
fn cgroups_path_is_used() {
    let id_path = format!("/brig-it-cgpath-{}", std::process::id());
    let c = Container::new("cgpath", &sleeper().cgroups_path(&id_path));
    c.create();
    let dir = integration_tests::host::cgroup_dir_for(&id_path);
    assert_eq!(cgroup_dir_of(c.pid()), dir);
    c.delete(true).ok();
    assert!(!dir.exists());
}

#[test]
fn concurrent_creates_of_one_id_make_one_container() {
    let rt = integration_tests::Runtime::new();
    let c = rt.container("race", &sleeper());
    let b = c.bundle().to_str().unwrap().to_string();
    let pid_file = c.pid_file();
    let p = pid_file.to_str().unwrap();
    let spawned: Vec<_> = (0..4).map(|_| rt.spawn(rt.cmd(&["create", "--bundle", &b, "--pid-file", p, &c.id]))).collect();
    let outs: Vec<_> = spawned.into_iter().map(|s| s.wait()).collect();
    // a runtime without a lock may lose the winner's state: kill its init ourselves
    let _reaper = KillOnDrop(std::fs::read_to_string(&pid_file).ok().and_then(|s| s.trim().parse().ok()));
    let ok = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(ok, 1, "{outs:#?}");
    assert_eq!(c.status(), "created");
    let pid = c.pid();
    c.delete(true).ok();
    assert!(!alive(pid));
    assert!(!c.state_dir().exists());
}

#[test]
fn different_ids_run_in_parallel() {
    let rt = integration_tests::Runtime::new();
    let cs: Vec<_> = (0..4).map(|i| rt.container(&format!("par{i}"), &sleeper())).collect();
    std::thread::scope(|s| {
        for c in &cs {
            s.spawn(|| c.run(&["-d"]).ok());
        }
    });
    for c in &cs {
        assert_eq!(c.status(), "running");
    }
    let q = rt.run(&["list", "-q"]).ok().stdout;
    assert_eq!(q.lines().count(), 4, "{q}");
}

/// SIGKILLs a pid (a container init this test started) when dropped.
struct KillOnDrop(Option<i32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(pid) = self.0.filter(|&p| p > 0 && alive(p)) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
    }
}
