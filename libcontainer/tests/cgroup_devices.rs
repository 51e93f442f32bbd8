//! The device program on the real kernel: a shell moved into a cgroup with
//! runc's default allow-list can use /dev/null but not /dev/mem, and a live
//! update (BPF_F_REPLACE) changes that. Needs root and a cgroup2 mount;
//! skipped otherwise.

use std::path::PathBuf;
use std::process::Command;

use libcontainer::cgroups::{devices, unified_mount, Cgroup};
use oci_spec::runtime::LinuxDeviceCgroup;

fn setup(name: &str) -> Option<Cgroup> {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root");
        return None;
    }
    let mount = unified_mount().ok()?;
    let cg = Cgroup::new(mount.join(format!("brig-test-{name}-{}", std::process::id())));
    cg.create().ok()?;
    Some(cg)
}

/// Runs `script` in a shell that first moves itself into `cg`.
fn sh_in(cg: &Cgroup, script: &str) -> (bool, String) {
    let procs: PathBuf = cg.dir().join("cgroup.procs");
    let full = format!("echo $$ > {} && {{ {script}; }}", procs.display());
    let out = Command::new("/bin/sh").arg("-c").arg(full).output().expect("sh");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn default_allow_list_and_live_update() {
    let Some(cg) = setup("devs") else { return };
    let result = std::panic::catch_unwind(|| {
        let tmp = std::env::temp_dir().join(format!("brig-devs-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let node = tmp.join("kmsg").display().to_string();
        devices::attach(cg.dir(), &devices::compile(&[], &[]).unwrap()).unwrap();
        assert_eq!(devices::attached(cg.dir()).unwrap(), 1);
        let (ok, err) = sh_in(&cg, "head -c1 /dev/null");
        assert!(ok, "/dev/null must be allowed: {err}");
        // mknod of any node is allowed (runc's "m" defaults); opening c 1:11 is not.
        let (ok, err) = sh_in(&cg, &format!("mknod {node} c 1 11"));
        assert!(ok, "mknod allowed: {err}");
        let (ok, err) = sh_in(&cg, &format!(": < {node}"));
        assert!(!ok && err.contains("not permitted"), "c 1:11 must be denied: {err}");
        // Allow c 1:11 r live; the old program is replaced, not stacked.
        let allow: LinuxDeviceCgroup =
            serde_json::from_str(r#"{"allow":true,"type":"c","major":1,"minor":11,"access":"r"}"#).unwrap();
        devices::attach(cg.dir(), &devices::compile(&[allow], &[]).unwrap()).unwrap();
        assert_eq!(devices::attached(cg.dir()).unwrap(), 1, "replaced, not stacked");
        let (ok, err) = sh_in(&cg, &format!(": < {node}"));
        assert!(ok, "c 1:11 read now allowed: {err}");
        let (ok, err) = sh_in(&cg, &format!(": > {node}"));
        assert!(!ok && err.contains("not permitted"), "c 1:11 write still denied: {err}");
        let _ = std::fs::remove_dir_all(&tmp);
    });
    let _ = cg.remove();
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}
