//! Root filesystem tests on the real runtime binary with busybox bundles,
//! including attacker images whose symlinks point at the host. Each must
//! leave the host untouched and either work safely inside the rootfs or
//! fail with a clear error.
//!
//! The runtime is `$BRIG_TEST_RUNTIME`, else `target/{release,debug}/brig`
//! (so the same tests can be pointed at runc to check the tests
//! themselves). Tests are skipped, with a note, when not root or when
//! busybox or the runtime is missing.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value};

static SEQ: AtomicUsize = AtomicUsize::new(0);

const BUSYBOX: &str = "/bin/busybox";
const APPLETS: &[&str] = &["sh", "cat", "ls", "stat", "grep", "test", "echo", "readlink", "touch", "mknod", "wc"];

fn runtime() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BRIG_TEST_RUNTIME") {
        return Some(PathBuf::from(p));
    }
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    ["release/brig", "debug/brig"].iter().map(|p| target.join(p)).find(|p| p.exists())
}

/// The runtime, or None (test skipped) when this host cannot run it.
fn setup() -> Option<PathBuf> {
    if !nix::unistd::geteuid().is_root() || !Path::new(BUSYBOX).exists() {
        eprintln!("skipped: needs root and {BUSYBOX}");
        return None;
    }
    let rt = runtime();
    if rt.is_none() {
        eprintln!("skipped: no brig binary (build it, or set BRIG_TEST_RUNTIME)");
    }
    rt
}

/// A throwaway bundle: busybox rootfs plus a runc-spec-like config.
struct Bundle {
    dir: PathBuf,
    id: String,
    config: Value,
}

impl Bundle {
    fn new(name: &str) -> Bundle {
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let id = format!("rootfs-{name}-{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(format!("brig-it-{id}"));
        let _ = std::fs::remove_dir_all(&dir);
        let bin = dir.join("rootfs/bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::copy(BUSYBOX, bin.join("busybox")).unwrap();
        for a in APPLETS {
            symlink("busybox", bin.join(a)).unwrap();
        }
        Bundle { dir, id, config: default_config() }
    }

    fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    /// `run`s the container with `sh -c script`; always deletes it after.
    fn run(&mut self, rt: &Path, script: &str) -> Output {
        self.config["process"]["args"] = json!(["sh", "-c", script]);
        std::fs::write(self.dir.join("config.json"), self.config.to_string()).unwrap();
        let state = self.dir.join("state");
        let out = Command::new(rt)
            .arg("--root")
            .arg(&state)
            .args(["run", "--bundle"])
            .arg(&self.dir)
            .arg(&self.id)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let _ = Command::new(rt).arg("--root").arg(&state).args(["delete", "-f", &self.id]).output();
        out
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every capability, in numeric order: rootfs tests are not about
/// capabilities, and a full set keeps them independent of how the sets are
/// applied. [`caps`] keeps those in this process's bounding set.
const CAPS: &[&str] = &[
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
    "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
];

fn caps() -> Vec<&'static str> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let bnd = status.lines().find_map(|l| l.strip_prefix("CapBnd:")).map(str::trim).unwrap_or("0");
    let bnd = u64::from_str_radix(bnd, 16).unwrap_or(0);
    CAPS.iter().enumerate().filter(|(i, _)| bnd & (1 << i) != 0).map(|(_, c)| *c).collect()
}

/// `runc spec`'s config (terminal off, no resources, writable root, every
/// capability).
fn default_config() -> Value {
    let caps = caps();
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["sh"],
            "env": ["PATH=/bin"], "cwd": "/",
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps, "inheritable": caps},
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": false},
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
        ],
        "linux": {
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A host directory with one marker file; `untouched` checks it still
/// holds exactly that.
struct HostDir(PathBuf);

impl HostDir {
    fn new(b: &Bundle) -> HostDir {
        HostDir::named(b, "host")
    }

    fn named(b: &Bundle, name: &str) -> HostDir {
        let d = b.dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("marker"), "host").unwrap();
        HostDir(d)
    }

    fn assert_untouched(&self) {
        let names: Vec<_> = std::fs::read_dir(&self.0).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("marker")], "host dir {:?} was written to", self.0);
        assert_eq!(std::fs::read_to_string(self.0.join("marker")).unwrap(), "host");
        let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(!mi.contains(self.0.to_str().unwrap()), "something is mounted on the host dir:\n{mi}");
    }
}

