//! root, mounts, /dev, masked and readonly paths, and paths resolved inside the rootfs.

use integration_tests::{Container, Spec, TempDir};
use serde_json::json;

#[test]
fn default_mounts_are_present() {
    let p = Container::new("mounts", &Spec::new()).probe();
    for (target, fstype) in [
        ("/proc", "proc"),
        ("/dev", "tmpfs"),
        ("/dev/pts", "devpts"),
        ("/dev/shm", "tmpfs"),
        ("/dev/mqueue", "mqueue"),
        ("/sys", "sysfs"),
    ] {
        let m = p.mount_at(target).unwrap_or_else(|| panic!("no mount at {target}"));
        assert_eq!(m.fstype, fstype, "{target}");
    }
    assert!(p.mount_at("/sys").unwrap().has("ro"));
    assert!(p.mount_at("/dev/shm").unwrap().has("nodev"));
}

#[test]
fn root_path_is_relative_to_the_bundle() {
    let c = Container::new("rootpath", &Spec::new().set("/root/path", json!("other-root")));
    std::fs::rename(c.rootfs(), c.path("other-root")).unwrap();
    std::fs::write(c.path("other-root/marker"), "other\n").unwrap();
    c.write_spec(&Spec::new().set("/root/path", json!("other-root")).sh("cat /marker"));
    assert_eq!(c.run(&[]).ok().stdout, "other\n");
}

#[test]
fn no_pivot_runs_the_container() {
    let c = Container::new("nopivot", &Spec::new());
    let out = c.run(&["--no-pivot"]).ok();
    let p = integration_tests::Probe::parse(&out.stdout);
    assert_eq!(p.pid(), 1);
}

#[test]
fn bind_mount_readonly() {
    let host = TempDir::new("bindsrc");
    std::fs::write(host.join("hello"), "from host\n").unwrap();
    let spec = Spec::new()
        .bind(host.path(), "/data", &["ro"])
        .sh("cat /data/hello; touch /data/new 2>/dev/null && echo wrote || echo readonly");
    let c = Container::new("bindro", &spec);
    assert_eq!(c.run(&[]).ok().stdout, "from host\nreadonly\n");
    assert!(!host.join("new").exists());
}

#[test]
fn bind_mount_writable_reaches_the_host() {
    let host = TempDir::new("bindrw");
    let spec = Spec::new().bind(host.path(), "/data", &[]).sh("echo hi > /data/new");
    Container::new("bindrw", &spec).run(&[]).ok();
    assert_eq!(std::fs::read_to_string(host.join("new")).unwrap(), "hi\n");
}

#[test]
fn bind_mount_flags_are_applied() {
    let host = TempDir::new("bindflags");
    let spec = Spec::new().bind(host.path(), "/data", &["nosuid", "nodev", "noexec", "noatime"]);
    let p = Container::new("bindflags", &spec).probe();
    let m = p.mount_at("/data").unwrap();
    for f in ["nosuid", "nodev", "noexec", "noatime"] {
        assert!(m.has(f), "{f} missing: {m:?}");
    }
}

#[test]
fn bind_mount_of_a_file() {
    let host = TempDir::new("bindfile");
    std::fs::write(host.join("f"), "file content\n").unwrap();
    let spec = Spec::new().bind(&host.join("f"), "/etc/bound-file", &["ro"]).sh("cat /etc/bound-file");
    assert_eq!(Container::new("bindfile", &spec).run(&[]).ok().stdout, "file content\n");
}

