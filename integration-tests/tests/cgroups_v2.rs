//! cgroup v2 limits on the real brig binary.
//!
//! - `vm_cgroup_v2_limits` runs `integration-tests/vm/cgroups_v2.sh`, which
//!   prepares a busybox rootfs here and then runs every check in ONE pure
//!   cgroup v2 guest (`../shared/vm/vm-run`): OOM kill + events, pids, cpu.max
//!   throttling, cpuset, io files, device eBPF, update, pause/resume, events
//!   --stats. About 2 minutes under TCG.
//! - `missing_controller_is_a_clear_error` runs on this (hybrid) host, whose
//!   cgroup2 hierarchy has no memory controller.
//!
//! Both need root; the VM test also vm-run, runc (for its default spec) and
//! jq. Missing prerequisites (or BRIG_SKIP_VM=1) skip the test with a message. The binary is
//! `BRIG_BIN`, or the newer of `target/release/brig` and `target/debug/brig`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

fn brig_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BRIG_BIN") {
        return Some(PathBuf::from(p));
    }
    // The newer of the release and debug builds, so a stale one is not tested.
    let ws = workspace();
    ["target/release/brig", "target/debug/brig"]
        .iter()
        .map(|p| ws.join(p))
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p)
}

fn have(cmd: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {cmd}")).output().is_ok_and(|o| o.status.success())
}

fn skip(why: &str) -> bool {
    eprintln!("skipped: {why}");
    true
}

fn prerequisites(tools: &[&str]) -> Option<PathBuf> {
    if !nix::unistd::geteuid().is_root() {
        skip("needs root");
        return None;
    }
    if let Some(t) = tools.iter().find(|t| !have(t)) {
        skip(&format!("{t} not found"));
        return None;
    }
    let bin = brig_bin();
    if bin.is_none() {
        skip("no brig binary: cargo build -p brig, or set BRIG_BIN");
    }
    bin
}

#[test]
fn vm_cgroup_v2_limits() {
    if std::env::var_os("BRIG_SKIP_VM").is_some() && skip("BRIG_SKIP_VM is set") {
        return;
    }
    // shared/ sits beside the checkout (CI, /work/main) or beside the
    // worktrees' parent (/work/wt/NAME).
    let vm_run = ["../shared/vm/vm-run", "../../shared/vm/vm-run"]
        .iter()
        .map(|p| workspace().join(p))
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("/work/shared/vm/vm-run"));
    if !vm_run.exists() && skip("vm-run not found") {
        return;
    }
    let Some(bin) = prerequisites(&["runc", "jq", "busybox"]) else { return };
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cgroups-v2-vm");
    let script = workspace().join("integration-tests/vm/cgroups_v2.sh");
    let out = Command::new(&script)
        .arg(&bin)
        .arg(&scratch)
        .env("VM_RUN", &vm_run)
        .output()
        .expect("run cgroups_v2.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("not ok")).collect();
    assert!(out.status.success() && failed.is_empty(), "VM checks failed ({:?}):\n{}\n{stderr}", out.status, failed.join("\n"));
    assert!(stdout.lines().filter(|l| l.starts_with("ok - ")).count() >= 40, "too few checks ran:\n{stdout}\n{stderr}");
    let _ = std::fs::remove_dir_all(&scratch);
}

#[test]
fn missing_controller_is_a_clear_error() {
    let Some(bin) = prerequisites(&["runc", "busybox"]) else { return };
    let controllers = std::fs::read_to_string("/sys/fs/cgroup/unified/cgroup.controllers")
        .or_else(|_| std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers"))
        .unwrap_or_default();
    if controllers.split_whitespace().any(|c| c == "memory") && skip("this host's cgroup2 has the memory controller") {
        return;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cg-hybrid-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("rootfs/bin")).unwrap();
    std::fs::copy("/bin/busybox", dir.join("rootfs/bin/true")).unwrap();
    assert!(Command::new("runc").arg("spec").current_dir(&dir).status().unwrap().success());
    let cfg_path = dir.join("config.json");
    let mut cfg: serde_json::Value = serde_json::from_slice(&std::fs::read(&cfg_path).unwrap()).unwrap();
    cfg["process"]["terminal"] = false.into();
    cfg["process"]["args"] = serde_json::json!(["/bin/true"]);
    cfg["linux"]["resources"]["memory"] = serde_json::json!({"limit": 33554432});
    cfg["linux"]["cgroupsPath"] = format!("/brig-test-hybrid-{}", std::process::id()).into();
    std::fs::write(&cfg_path, serde_json::to_vec(&cfg).unwrap()).unwrap();
    let root = dir.join("state");
    let out = Command::new(&bin)
        .arg("--root")
        .arg(&root)
        .args(["run", "-b"])
        .arg(&dir)
        .arg(format!("hybrid-{}", std::process::id()))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a memory limit cannot be enforced here");
    assert!(err.contains("memory controller") && err.contains("cgroup mode"), "unclear error: {err}");
    // nothing left behind: no state dir entry, no cgroup
    assert!(std::fs::read_dir(&root).map_or(true, |mut d| d.next().is_none()), "state left behind");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The engine e2e sandboxes bind the host's unified hierarchy over /sys/fs/cgroup in
/// a private mount namespace; docker.sh also mounts a fresh sysfs on /sys first and
/// moves a bind made before it onto /sys/fs/cgroup. mountinfo still lists the hidden
/// /sys/fs/cgroup/unified, and lists the moved bind before the sysfs that it sits
/// on. brig must use the visible cgroup2 mount: the container lands in
/// <unified>/<cgroupsPath>, not in a cgroup named "unified", nor fails.
#[test]
fn cgroup_is_found_when_unified_is_bound_over_sys_fs_cgroup() {
    let unified = Path::new("/sys/fs/cgroup/unified");
    if !unified.join("cgroup.procs").exists() && skip("not a hybrid host") {
        return;
    }
    let Some(_) = prerequisites(&["unshare", "busybox"]) else { return };
    let park = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cg-park-{}", std::process::id()));
    std::fs::create_dir_all(&park).unwrap();
    let bind = "mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup";
    let moved = format!(
        "mount --bind /sys/fs/cgroup/unified {p} && mount -t sysfs sysfs /sys && mount --move {p} /sys/fs/cgroup",
        p = park.display()
    );
    for (i, setup) in [bind, moved.as_str()].into_iter().enumerate() {
        let cg = format!("brig-it-bound-{}-{i}", std::process::id());
        let spec = integration_tests::Spec::new().cgroups_path(&format!("/{cg}")).sh("cat /proc/self/cgroup");
        let c = integration_tests::Container::new("cgbound", &spec);
        let run = c.run_cmd(&[]);
        let mut cmd = Command::new("unshare");
        // a new netns too, so that sysfs mounts afresh as in docker.sh
        cmd.args(["--mount", "--net", "--propagation", "private", "--", "sh", "-c"])
            .arg(format!("{setup} && exec \"$@\""))
            .arg("sh")
            .arg(run.get_program())
            .args(run.get_args());
        let out = c.rt.spawn(cmd).wait();
        let wrong = unified.join("unified");
        let _ = std::fs::remove_dir(wrong.join(&cg));
        let _ = std::fs::remove_dir(&wrong);
        let out = out.ok();
        assert!(out.stdout.lines().any(|l| l == format!("0::/{cg}")), "{setup}: container cgroup: {}", out.stdout);
        c.assert_nothing_left(Some(&unified.join(&cg)));
    }
    let _ = std::fs::remove_dir(&park);
}