#[test]
fn busybox_runs_with_runc_default_mounts() {
    let Some(rt) = setup() else { return };
    let mut b = Bundle::new("default");
    b.config["root"]["readonly"] = json!(true);
    // A cwd that exists in the image (a missing one is an error: cleanup.rs).
    std::fs::create_dir_all(b.dir.join("rootfs/made/by/brig")).unwrap();
    b.config["process"]["cwd"] = json!("/made/by/brig");
    let out = b.run(
        &rt,
        "test \"$(pwd)\" = /made/by/brig && test -c /dev/null && test -c /dev/urandom && readlink /dev/ptmx && readlink /dev/fd \
         && cat /proc/kcore | wc -c && (touch /x 2>/dev/null && echo root-rw || echo root-ro) \
         && (echo 1 > /proc/sys/vm/overcommit_memory 2>/dev/null && echo sys-rw || echo sys-ro) \
         && touch /dev/shm/ok && echo done",
    );
    let so = text(&out.stdout);
    assert!(out.status.success(), "stdout: {so}\nstderr: {}", text(&out.stderr));
    let lines: Vec<&str> = so.lines().map(str::trim).collect();
    assert_eq!(lines, ["pts/ptmx", "/proc/self/fd", "0", "root-ro", "sys-ro", "done"], "{so}");
}

#[test]
fn proc_symlink_to_root_is_refused() {
    let Some(rt) = setup() else { return };
    let mut b = Bundle::new("procsym");
    symlink("/", b.rootfs().join("proc")).unwrap();
    let host = HostDir::new(&b);
    let out = b.run(&rt, "echo should-not-run");
    let err = text(&out.stderr);
    assert!(!out.status.success(), "a proc mount through /proc -> / must fail; stdout {}", text(&out.stdout));
    assert!(err.contains("proc"), "the error names the proc mount: {err}");
    assert!(!text(&out.stdout).contains("should-not-run"));
    host.assert_untouched();
}

#[test]
fn mount_destination_symlink_to_host_dir_stays_inside() {
    let Some(rt) = setup() else { return };
    let mut b = Bundle::new("destsym");
    let host = HostDir::named(&b, "host1");
    let host2 = HostDir::named(&b, "host2");
    std::fs::create_dir_all(b.rootfs().join("etc")).unwrap();
    // Absolute and relative links at host directories.
    symlink(&host2.0, b.rootfs().join("etc/abs")).unwrap();
    let rel = format!("../../../../../../../../../..{}", host.0.display());
    symlink(&rel, b.rootfs().join("etc/rel")).unwrap();
    let src = b.dir.join("bindsrc");
    std::fs::write(&src, "bound").unwrap();
    let mounts = b.config["mounts"].as_array_mut().unwrap();
    mounts.push(json!({"destination": "/etc/abs", "type": "tmpfs", "source": "tmpfs"}));
    mounts.push(json!({"destination": "/etc/rel/file", "type": "bind", "source": src, "options": ["bind", "ro"]}));
    let out = b.run(&rt, "touch /etc/abs/new && cat /etc/rel/file && echo ok");
    assert!(out.status.success(), "stdout: {}\nstderr: {}", text(&out.stdout), text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "boundok");
    host.assert_untouched();
    host2.assert_untouched();
    // The file bind's mount point was made inside the rootfs, where the
    // link points when resolved there.
    assert!(b.rootfs().join(host.0.strip_prefix("/").unwrap()).join("file").exists());
}