#[test]
fn tmpfs_size_and_mode() {
    let m = json!({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=700"]});
    let c = Container::new("tmpfs", &Spec::new().mount(m).sh("stat -c %a /scratch; grep ' /scratch ' /proc/self/mountinfo"));
    let out = c.run(&[]).ok().stdout;
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("700"));
    let mi = lines.next().unwrap();
    assert!(mi.contains("tmpfs") && mi.contains("size=1024k"), "{mi}");
}

#[test]
fn mount_destinations_are_created() {
    let m = json!({"destination": "/a/b/c", "type": "tmpfs", "source": "tmpfs"});
    let p = Container::new("mkdest", &Spec::new().mount(m)).probe();
    assert_eq!(p.mount_at("/a/b/c").unwrap().fstype, "tmpfs");
}

#[test]
fn mounts_are_applied_in_order() {
    let first = json!({"destination": "/stack", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]});
    let second = json!({"destination": "/stack", "type": "tmpfs", "source": "tmpfs", "options": ["size=2m"]});
    let nested = json!({"destination": "/stack/inner", "type": "tmpfs", "source": "tmpfs", "options": ["size=3m"]});
    let p = Container::new("order", &Spec::new().mount(first).mount(second).mount(nested)).probe();
    assert!(p.mount_at("/stack").unwrap().has("size=2048k"), "{:?}", p.mount_at("/stack"));
    assert!(p.mount_at("/stack/inner").unwrap().has("size=3072k"));
}

#[test]
fn cgroup2_mount() {
    let m = json!({"destination": "/sys/fs/cgroup", "type": "cgroup2", "source": "cgroup2", "options": ["nosuid", "noexec", "nodev"]});
    let spec = Spec::new().namespace("cgroup", None).mount(m);
    let p = Container::new("cgmount", &spec).probe();
    assert_eq!(p.mount_at("/sys/fs/cgroup").unwrap().fstype, "cgroup2");
}

#[test]
fn default_devices_exist() {
    let script = "for d in null zero full random urandom tty; do stat -c \"$d %F %t:%T\" /dev/$d; done; \
                  for l in ptmx fd stdin stdout stderr; do echo \"$l -> $(readlink /dev/$l)\"; done; \
                  echo x > /dev/null && head -c 3 /dev/zero | wc -c";
    let out = Container::new("devices", &Spec::new().sh(script)).run(&[]).ok().stdout;
    for want in [
        "null character special file 1:3",
        "zero character special file 1:5",
        "full character special file 1:7",
        "random character special file 1:8",
        "urandom character special file 1:9",
        "tty character special file 5:0",
        "ptmx -> pts/ptmx",
        "fd -> /proc/self/fd",
        "stdin -> /proc/self/fd/0",
        "stdout -> /proc/self/fd/1",
        "stderr -> /proc/self/fd/2",
    ] {
        assert!(out.lines().any(|l| l == want), "missing {want:?} in\n{out}");
    }
    assert_eq!(out.lines().last().unwrap().trim(), "3");
}

