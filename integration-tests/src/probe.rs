//! The probe: a busybox `sh` script run as the container's process (PID 1) that
//! reports what the container really sees, and its parser.
//!
//! Output: `key=value` lines, and sections `--- NAME` ... `--- end` holding the raw
//! text of a /proc file. Everything is read from `/proc/$$` so it describes the
//! process the runtime exec'd, not a child of it.

use std::collections::BTreeMap;

/// The script, installed as `/probe.sh` in every rootfs.
pub const SCRIPT: &str = r#"# brig integration-test probe
echo "pid=$$"
echo "umask=$(umask)"
echo "cwd=$(readlink /proc/$$/cwd)"
echo "hostname=$(cat /proc/sys/kernel/hostname)"
echo "domainname=$(cat /proc/sys/kernel/domainname)"
echo "cmdline=$(tr '\0' ' ' < /proc/1/cmdline)"
echo "oom_score_adj=$(cat /proc/$$/oom_score_adj)"
for ns in pid net ipc uts mnt user cgroup time; do
  echo "ns_$ns=$(readlink /proc/$$/ns/$ns 2>/dev/null)"
done
if touch /.probe-write 2>/dev/null; then rm -f /.probe-write; echo "root_writable=1"; else echo "root_writable=0"; fi
section() { echo "--- $1"; cat "$2" 2>/dev/null; echo "--- end"; }
echo "--- fds"
ls -l /proc/$$/fd
echo "--- end"
section status /proc/$$/status
echo "--- environ"
tr '\0' '\n' < /proc/$$/environ
echo "--- end"
section mountinfo /proc/$$/mountinfo
section limits /proc/$$/limits
section uid_map /proc/$$/uid_map
section gid_map /proc/$$/gid_map
section cgroup /proc/$$/cgroup
section timens_offsets /proc/$$/timens_offsets
echo "probe_done=1"
"#;

/// A line of `/proc/self/mountinfo`.
#[derive(Debug, Clone)]
pub struct Mount {
    /// Mount point, as the container sees it.
    pub target: String,
    /// Per-mount options (`rw,nosuid,...`).
    pub options: Vec<String>,
    /// Filesystem type.
    pub fstype: String,
    /// Mount source.
    pub source: String,
    /// Superblock options.
    pub super_options: Vec<String>,
    /// Root of the mount within its filesystem.
    pub root: String,
    /// Optional fields: propagation (`shared:N`, `master:N`, `unbindable`).
    pub tags: Vec<String>,
}

impl Mount {
    /// Whether the per-mount or superblock options contain `opt`.
    pub fn has(&self, opt: &str) -> bool {
        self.options.iter().chain(&self.super_options).any(|o| o == opt)
    }
}

/// What the probe reported.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    /// `key=value` lines.
    pub kv: BTreeMap<String, String>,
    /// Sections by name, raw text.
    pub sections: BTreeMap<String, String>,
}

impl Probe {
    /// Parses the probe's stdout; panics unless it ran to the end.
    pub fn parse(text: &str) -> Probe {
        let mut p = Probe::default();
        let mut cur: Option<(String, String)> = None;
        for line in text.lines() {
            if let Some((name, body)) = cur.as_mut() {
                if line == "--- end" {
                    p.sections.insert(std::mem::take(name), std::mem::take(body));
                    cur = None;
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            } else if let Some(name) = line.strip_prefix("--- ") {
                cur = Some((name.to_string(), String::new()));
            } else if let Some((k, v)) = line.split_once('=') {
                p.kv.insert(k.to_string(), v.to_string());
            }
        }
        assert!(p.kv.contains_key("probe_done"), "probe did not finish:\n{text}");
        // everything else is read from /proc: say so once instead of a dozen odd failures
        assert!(
            !p.section("status").is_empty(),
            "the probe could not read /proc/$$/status: is /proc mounted in the container?\n{text}"
        );
        p
    }

    /// A `key=value` value.
    pub fn get(&self, key: &str) -> &str {
        self.kv.get(key).map(String::as_str).unwrap_or_else(|| panic!("probe has no {key}"))
    }

    /// A raw section.
    pub fn section(&self, name: &str) -> &str {
        self.sections.get(name).map(String::as_str).unwrap_or("")
    }

    /// `$$`: the probe shell's pid in the container's pid namespace.
    pub fn pid(&self) -> u32 {
        self.get("pid").parse().unwrap()
    }

    /// `/proc/1/cmdline`, args joined by spaces.
    pub fn cmdline(&self) -> &str {
        self.get("cmdline").trim_end()
    }

    /// A field of `/proc/$$/status` (`Uid`, `CapEff`, `NoNewPrivs`, ...).
    pub fn status(&self, field: &str) -> String {
        let prefix = format!("{field}:");
        self.section("status")
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("no {field} in status"))
            .trim()
            .to_string()
    }

    fn ids(&self, field: &str) -> Vec<u32> {
        self.status(field).split_whitespace().map(|s| s.parse().unwrap()).collect()
    }