#[test]
fn dev_symlink_to_host_dir_stays_inside() {
    let Some(rt) = setup() else { return };
    let mut b = Bundle::new("devsym");
    let host = HostDir::new(&b);
    symlink(&host.0, b.rootfs().join("dev")).unwrap();
    // Without a /dev tmpfs the device nodes and links are made in the
    // image's /dev itself: they must land in the rootfs.
    let mounts = b.config["mounts"].as_array_mut().unwrap();
    mounts.retain(|m| !m["destination"].as_str().unwrap_or("").starts_with("/dev"));
    let out = b.run(&rt, "test -c /dev/null && readlink /dev/stdin");
    assert!(out.status.success(), "stdout: {}\nstderr: {}", text(&out.stdout), text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "/proc/self/fd/0");
    host.assert_untouched();
    assert!(b.rootfs().join(host.0.strip_prefix("/").unwrap()).join("null").exists());
}

#[test]
fn masked_path_with_fake_dev_null_is_refused() {
    let Some(rt) = setup() else { return };
    let mut b = Bundle::new("fakenull");
    // An image /dev whose null is a link to a secret, and no /dev tmpfs:
    // masking with it would expose the secret instead of hiding.
    std::fs::create_dir_all(b.rootfs().join("dev")).unwrap();
    std::fs::write(b.rootfs().join("secret"), "secret").unwrap();
    symlink("/secret", b.rootfs().join("dev/null")).unwrap();
    let mounts = b.config["mounts"].as_array_mut().unwrap();
    mounts.retain(|m| !m["destination"].as_str().unwrap_or("").starts_with("/dev"));
    let out = b.run(&rt, "cat /proc/keys; echo ran");
    assert!(!out.status.success(), "stdout: {}", text(&out.stdout));
    assert!(text(&out.stderr).contains("/dev/null"), "{}", text(&out.stderr));
}

#[test]
fn user_namespace_binds_host_devices() {
    let Some(rt) = setup() else { return };
    let mut b = Bundle::new("userns");
    let linux = &mut b.config["linux"];
    linux["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
    // Host uid 0 stays mapped: the rootfs on disk is owned by it.
    linux["uidMappings"] = json!([{"containerID": 0, "hostID": 0, "size": 65536}]);
    linux["gidMappings"] = json!([{"containerID": 0, "hostID": 0, "size": 65536}]);
    let out = b.run(&rt, "test -c /dev/null && echo x > /dev/null && grep -c ' /dev/null ' /proc/self/mountinfo");
    assert!(out.status.success(), "stdout: {}\nstderr: {}", text(&out.stdout), text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "1", "mknod is refused in a user namespace: /dev/null is a bind");
}

#[test]
fn tmpfs_copyup_and_readonly_binds() {
    let Some(rt) = setup() else { return };
    let mut b = Bundle::new("copyup");
    std::fs::create_dir_all(b.rootfs().join("etc/sub")).unwrap();
    std::fs::write(b.rootfs().join("etc/sub/conf"), "image").unwrap();
    let src = b.dir.join("data");
    std::fs::create_dir_all(&src).unwrap();
    let mounts = b.config["mounts"].as_array_mut().unwrap();
    mounts.push(json!({"destination": "/etc", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "nosuid"]}));
    mounts.push(json!({"destination": "/data", "type": "bind", "source": src, "options": ["rbind", "ro", "nosuid", "rprivate"]}));
    let out = b.run(&rt, "cat /etc/sub/conf && touch /etc/new && (touch /data/x 2>/dev/null && echo data-rw || echo data-ro)");
    assert!(out.status.success(), "stdout: {}\nstderr: {}", text(&out.stdout), text(&out.stderr));
    assert_eq!(text(&out.stdout), "imagedata-ro\n");
    assert!(!b.rootfs().join("etc/new").exists(), "/etc/new went to the tmpfs, not the image");
    assert!(!src.join("x").exists());
}
