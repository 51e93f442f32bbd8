//! Root-only tests of the real thing: each runs prepare/enter/finalize on a
//! throwaway busybox rootfs in a thread that first unshares its mount
//! namespace (and with it its root, cwd and umask), so nothing it mounts
//! is seen by the host or by other tests. Skipped when not root.

use std::os::fd::AsFd;
use std::os::unix::fs::{symlink, FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use nix::sched::{unshare, CloneFlags};

use super::*;
use crate::spec::{parse, Config};

const RUNC_MOUNTS: &str = r#"[
    {"destination":"/proc","type":"proc","source":"proc"},
    {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},
    {"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620","gid=5"]},
    {"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]},
    {"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]},
    {"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]},
    {"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["nosuid","noexec","nodev","relatime","ro"]}
]"#;

const MASKED: &str = r#"["/proc/acpi","/proc/kcore","/proc/keys","/proc/timer_list","/sys/firmware","/proc/scsi"]"#;
const READONLY: &str = r#"["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]"#;

fn runnable() -> bool {
    nix::unistd::geteuid().is_root() && Path::new("/bin/busybox").exists()
}

/// A bundle dir with a busybox rootfs; removed by the caller.
fn bundle(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("brig-rootfs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("rootfs/bin")).unwrap();
    std::fs::copy("/bin/busybox", dir.join("rootfs/bin/busybox")).unwrap();
    symlink("busybox", dir.join("rootfs/bin/sh")).unwrap();
    dir
}

fn config(bundle: &Path, mounts: &str, linux_extra: &str, readonly: bool) -> Config {
    let json = format!(
        r#"{{"ociVersion":"1.2.0","root":{{"path":"rootfs","readonly":{readonly}}},
            "process":{{"user":{{"uid":0,"gid":0}},"cwd":"/","args":["sh"]}},
            "mounts":{mounts},
            "linux":{{"namespaces":[{{"type":"mount"}}]{linux_extra}}}}}"#
    );
    Config::from_spec(parse(json.as_bytes()).unwrap(), bundle.to_path_buf()).unwrap()
}

/// Runs `f` after prepare/enter/finalize in a private mount namespace.
fn in_container<T: Send + 'static>(
    cfg: Config,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::result::Result<T, String> {
    in_container_with(cfg, false, false, f)
}

/// As the init does it: prepare, enter (pivot or not), with `console` a pty
/// from the container's /dev/ptmx on /dev/console, finalize, then `f`.
fn in_container_with<T: Send + 'static>(
    cfg: Config,
    no_pivot: bool,
    console: bool,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::result::Result<T, String> {
    std::thread::spawn(move || {
        unshare(CloneFlags::CLONE_NEWNS).map_err(|e| format!("unshare: {e}"))?;
        prepare(&cfg, None).map_err(|e| e.to_string())?;
        enter(&cfg, no_pivot).map_err(|e| e.to_string())?;
        if console {
            use nix::fcntl::OFlag;
            let m = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY).map_err(|e| e.to_string())?;
            nix::pty::grantpt(&m).map_err(|e| e.to_string())?;
            nix::pty::unlockpt(&m).map_err(|e| e.to_string())?;
            let name = nix::pty::ptsname_r(&m).map_err(|e| e.to_string())?;
            let slave = std::fs::File::options().read(true).write(true).open(&name).map_err(|e| e.to_string())?;
            mount_console(slave.as_fd()).map_err(|e| e.to_string())?;
        }
        finalize(&cfg).map_err(|e| e.to_string())?;
        Ok(f())
    })
    .join()
    .unwrap()
}

fn mountinfo() -> String {
    std::fs::read_to_string("/proc/thread-self/mountinfo").unwrap_or_default()
}

#[test]
fn runc_default_config_builds_the_rootfs() {
    if !runnable() {
        return;
    }
    let b = bundle("default");
    let extra = format!(r#","maskedPaths":{MASKED},"readonlyPaths":{READONLY}"#);
    let cfg = config(&b, RUNC_MOUNTS, &extra, true);
    let seen = in_container(cfg, || {
        let null = std::fs::metadata("/dev/null").unwrap();
        let timer_list = std::fs::read("/proc/timer_list").map(|v| v.len());
        let ro_sys = std::fs::write("/proc/sys/kernel/hostname", "x").is_err();
        let ro_root = std::fs::write("/x", "x").is_err();
        let shm_rw = std::fs::write("/dev/shm/x", "x").is_ok();
        let ptmx = std::fs::read_link("/dev/ptmx").unwrap();
        let stderr = std::fs::read_link("/dev/stderr").unwrap();
        let fw = std::fs::read_dir("/sys/firmware").unwrap().count();
        let cg = nix::sys::statfs::statfs("/sys/fs/cgroup").unwrap().filesystem_type();
        (null.file_type().is_char_device(), null.rdev(), timer_list, ro_sys, ro_root, shm_rw, ptmx, stderr, fw, cg, mountinfo())
    });
    std::fs::remove_dir_all(&b).unwrap();
    let (is_chr, rdev, timer_list, ro_sys, ro_root, shm_rw, ptmx, stderr, fw, cg, mi) = seen.unwrap();
    assert!(is_chr && rdev == nix::sys::stat::makedev(1, 3), "{mi}");
    assert_eq!(timer_list.unwrap(), 0, "/proc/timer_list masked");
    assert!(ro_sys && ro_root && shm_rw, "{mi}");
    assert_eq!(ptmx, Path::new("pts/ptmx"));
    assert_eq!(stderr, Path::new("/proc/self/fd/2"));
    assert_eq!(fw, 0, "/sys/firmware masked");
    assert_eq!(cg, nix::sys::statfs::CGROUP2_SUPER_MAGIC);
    let root_line = mi.lines().find(|l| l.split(' ').nth(4) == Some("/")).unwrap_or_default();
    assert!(root_line.split(' ').nth(5).is_some_and(|o| o.starts_with("ro,")), "{mi}");
}


#[test]
fn proc_symlink_to_root_is_refused() {
    if !runnable() {
        return;
    }
    let b = bundle("procsym");
    symlink("/", b.join("rootfs/proc")).unwrap();
    let cfg = config(&b, RUNC_MOUNTS, "", false);
    let r = in_container(cfg, || ());
    std::fs::remove_dir_all(&b).unwrap();
    let e = r.unwrap_err();
    assert!(e.contains("not an ordinary directory") && e.contains("ENOTDIR"), "{e}");
}

#[test]
fn symlinks_to_host_paths_stay_inside() {
    if !runnable() {
        return;
    }
    let b = bundle("escape");
    let host = b.join("host");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("marker"), "host").unwrap();
    // A mount destination and /dev both pointing at a host directory, by
    // absolute and by relative path.
    std::fs::create_dir_all(b.join("rootfs/etc")).unwrap();
    symlink(&host, b.join("rootfs/etc/target")).unwrap();
    symlink("../../../../../../../..".to_string() + host.to_str().unwrap(), b.join("rootfs/dev")).unwrap();
    let mounts = format!(
        r#"[{{"destination":"/etc/target","type":"tmpfs","source":"tmpfs"}},
            {{"destination":"/dev","type":"tmpfs","source":"tmpfs"}},
            {{"destination":"/etc/target/file","type":"bind","source":"{}","options":["bind"]}}]"#,
        b.join("host/marker").display()
    );
    let cfg = config(&b, &mounts, "", false);
    let host2 = host.clone();
    let r = in_container(cfg, move || {
        let inside = std::fs::read_to_string("/etc/target/file").unwrap_or_default();
        (inside, host2.exists())
    });
    let host_entries: Vec<_> = std::fs::read_dir(&host).unwrap().map(|e| e.unwrap().file_name()).collect();
    let rootfs_has = b.join(format!("rootfs{}", host.display())).join("null").exists();
    std::fs::remove_dir_all(&b).unwrap();
    let (inside, _) = r.unwrap();
    assert_eq!(inside, "host", "the bind source was mounted at the in-rootfs destination");
    assert_eq!(host_entries, vec![std::ffi::OsString::from("marker")], "host dir untouched");
    assert!(!rootfs_has, "the /dev tmpfs was mounted over the in-rootfs path, nothing left on disk");
}

