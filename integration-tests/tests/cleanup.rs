//! A create that fails leaves nothing behind: no state dir, cgroup, mount, process.

use integration_tests::host::cgroup_dir_for;
use integration_tests::{sh_hook, Container, Spec};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

fn cg(name: &str) -> String {
    format!("/brig-it-{name}-{}", std::process::id())
}

/// Makes a container with `spec` (plus a known cgroupsPath), expects create to fail,
/// and checks that nothing is left.
fn failing_create(name: &str, spec: Spec) -> integration_tests::Out {
    let path = cg(name);
    let c = Container::new(name, &spec.cgroups_path(&path));
    let out = c.create_with(&[]).fails();
    c.assert_nothing_left(Some(&cgroup_dir_for(&path)));
    out
}

#[test]
fn bad_json_leaves_nothing() {
    let path = cg("badjson");
    let c = Container::new("badjson", &Spec::new().cgroups_path(&path));
    std::fs::write(c.path("config.json"), "{ not json").unwrap();
    c.create_with(&[]).fails();
    c.assert_nothing_left(Some(&cgroup_dir_for(&path)));
}

#[test]
fn invalid_field_leaves_nothing() {
    failing_create("badfield", Spec::new().set("/process/user/uid", serde_json::json!("root")));
}

#[test]
fn missing_config_leaves_nothing() {
    let c = Container::new("noconfig", &Spec::new());
    std::fs::remove_file(c.path("config.json")).unwrap();
    c.create_with(&[]).fails();
    c.assert_nothing_left(None);
}

#[test]
fn missing_cwd_leaves_nothing() {
    failing_create("nocwd", Spec::new().cwd("/no/such/cwd"));
}

#[test]
fn missing_executable_fails_run_and_leaves_nothing() {
    let path = cg("noexe");
    let c = Container::new("noexe", &Spec::new().args(&["/no/such/program"]).cgroups_path(&path));
    let out = c.run(&[]);
    assert!(matches!(out.code(), Some(c) if c != 0), "{out}");
    c.assert_nothing_left(Some(&cgroup_dir_for(&path)));
}

#[test]
fn missing_rootfs_leaves_nothing() {
    failing_create("norootfs", Spec::new().set("/root/path", serde_json::json!("no-such-rootfs")));
}

#[test]
fn failing_hook_leaves_nothing() {
    failing_create("hookfail", Spec::new().hook("createRuntime", sh_hook("exit 1")));
}

#[test]
fn bad_bind_mount_leaves_nothing() {
    failing_create("badbind", Spec::new().bind(std::path::Path::new("/no/such/source"), "/data", &[]));
}

#[test]
fn bad_mount_type_leaves_nothing() {
    let m = serde_json::json!({"destination": "/x", "type": "no-such-fs", "source": "none"});
    failing_create("badfstype", Spec::new().mount(m));
}

#[test]
fn killed_create_is_cleaned_by_delete_force() {
    let path = cg("killedcreate");
    let c = Container::new("killedcreate", &Spec::new());
    let marker = c.path("hook-pid");
    // the hook records its pid and blocks; the runtime is killed while waiting on it
    let hook = sh_hook(&format!("echo $$ > {}.tmp && mv {0}.tmp {0}; exec sleep 1000", marker.display()));
    c.write_spec(&Spec::new().hook("createRuntime", hook).cgroups_path(&path));
    let mut cmd = c.create_cmd(&[]);
    cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    let mut create = cmd.spawn().unwrap();
    let t0 = std::time::Instant::now();
    while !marker.exists() {
        assert!(t0.elapsed().as_secs() < 60, "hook never ran");
        assert!(create.try_wait().unwrap().is_none(), "create exited before its hook ran");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    create.kill().unwrap();
    create.wait().unwrap();
    let hook_pid: i32 = std::fs::read_to_string(&marker).unwrap().trim().parse().unwrap();
    let _ = kill(Pid::from_raw(hook_pid), Signal::SIGKILL); // our own (grand)child
    c.delete(true).ok();
    let t0 = std::time::Instant::now();
    while integration_tests::host::alive(hook_pid) && t0.elapsed().as_secs() < 10 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    c.assert_nothing_left(Some(&cgroup_dir_for(&path)));
}
