//! What the host sees: processes, mounts, cgroups, network namespaces.

use std::path::{Path, PathBuf};

/// Where the cgroup v2 hierarchy is mounted: `/sys/fs/cgroup/unified` on hybrid
/// hosts, else `/sys/fs/cgroup`.
pub fn unified_root() -> PathBuf {
    let hybrid = Path::new("/sys/fs/cgroup/unified/cgroup.procs");
    if hybrid.exists() {
        hybrid.parent().unwrap().to_path_buf()
    } else {
        PathBuf::from("/sys/fs/cgroup")
    }
}

/// The unified-hierarchy cgroup dir of a host pid (from the `0::` line of
/// `/proc/PID/cgroup`).
pub fn cgroup_dir_of(pid: i32) -> PathBuf {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/cgroup: {e} (has the container exited?)"));
    let line = text.lines().find(|l| l.starts_with("0::")).expect("no cgroup v2 line");
    unified_root().join(line[3..].trim_start_matches('/'))
}

/// The dir of a `linux.cgroupsPath` in the unified hierarchy.
pub fn cgroup_dir_for(cgroups_path: &str) -> PathBuf {
    unified_root().join(cgroups_path.trim_start_matches('/'))
}

/// Whether a host pid exists (and is not a zombie).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

/// Processes (other than this one) whose cmdline, cwd or root mentions any of `paths`.
pub fn processes_mentioning(paths: &[&Path]) -> Vec<String> {
    let me = std::process::id().to_string();
    let needles: Vec<String> = paths.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let mut found = vec![];
    let Ok(rd) = std::fs::read_dir("/proc") else { return found };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) || name == me {
            continue;
        }
        let cmdline = std::fs::read(format!("/proc/{name}/cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let cwd = std::fs::read_link(format!("/proc/{name}/cwd")).unwrap_or_default();
        let root = std::fs::read_link(format!("/proc/{name}/root")).unwrap_or_default();
        let text = format!("{cmdline} | cwd={} | root={}", cwd.display(), root.display());
        if needles.iter().any(|n| text.contains(n.as_str())) && alive(name.parse().unwrap()) {
            found.push(format!("{name}: {text}"));
        }
    }
    found
}

/// Mount points in the host's (this process's) mount table under `dir`.
pub fn host_mounts_under(dir: &Path) -> Vec<String> {
    let d = dir.to_string_lossy();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|mp| mp.starts_with(d.as_ref()))
        .map(str::to_string)
        .collect()
}

/// A network namespace made with `ip netns add`, deleted on drop.
#[derive(Debug)]
pub struct NetNs {
    /// Its name.
    pub name: String,
}

impl Default for NetNs {
    fn default() -> NetNs {
        NetNs::new()
    }
}

impl NetNs {
    /// `ip netns add brig-it-PID-N`.
    pub fn new() -> NetNs {
        let name = format!("brig-it-{}-{}", std::process::id(), crate::runtime::seq());
        let st = std::process::Command::new("ip").args(["netns", "add", &name]).status().unwrap();
        assert!(st.success(), "ip netns add {name} failed (apt-get install iproute2)");
        NetNs { name }
    }

    /// `/run/netns/NAME`.
    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    /// The `net:[INODE]` link text that processes inside it show.
    pub fn link(&self) -> String {
        use std::os::unix::fs::MetadataExt;
        format!("net:[{}]", std::fs::metadata(self.path()).unwrap().ino())
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

/// The `TYPE:[INODE]` link of one of this process's namespaces (`net`, `pid`, ...).
pub fn own_ns(kind: &str) -> String {
    std::fs::read_link(format!("/proc/self/ns/{kind}")).unwrap().to_string_lossy().into_owned()
}

/// Every entry under `dir` (recursive, sorted) with a file's content or a
/// symlink's target: equal snapshots mean nothing was written there.
pub fn tree_snapshot(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let what = if meta.file_type().is_symlink() {
                format!("-> {}", std::fs::read_link(&p).unwrap().display())
            } else if meta.is_dir() {
                todo.push(p.clone());
                "dir".to_string()
            } else {
                format!("{:?}", std::fs::read(&p).unwrap_or_default())
            };
            out.push(format!("{} {what}", p.display()));
        }
    }
    out.sort();
    out
}

/// Asserts `dir` holds exactly `before` and that nothing is mounted on or
/// under it in the host's mount table.
#[track_caller]
pub fn assert_untouched(dir: &Path, before: &[String]) {
    assert_eq!(tree_snapshot(dir), before, "host dir {} was written to", dir.display());
    assert_eq!(host_mounts_under(dir), Vec::<String>::new(), "something is mounted on the host dir");
}
