//! Where a container's cgroup lives: the unified mount and runc's rules for
//! `linux.cgroupsPath`.

use std::path::{Component, Path, PathBuf};

use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC};

use crate::error::{Context, Error, Result};

/// The mount point of the cgroup2 (unified) hierarchy: `/sys/fs/cgroup` or
/// `/sys/fs/cgroup/unified` if statfs says it is cgroup2 (runc's order), else
/// the first visible cgroup2 mount in mountinfo.
pub fn unified_mount() -> Result<PathBuf> {
    // statfs first: it sees what the path reaches now. mountinfo's order is
    // creation order, not stacking order: a cgroup2 bind made before a
    // sysfs mount on /sys and then moved onto /sys/fs/cgroup (docker.sh's
    // sandbox) is listed before that sysfs and would look hidden.
    if let Some(p) = standard_unified_mount() {
        return Ok(p.into());
    }
    let text = std::fs::read_to_string("/proc/self/mountinfo").ctx("read", "/proc/self/mountinfo")?;
    parse_unified_mount(&text).ok_or_else(|| Error::Unsupported {
        what: "cgroups".into(),
        reason: "no cgroup2 hierarchy is mounted (brig supports cgroup v2 only)".into(),
    })
}

/// The standard cgroup2 mount point that really is cgroup2 now, pure v2 first.
pub(crate) fn standard_unified_mount() -> Option<&'static str> {
    ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]
        .into_iter()
        .find(|p| statfs(*p).is_ok_and(|s| s.filesystem_type() == CGROUP2_SUPER_MAGIC))
}

/// The first cgroup2 mount that is still visible. mountinfo lists mounts in
/// mount order, and a mount listed later on the same point or on one of its
/// ancestors hides it: an engine's private mount namespace that binds a hybrid
/// host's /sys/fs/cgroup/unified over /sys/fs/cgroup still lists the original
/// unified mount, whose path now names a plain directory inside the bind.
fn parse_unified_mount(mountinfo: &str) -> Option<PathBuf> {
    let mounts: Vec<(PathBuf, bool)> = mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let fstype = right.split(' ').next()?;
            let mount_point = left.split(' ').nth(4)?;
            Some((PathBuf::from(unescape(mount_point)), fstype == "cgroup2"))
        })
        .collect();
    mounts.iter().enumerate().find_map(|(i, (point, cgroup2))| {
        let hidden = mounts[i + 1..].iter().any(|(later, _)| point.starts_with(later));
        (*cgroup2 && !hidden).then(|| point.clone())
    })
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape(s: &str) -> String {
    s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
}

/// This process's own cgroup v2 path (the `0::` line of /proc/self/cgroup).
pub fn own_cgroup() -> Result<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ctx("read", "/proc/self/cgroup")?;
    Ok(text.lines().find_map(|l| l.strip_prefix("0::")).map_or_else(|| PathBuf::from("/"), PathBuf::from))
}

/// The container's cgroup directory under `mount`, following runc's cgroupfs
/// rules: an absolute `cgroupsPath` is taken from the hierarchy root; a
/// relative one (or none, which means the container id) is placed beside the
/// caller's own cgroup, i.e. under its parent, because a cgroup that holds
/// processes cannot enable controllers for its children.
pub fn resolve_path(mount: &Path, cgroups_path: Option<&Path>, id: &str, own: &Path, systemd: bool) -> Result<PathBuf> {
    if systemd {
        return Err(Error::Unsupported {
            what: "--systemd-cgroup".into(),
            reason: "brig has no systemd cgroup driver yet; use cgroupfs paths".into(),
        });
    }
    let inner = match cgroups_path {
        Some(p) if !p.as_os_str().is_empty() => clean(p)?,
        _ => PathBuf::from(id),
    };
    if inner.is_absolute() {
        return Ok(mount.join(inner.strip_prefix("/").unwrap_or(&inner)));
    }
    let parent = own.parent().unwrap_or(Path::new("/"));
    Ok(mount.join(parent.strip_prefix("/").unwrap_or(parent)).join(inner))
}

/// Lexically cleans `p` and refuses `..`, which could climb out of the
/// hierarchy.
fn clean(p: &Path) -> Result<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::RootDir => out.push("/"),
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => {
                return Err(Error::config("linux.cgroupsPath", format!("{p:?} must not contain ..")))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_hybrid_unified() {
        let mi = "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        assert_eq!(parse_unified_mount(mi), Some(PathBuf::from("/sys/fs/cgroup/unified")));
        assert_eq!(parse_unified_mount("31 23 0:28 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu"), None);
    }

    #[test]
    fn skips_a_cgroup2_mount_hidden_by_a_later_one() {
        // /sys/fs/cgroup/unified bound over /sys/fs/cgroup: the old unified
        // mount is still listed but hidden; so is anything under a later mount.
        let mi = "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n\
                  41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n\
                  42 31 0:39 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n\
                  90 31 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        assert_eq!(parse_unified_mount(mi), Some(PathBuf::from("/sys/fs/cgroup")));
        let hidden = "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n\
                      90 31 0:50 / /sys rw - tmpfs tmpfs rw\n";
        assert_eq!(parse_unified_mount(hidden), None);
    }

    #[test]
    fn runc_path_rules() {
        let m = Path::new("/sys/fs/cgroup");
        let own = Path::new("/user.slice/session-1.scope");
        assert_eq!(resolve_path(m, Some(Path::new("/a/b")), "id", own, false).unwrap(), m.join("a/b"));
        assert_eq!(resolve_path(m, Some(Path::new("a/b")), "id", own, false).unwrap(), m.join("user.slice/a/b"));
        assert_eq!(resolve_path(m, None, "id", Path::new("/"), false).unwrap(), m.join("id"));
        assert!(resolve_path(m, Some(Path::new("/a/../../x")), "id", own, false).is_err());
        assert!(resolve_path(m, None, "id", own, true).is_err());
    }
}