    /// Real, effective, saved and fs uid.
    pub fn uids(&self) -> Vec<u32> {
        self.ids("Uid")
    }

    /// Real, effective, saved and fs gid.
    pub fn gids(&self) -> Vec<u32> {
        self.ids("Gid")
    }

    /// Supplementary groups, sorted.
    pub fn groups(&self) -> Vec<u32> {
        let mut g = self.ids("Groups");
        g.sort();
        g
    }

    /// A capability set as a mask: `Inh`, `Prm`, `Eff`, `Bnd` or `Amb`.
    pub fn caps(&self, set: &str) -> u64 {
        u64::from_str_radix(&self.status(&format!("Cap{set}")), 16).unwrap()
    }

    /// `NoNewPrivs` flag.
    pub fn no_new_privs(&self) -> bool {
        self.status("NoNewPrivs") == "1"
    }

    /// `Seccomp` mode (0 none, 1 strict, 2 filter).
    pub fn seccomp(&self) -> u32 {
        self.status("Seccomp").parse().unwrap()
    }

    /// umask, as printed by sh (`0022`).
    pub fn umask(&self) -> &str {
        self.get("umask")
    }

    /// The process's cwd.
    pub fn cwd(&self) -> &str {
        self.get("cwd")
    }

    /// The environment PID 1 was exec'd with, in order.
    pub fn environ(&self) -> Vec<String> {
        self.section("environ").lines().map(str::to_string).collect()
    }

    /// One environment variable.
    pub fn env(&self, key: &str) -> Option<String> {
        let prefix = format!("{key}=");
        self.environ().iter().find_map(|kv| kv.strip_prefix(prefix.as_str()).map(str::to_string))
    }

    /// `/proc/$$/mountinfo`, parsed.
    pub fn mounts(&self) -> Vec<Mount> {
        self.section("mountinfo")
            .lines()
            .map(|l| {
                let (pre, post) = l.split_once(" - ").unwrap();
                let pre: Vec<&str> = pre.split(' ').collect();
                let post: Vec<&str> = post.split(' ').collect();
                Mount {
                    root: unescape(pre[3]),
                    tags: pre[6..].iter().map(|t| t.to_string()).collect(),
                    target: unescape(pre[4]),
                    options: pre[5].split(',').map(str::to_string).collect(),
                    fstype: post[0].to_string(),
                    source: post.get(1).unwrap_or(&"").to_string(),
                    super_options: post.get(2).unwrap_or(&"").split(',').map(str::to_string).collect(),
                }
            })
            .collect()
    }

    /// The last (topmost) mount at `target`.
    pub fn mount_at(&self, target: &str) -> Option<Mount> {
        self.mounts().into_iter().rfind(|m| m.target == target)
    }

    /// Soft and hard limit of a `/proc/self/limits` row (`Max open files`);
    /// `u64::MAX` for unlimited.
    pub fn limit(&self, row: &str) -> (u64, u64) {
        let line = self
            .section("limits")
            .lines()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("no {row} in limits"));
        let rest: Vec<&str> = line[row.len()..].split_whitespace().collect();
        let num = |s: &str| if s == "unlimited" { u64::MAX } else { s.parse().unwrap() };
        (num(rest[0]), num(rest[1]))
    }

    /// Open fds of PID 1 as (fd, link target), without the shell's own fd on the
    /// probe script.
    pub fn fds(&self) -> Vec<(u32, String)> {
        let mut v: Vec<(u32, String)> = self
            .section("fds")
            .lines()
            .filter_map(|l| {
                let (left, target) = l.split_once(" -> ")?;
                let fd = left.split_whitespace().last()?.parse().ok()?;
                Some((fd, target.to_string()))
            })
            .filter(|(_, t)| !t.ends_with(crate::rootfs::PROBE_PATH))
            .collect();
        v.sort();
        v
    }

    /// Just the fd numbers of [`Probe::fds`].
    pub fn fd_numbers(&self) -> Vec<u32> {
        self.fds().into_iter().map(|(fd, _)| fd).collect()
    }

    /// A namespace link (`ns_net` etc. without the prefix): `net:[4026531840]`.
    pub fn ns(&self, kind: &str) -> &str {
        self.get(&format!("ns_{kind}"))
    }
}

fn unescape(s: &str) -> String {
    s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
}

/// A capability mask from names (`CAP_KILL` ...), by the kernel's numbering.
pub fn cap_mask(names: &[&str]) -> u64 {
    names.iter().fold(0, |m, n| m | (1u64 << cap_number(n)))
}

/// The kernel's number of a capability name.
pub fn cap_number(name: &str) -> u32 {
    const CAPS: [&str; 41] = [
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
        "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
        "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
        "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
        "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
        "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
    ];
    let short = name.strip_prefix("CAP_").unwrap_or(name);
    CAPS.iter().position(|c| *c == short).unwrap_or_else(|| panic!("unknown cap {name}")) as u32
}