#[test]
fn no_pivot_console_binds_and_dangling_links() {
    if !runnable() {
        return;
    }
    let b = bundle("nopivot");
    std::fs::write(b.join("hostfile"), "from host").unwrap();
    std::fs::create_dir_all(b.join("rootfs/etc")).unwrap();
    // A dangling link, as images ship /etc/resolv.conf: the bind lands
    // where it points, inside the rootfs.
    symlink("../run/resolv/file", b.join("rootfs/etc/resolv.conf")).unwrap();
    // tmpcopyup: the image's /opt content shows through the tmpfs.
    std::fs::create_dir_all(b.join("rootfs/opt/sub")).unwrap();
    std::fs::write(b.join("rootfs/opt/sub/f"), "image").unwrap();
    symlink("/etc/shadow-on-host", b.join("rootfs/opt/link")).unwrap();
    std::fs::set_permissions(b.join("rootfs/opt"), std::os::unix::fs::PermissionsExt::from_mode(0o750)).unwrap();
    let mounts = r#"[
        {"destination":"/proc","type":"proc","source":"proc"},
        {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","ro"]},
        {"destination":"/dev/pts","type":"devpts","source":"devpts","options":["newinstance","ptmxmode=0666"]},
        {"destination":"/run","type":"tmpfs","options":["ro","nodev"]},
        {"destination":"/opt","type":"tmpfs","options":["tmpcopyup","mode=0700"]},
        {"destination":"/etc/resolv.conf","type":"bind","source":"hostfile","options":["rbind","ro","nosuid","rprivate"]}
    ]"#;
    let cfg = config(&b, mounts, r#","rootfsPropagation":"rshared""#, false);
    let r = in_container_with(cfg, true, true, || {
        let console = std::fs::metadata("/dev/console").map(|m| m.file_type().is_char_device());
        let resolv = std::fs::read_to_string("/etc/resolv.conf");
        let run_ro = std::fs::write("/run/x", "x").is_err();
        let dev_ro = std::fs::write("/dev/x", "x").is_err();
        let resolv_ro = std::fs::write("/etc/resolv.conf", "x").is_err();
        let opt = std::fs::read_to_string("/opt/sub/f").unwrap_or_default()
            + &std::fs::read_link("/opt/link").unwrap_or_default().to_string_lossy()
            + &format!(" {:o}", std::fs::metadata("/opt").map(|m| m.mode() & 0o7777).unwrap_or(0));
        (console, resolv, run_ro, dev_ro, resolv_ro, opt, mountinfo())
    });
    std::fs::remove_dir_all(&b).unwrap();
    let (console, resolv, run_ro, dev_ro, resolv_ro, opt, mi) = r.unwrap();
    assert_eq!(opt, "image/etc/shadow-on-host 750");
    assert!(mi.lines().any(|l| l.contains(" /opt ") && l.contains(" - tmpfs ")), "{mi}");
    assert!(console.unwrap(), "{mi}");
    assert_eq!(resolv.unwrap(), "from host");
    assert!(run_ro && dev_ro && resolv_ro, "{mi}");
    assert!(mi.lines().any(|l| l.contains(" /etc/resolv.conf ") || l.contains(" /run/resolv/file ")), "{mi}");
    assert!(mi.lines().any(|l| l.contains(" /dev/console ")), "{mi}");
}

/// Re-runs the calling test inside `unshare --user --map-root-user --mount
/// --pid --fork --ipc` (sysfs then needs the bind fallback) (a user namespace needs a single-threaded process,
/// which a test thread is not). Returns true in the parent, which is done.
fn reran_in_userns(test: &str) -> bool {
    if std::env::var_os("BRIG_LIVE_IN_USERNS").is_some() {
        return false;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "--pid", "--fork", "--ipc"])
        .arg(exe)
        .args(["--exact", test, "--test-threads=1", "--nocapture"])
        .env("BRIG_LIVE_IN_USERNS", "1")
        .output()
        .unwrap();
    let so = String::from_utf8_lossy(&out.stdout);
    let se = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && so.contains("1 passed"), "in userns:\n{so}\n{se}");
    true
}

