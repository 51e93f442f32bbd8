//! Runtime CVE classes, tested from inside an attacking container.

use integration_tests::host::{assert_untouched, tree_snapshot};
use integration_tests::{cap_mask, Container, Spec, TempDir};
use serde_json::json;
use std::path::Path;

/// CVE-2019-5736: while the init is parked in `created` (and while an exec
/// child sets up), the process runs brig's own binary. Another process in
/// the container must not be able to open it through /proc/PID/exe, or it
/// could overwrite brig on the host.
#[test]
fn brig_binary_is_unreachable_through_proc_exe() {
    let c = Container::new("cve5736", &Spec::new().sh("exec sleep 1000"));
    c.create();
    let script = "cat /proc/1/exe >/dev/null 2>&1 && echo read-ok || echo read-denied; \
                  (echo x >> /proc/1/exe) 2>/dev/null && echo write-ok || echo write-denied";
    let out = c.rt.run(&["exec", &c.id, "/bin/sh", "-c", script]).ok();
    assert!(out.stdout.contains("read-denied") && out.stdout.contains("write-denied"), "{}", out.stdout);
    // Once started, PID 1 is the user's program and is readable as usual:
    // the protection is not a blanket ban that would hide a broken test.
    c.start().ok();
    c.wait_status("running");
    let out = c.rt.run(&["exec", &c.id, "/bin/sh", "-c", "cat /proc/1/exe >/dev/null && echo read-ok"]).ok();
    assert!(out.stdout.contains("read-ok"), "{}", out.stdout);
}

/// Fake /proc files, as a container would plant them for brig: a sysctl,
/// oom_score_adj, a setgroups that says "deny", LSM attribute files.
fn plant_fake_proc(dir: &Path) {
    for d in ["sys/net/ipv4", "self/attr/apparmor", "thread-self/attr/apparmor"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::write(dir.join("sys/net/ipv4/ip_forward"), "0\n").unwrap();
    std::fs::write(dir.join("self/oom_score_adj"), "0\n").unwrap();
    std::fs::write(dir.join("self/setgroups"), "deny\n").unwrap();
    for f in ["self/attr/exec", "thread-self/attr/exec", "thread-self/attr/apparmor/exec"] {
        std::fs::write(dir.join(f), "").unwrap();
    }
}

/// A spec whose real procfs is at /realproc and whose /proc is `fake`
/// (None: no mount at /proc, the image's own /proc stays), asking for a
/// sysctl, an oom_score_adj and a supplementary group; the process prints
/// what the real procfs says about them.
fn spec_with_fake_proc(fake: Option<serde_json::Value>) -> Spec {
    let mut spec = Spec::new()
        .set("/linux/sysctl", json!({"net.ipv4.ip_forward": "1"}))
        .set("/process/oomScoreAdj", json!(123))
        .additional_gids(&[2001])
        .masked_paths(&[])
        .readonly_paths(&[])
        .sh("cat /realproc/sys/net/ipv4/ip_forward /realproc/1/oom_score_adj; grep '^Groups:' /realproc/1/status");
    let mounts = spec.0["mounts"].as_array_mut().unwrap();
    mounts[0]["destination"] = json!("/realproc");
    mounts.extend(fake);
    spec
}

#[track_caller]
fn assert_settings_landed(c: &Container) {
    let host_forward = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    let out = c.run(&[]).ok();
    let lines: Vec<&str> = out.stdout.lines().map(str::trim).collect();
    assert_eq!(lines, ["1", "123", "Groups:\t2001"], "{out}");
    assert_eq!(std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap(), host_forward);
}

/// CVE-2019-16884 / CVE-2023-27561 / CVE-2025-52881 class: /proc is a bind
/// of a host directory of fake files. brig's sysctl, oom_score_adj and
/// setgroups go to its own procfs: the host directory is untouched and the
/// real settings are made.
#[test]
fn fake_proc_bind_does_not_redirect_brig_writes() {
    let host = TempDir::new("fakeproc");
    plant_fake_proc(host.path());
    let before = tree_snapshot(host.path());
    let fake = json!({"destination": "/proc", "type": "bind", "source": host.path(), "options": ["rbind", "rw"]});
    let c = Container::new("fakeprocbind", &spec_with_fake_proc(Some(fake)));
    assert_settings_landed(&c);
    assert_untouched(host.path(), &before);
}

/// The same with the image's /proc a symlink to a directory of fake files.
#[test]
fn proc_symlink_to_fake_files_does_not_redirect_brig_writes() {
    let c = Container::new("fakeproclink", &spec_with_fake_proc(None));
    let fake = c.rootfs().join("fakeproc");
    plant_fake_proc(&fake);
    std::fs::remove_dir(c.rootfs().join("proc")).unwrap();
    std::os::unix::fs::symlink("fakeproc", c.rootfs().join("proc")).unwrap();
    let before = tree_snapshot(&fake);
    assert_settings_landed(&c);
    assert_untouched(&fake, &before);
}

/// And with a tmpfs mounted at /proc by the config, before the sysctls.
#[test]
fn tmpfs_over_proc_does_not_hide_brig_writes() {
    let fake = json!({"destination": "/proc", "type": "tmpfs", "source": "tmpfs"});
    let c = Container::new("fakeproctmpfs", &spec_with_fake_proc(Some(fake)));
    assert_settings_landed(&c);
}

/// The container's PID 1 and an exec'd process: inheritable and ambient
/// capability sets, from /proc/self/status.
fn inh_amb(out: &str) -> (u64, u64) {
    let p = integration_tests::Probe::parse(out);
    (p.caps("Inh"), p.caps("Amb"))
}

/// CVE-2022-29162: exec never grants inheritable (or ambient) capabilities
/// the process spec does not ask for, with or without --cap.
#[test]
fn exec_sets_no_inheritable_caps_beyond_the_spec() {
    // A config with no process.capabilities at all.
    let c = Container::new("capinh", &Spec::new().remove("/process/capabilities").sh("exec sleep 1000"));
    c.create_start();
    for extra in [&[][..], &["--cap", "CAP_SYS_ADMIN"][..]] {
        let mut args = vec!["exec"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[&c.id, "/bin/sh", "/probe.sh"]);
        let out = c.rt.run(&args).ok();
        assert_eq!(inh_amb(&out.stdout), (0, 0), "exec {extra:?}");
        let p = integration_tests::Probe::parse(&out.stdout);
        let admin = cap_mask(&["CAP_SYS_ADMIN"]);
        assert_eq!(p.caps("Prm") & admin != 0, !extra.is_empty(), "--cap reaches the permitted set: {extra:?}");
    }
    // A spec with one inheritable capability: exec --cap adds none there.
    let spec = Spec::new().caps("inheritable", &["CAP_KILL"]).sh("exec sleep 1000");
    let c = Container::new("capinh2", &spec);
    c.create_start();
    let out = c.rt.run(&["exec", "--cap", "CAP_SYS_ADMIN", &c.id, "/bin/sh", "/probe.sh"]).ok();
    assert_eq!(inh_amb(&out.stdout), (cap_mask(&["CAP_KILL"]), 0));
}
