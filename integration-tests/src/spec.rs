//! config.json, made in Rust: runc-spec-like defaults plus a builder to tweak them.

use serde_json::{json, Value};

/// The five capability sets of `process.capabilities`.
pub const CAP_SETS: [&str; 5] = ["bounding", "effective", "inheritable", "permitted", "ambient"];

/// runc spec's default capabilities.
pub const DEFAULT_CAPS: [&str; 3] = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

/// A config.json under construction. Every setter returns `self`.
#[derive(Clone, Debug)]
pub struct Spec(pub Value);

impl Default for Spec {
    fn default() -> Self {
        Spec::new()
    }
}

impl Spec {
    /// runc-spec-like defaults: the probe as the process (`/bin/sh /probe.sh`, so sh
    /// is PID 1), `terminal: false`, new pid/network/ipc/uts/mount namespaces, the
    /// usual mounts, masked and readonly paths. The root is writable.
    pub fn new() -> Spec {
        Spec(json!({
            "ociVersion": "1.0.2",
            "process": {
                "terminal": false,
                "user": {"uid": 0, "gid": 0},
                "args": ["/bin/sh", crate::rootfs::PROBE_PATH],
                "env": [
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "TERM=xterm"
                ],
                "cwd": "/",
                "capabilities": {
                    "bounding": DEFAULT_CAPS,
                    "effective": DEFAULT_CAPS,
                    "permitted": DEFAULT_CAPS
                },
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
                "noNewPrivileges": true
            },
            "root": {"path": "rootfs", "readonly": false},
            "hostname": "brig-test",
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                 "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
                {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
                 "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
                {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
                 "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
                {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
                 "options": ["nosuid", "noexec", "nodev"]},
                {"destination": "/sys", "type": "sysfs", "source": "sysfs",
                 "options": ["nosuid", "noexec", "nodev", "ro"]}
            ],
            "linux": {
                "namespaces": [
                    {"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                    {"type": "uts"}, {"type": "mount"}
                ],
                "maskedPaths": [
                    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                    "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
                ],
                "readonlyPaths": [
                    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
                ]
            }
        }))
    }

    /// Sets the value at a JSON pointer (`/process/user/uid`), making missing objects.
    pub fn set(mut self, pointer: &str, value: Value) -> Spec {
        let mut cur = &mut self.0;
        let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
        for part in &parts[..parts.len() - 1] {
            if !cur.get(*part).is_some_and(Value::is_object) {
                cur[*part] = json!({});
            }
            cur = cur.get_mut(*part).unwrap();
        }
        cur[parts[parts.len() - 1]] = value;
        self
    }

    /// Removes the value at a JSON pointer, if present.
    pub fn remove(mut self, pointer: &str) -> Spec {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        if let Some(Value::Object(m)) = self.0.pointer_mut(parent) {
            m.remove(key);
        }
        self
    }

    fn push(mut self, pointer: &str, value: Value) -> Spec {
        if !self.0.pointer(pointer).is_some_and(Value::is_array) {
            self = self.set(pointer, json!([]));
        }
        self.0.pointer_mut(pointer).unwrap().as_array_mut().unwrap().push(value);
        self
    }

    /// `process.args`.
    pub fn args(self, args: &[&str]) -> Spec {
        self.set("/process/args", json!(args))
    }

    /// `process.args` = `/bin/sh -c SCRIPT`.
    pub fn sh(self, script: &str) -> Spec {
        self.args(&["/bin/sh", "-c", script])
    }

    /// Replaces `process.env`.
    pub fn env(self, env: &[&str]) -> Spec {
        self.set("/process/env", json!(env))
    }

    /// Adds one `K=V` to `process.env`.
    pub fn add_env(self, kv: &str) -> Spec {
        self.push("/process/env", json!(kv))
    }

    /// `process.cwd`.
    pub fn cwd(self, cwd: &str) -> Spec {
        self.set("/process/cwd", json!(cwd))
    }

    /// `process.user.uid` and `gid`.
    pub fn user(self, uid: u32, gid: u32) -> Spec {
        self.set("/process/user/uid", json!(uid)).set("/process/user/gid", json!(gid))
    }

    /// `process.user.additionalGids`.
    pub fn additional_gids(self, gids: &[u32]) -> Spec {
        self.set("/process/user/additionalGids", json!(gids))
    }

    /// `process.user.umask`.
    pub fn umask(self, umask: u32) -> Spec {
        self.set("/process/user/umask", json!(umask))
    }

    /// One capability set (`bounding`, `effective`, ...).
    pub fn caps(self, set: &str, caps: &[&str]) -> Spec {
        self.set(&format!("/process/capabilities/{set}"), json!(caps))
    }

    /// `process.noNewPrivileges`.
    pub fn no_new_privileges(self, on: bool) -> Spec {
        self.set("/process/noNewPrivileges", json!(on))
    }

    /// Adds an rlimit (`RLIMIT_NOFILE`, ...).
    pub fn rlimit(self, kind: &str, soft: u64, hard: u64) -> Spec {
        let mut s = self;
        if let Some(Value::Array(a)) = s.0.pointer_mut("/process/rlimits") {
            a.retain(|r| r["type"] != kind);
        }
        s.push("/process/rlimits", json!({"type": kind, "soft": soft, "hard": hard}))
    }

    /// `hostname`.
    pub fn hostname(self, name: &str) -> Spec {
        self.set("/hostname", json!(name))
    }

    /// `domainname`.
    pub fn domainname(self, name: &str) -> Spec {
        self.set("/domainname", json!(name))
    }

    /// Appends a mount.
    pub fn mount(self, mount: Value) -> Spec {
        self.push("/mounts", mount)
    }

    /// Appends a bind mount of `src` on `dst` with `options` (plus `bind`).
    pub fn bind(self, src: &std::path::Path, dst: &str, options: &[&str]) -> Spec {
        let mut opts = vec!["bind"];
        opts.extend_from_slice(options);
        self.mount(json!({"destination": dst, "type": "bind", "source": src, "options": opts}))
    }

    /// Appends a hook to a stage (`prestart`, `createRuntime`, ...).
    pub fn hook(self, stage: &str, hook: Value) -> Spec {
        self.push(&format!("/hooks/{stage}"), hook)
    }

    /// Adds or replaces a namespace, optionally joined by path.
    pub fn namespace(self, kind: &str, path: Option<&str>) -> Spec {
        let mut s = self.remove_namespace(kind);
        let ns = match path {
            Some(p) => json!({"type": kind, "path": p}),
            None => json!({"type": kind}),
        };
        s = s.push("/linux/namespaces", ns);
        s
    }

    /// Removes a namespace from `linux.namespaces`.
    pub fn remove_namespace(mut self, kind: &str) -> Spec {
        if let Some(Value::Array(a)) = self.0.pointer_mut("/linux/namespaces") {
            a.retain(|n| n["type"] != kind);
        }
        self
    }

    /// `root.readonly`.
    pub fn readonly_root(self, on: bool) -> Spec {
        self.set("/root/readonly", json!(on))
    }

    /// Replaces `linux.maskedPaths`.
    pub fn masked_paths(self, paths: &[&str]) -> Spec {
        self.set("/linux/maskedPaths", json!(paths))
    }

    /// Replaces `linux.readonlyPaths`.
    pub fn readonly_paths(self, paths: &[&str]) -> Spec {
        self.set("/linux/readonlyPaths", json!(paths))
    }

    /// `process.terminal`.
    pub fn terminal(self, on: bool) -> Spec {
        self.set("/process/terminal", json!(on))
    }

    /// `linux.cgroupsPath`.
    pub fn cgroups_path(self, path: &str) -> Spec {
        self.set("/linux/cgroupsPath", json!(path))
    }

    /// A user namespace mapping container ids 0..size to host ids from `host`.
    pub fn userns(self, host: u32, size: u32) -> Spec {
        let map = json!([{"containerID": 0, "hostID": host, "size": size}]);
        self.namespace("user", None)
            .set("/linux/uidMappings", map.clone())
            .set("/linux/gidMappings", map)
    }

    /// `ociVersion`.
    pub fn oci_version(self, v: &str) -> Spec {
        self.set("/ociVersion", json!(v))
    }

    /// The JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.0).unwrap()
    }
}

/// A hook that runs `/bin/sh -c SCRIPT` (host's sh for runtime-namespace hooks).
pub fn sh_hook(script: &str) -> Value {
    json!({"path": "/bin/sh", "args": ["sh", "-c", script]})
}