#[test]
fn user_namespace_binds_devices_and_falls_back() {
    if !runnable() || !Path::new("/usr/bin/unshare").exists() {
        return;
    }
    if reran_in_userns("rootfs::live_tests::user_namespace_binds_devices_and_falls_back") {
        return;
    }
    let b = bundle("userns");
    // A config device is bound from the host's same path: only where it is.
    let has_tun = Path::new("/dev/net/tun").exists();
    let tun = if has_tun { r#"{"path":"/dev/net/tun","type":"c","major":10,"minor":200}"# } else { "" };
    let json = format!(
        r#"{{"ociVersion":"1.2.0","root":{{"path":"rootfs"}},
            "process":{{"user":{{"uid":0,"gid":0}},"cwd":"/","args":["sh"]}},
            "mounts":{RUNC_MOUNTS},
            "linux":{{"namespaces":[{{"type":"mount"}},{{"type":"user"}}],
                "uidMappings":[{{"containerID":0,"hostID":0,"size":1}}],
                "devices":[{tun}],
                "maskedPaths":{MASKED},"readonlyPaths":{READONLY}}}}}"#
    );
    let cfg = Config::from_spec(parse(json.as_bytes()).unwrap(), b.clone()).unwrap();
    let r = in_container(cfg, || {
        let null = std::fs::metadata("/dev/null").map(|m| m.rdev());
        let tun = std::fs::metadata("/dev/net/tun").map(|m| m.file_type().is_char_device());
        let wrote = std::fs::write("/dev/null", "x").is_ok();
        (null, tun, wrote, mountinfo())
    });
    std::fs::remove_dir_all(&b).unwrap();
    let (null, tun, wrote, mi) = r.unwrap();
    assert_eq!(null.unwrap(), nix::sys::stat::makedev(1, 3), "{mi}");
    assert!(wrote, "{mi}");
    assert!(mi.lines().any(|l| l.contains(" /dev/null ")), "bound, not mknod'ed:\n{mi}");
    // No network namespace of its own: sysfs is the host's, bound, and
    // read-only all the way down.
    let sys: Vec<&str> = mi.lines().filter(|l| l.split(' ').nth(4).is_some_and(|m| m.starts_with("/sys"))).collect();
    assert!(sys.len() > 1 && sys.iter().all(|l| l.split(' ').nth(5).is_some_and(|o| o.starts_with("ro"))), "{mi}");
    if has_tun {
        assert!(tun.unwrap(), "{mi}");
    }
}

#[test]
fn destination_redirected_into_proc_is_refused() {
    if !runnable() {
        return;
    }
    let b = bundle("intoproc");
    symlink("/proc/self", b.join("rootfs/run")).unwrap();
    let mounts = r#"[
        {"destination":"/proc","type":"proc","source":"proc"},
        {"destination":"/run/attr","type":"tmpfs","source":"tmpfs"}
    ]"#;
    let r = in_container(config(&b, mounts, "", false), || ());
    std::fs::remove_dir_all(&b).unwrap();
    let e = r.unwrap_err();
    assert!(e.contains("resolves into procfs") && e.contains("EXDEV"), "{e}");
}

#[test]
fn symlink_loop_at_a_destination_is_eloop() {
    if !runnable() {
        return;
    }
    let b = bundle("loop");
    symlink("/b", b.join("rootfs/a")).unwrap();
    symlink("a", b.join("rootfs/b")).unwrap();
    let mounts = r#"[{"destination":"/a","type":"tmpfs","source":"tmpfs"}]"#;
    let r = in_container(config(&b, mounts, "", false), || ());
    std::fs::remove_dir_all(&b).unwrap();
    let e = r.unwrap_err();
    assert!(e.contains("ELOOP") && e.contains("/a"), "{e}");
}