fn device_spec(userns: bool) -> Spec {
    let dev = json!({"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 0o600, "uid": 0, "gid": 0});
    let mut spec = Spec::new()
        .set("/linux/devices", json!([dev]))
        .set("/linux/resources/devices", json!([{"allow": true, "access": "rwm"}]))
        .sh("stat -c '%F %t:%T %a' /dev/kmsg");
    if userns {
        spec = spec.userns(100000, 65536);
    }
    spec
}

#[test]
fn linux_devices_are_created() {
    let out = Container::new("mknod", &device_spec(false)).run(&[]).ok().stdout;
    assert_eq!(out.trim(), "character special file 1:b 600");
}

#[test]
fn linux_devices_in_a_user_namespace_are_bind_mounted() {
    let out = Container::new("devuserns", &device_spec(true)).run(&[]).ok().stdout;
    assert!(out.starts_with("character special file 1:b"), "{out}");
}

#[test]
fn masked_file_reads_empty() {
    let c = Container::new("maskfile", &Spec::new());
    std::fs::write(c.rootfs().join("etc/secret"), "secret\n").unwrap();
    c.write_spec(&Spec::new().masked_paths(&["/etc/secret"]).sh("cat /etc/secret; stat -c '%F %t:%T' /etc/secret"));
    assert_eq!(c.run(&[]).ok().stdout, "character special file 1:3\n");
}

#[test]
fn masked_directory_is_an_empty_readonly_tmpfs() {
    let c = Container::new("maskdir", &Spec::new());
    std::fs::create_dir(c.rootfs().join("etc/secrets")).unwrap();
    std::fs::write(c.rootfs().join("etc/secrets/key"), "secret\n").unwrap();
    c.write_spec(&Spec::new().masked_paths(&["/etc/secrets"]));
    let p = c.probe();
    let m = p.mount_at("/etc/secrets").expect("no mount on the masked dir");
    assert_eq!(m.fstype, "tmpfs");
    assert!(m.has("ro"));
    let c2 = Container::new("maskdir2", &Spec::new());
    std::fs::create_dir(c2.rootfs().join("etc/secrets")).unwrap();
    std::fs::write(c2.rootfs().join("etc/secrets/key"), "secret\n").unwrap();
    c2.write_spec(&Spec::new().masked_paths(&["/etc/secrets"]).sh("ls -A /etc/secrets | wc -l"));
    assert_eq!(c2.run(&[]).ok().stdout.trim(), "0");
}

#[test]
fn masked_path_that_does_not_exist_is_ignored() {
    let spec = Spec::new().masked_paths(&["/no/such/path"]);
    assert_eq!(Container::new("masknone", &spec).probe().pid(), 1);
}

#[test]
fn readonly_paths_are_readonly() {
    let c = Container::new("ropath", &Spec::new());
    std::fs::create_dir(c.rootfs().join("ro-dir")).unwrap();
    let spec = Spec::new()
        .readonly_paths(&["/ro-dir"])
        .sh("touch /ro-dir/x 2>/dev/null && echo wrote || echo readonly; touch /tmp/y && echo tmp-ok");
    c.write_spec(&spec);
    assert_eq!(c.run(&[]).ok().stdout, "readonly\ntmp-ok\n");
}

/// A mount destination whose parent is a symlink to a host dir must be created and
/// mounted inside the rootfs, never on the host.
#[test]
fn mount_destination_symlink_stays_inside_rootfs() {
    let host = TempDir::new("escape");
    std::fs::write(host.join("marker"), "host\n").unwrap();
    let c = Container::new("symdest", &Spec::new());
    std::os::unix::fs::symlink(host.path(), c.rootfs().join("etc/evil")).unwrap();
    let file = TempDir::new("escsrc");
    std::fs::write(file.join("f"), "bound\n").unwrap();
    let spec = Spec::new()
        .bind(&file.join("f"), "/etc/evil/newfile", &["ro"])
        .mount(json!({"destination": "/etc/evil/sub", "type": "tmpfs", "source": "tmpfs"}));
    c.write_spec(&spec);
    let out = c.run(&[]);
    let entries: Vec<String> = std::fs::read_dir(host.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, ["marker"], "the runtime wrote into the host dir: {out}");
    assert!(out.status.success(), "{out}");
    let p = integration_tests::Probe::parse(&out.stdout);
    let inside = format!("{}/sub", host.path().display());
    assert!(p.mount_at(&inside).is_some(), "tmpfs not mounted at {inside} inside the rootfs");
    assert!(c.rootfs().join(host.path().strip_prefix("/").unwrap()).join("newfile").exists());
}

/// `/proc -> /` in the image: proc must not be mounted over the host's root (the
/// rootfs stays intact and usable) or the create fails cleanly.
#[test]
fn proc_symlink_in_image_does_not_escape() {
    let c = Container::new("symproc", &Spec::new());
    std::fs::remove_dir(c.rootfs().join("proc")).unwrap();
    std::os::unix::fs::symlink("/", c.rootfs().join("proc")).unwrap();
    c.write_spec(&Spec::new().sh("cat /probe.sh | head -1; cat /proc/1/cmdline | tr '\\0' ' '"));
    let out = c.run(&[]);
    if out.status.success() {
        // proc resolved inside the rootfs: a procfs at the rootfs's root would hide
        // probe.sh, a procfs on the host's / would leave /proc/1 unreadable
        assert!(out.stdout.starts_with("# brig integration-test probe"), "{out}");
    } else {
        c.assert_nothing_left(None);
    }
    assert!(std::fs::read_link(c.rootfs().join("proc")).is_ok(), "the image's /proc link was replaced");
}
