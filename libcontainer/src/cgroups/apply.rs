//! Carrying out a resource [`Plan`] on a live cgroup: check that the host has
//! the controllers, enable them in the ancestors' `cgroup.subtree_control`,
//! then write the files in order.

use std::collections::BTreeSet;
use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use super::resources::{Plan, Write, WriteKind};
use super::Cgroup;
use crate::error::{Context, Error, Result};

/// How the host mounts cgroups, for error messages: on a hybrid host the
/// cgroup2 hierarchy usually has no controllers at all.
pub fn cgroup_mode(mount: &Path) -> String {
    if mount == Path::new("/sys/fs/cgroup") {
        "unified (cgroup v2 only)".into()
    } else {
        format!("hybrid (controllers on cgroup v1, cgroup2 at {})", mount.display())
    }
}

/// The controllers listed in a `cgroup.controllers` text.
pub fn parse_controllers(text: &str) -> BTreeSet<String> {
    text.split_whitespace().map(str::to_string).collect()
}

/// Refuses a plan that needs a controller the hierarchy does not have,
/// naming the controller, the file and the host's cgroup mode.
pub fn check_controllers(plan: &Plan, available: &BTreeSet<String>, mount: &Path) -> Result<()> {
    for w in &plan.writes {
        let Some(c) = w.controller() else { continue };
        if !available.contains(c) {
            let have = if available.is_empty() { "none".to_string() } else { available.iter().cloned().collect::<Vec<_>>().join(" ") };
            return Err(Error::Unsupported {
                what: format!("linux.resources ({} = {:?})", w.file, w.value).into(),
                reason: format!(
                    "the {c} controller is not available in {} (host cgroup mode: {}; available controllers: {have})",
                    mount.display(),
                    cgroup_mode(mount)
                )
                .into(),
            });
        }
    }
    Ok(())
}

/// The ancestors of `dir`, from `mount` down to `dir`'s parent (both
/// included): the cgroups whose subtree_control must list a controller for
/// `dir` to have its files.
fn ancestors(mount: &Path, dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = dir.ancestors().skip(1).take_while(|a| a.starts_with(mount)).map(Path::to_path_buf).collect();
    out.reverse();
    out
}

/// Enables `needed` controllers in every ancestor of `dir`, top down.
pub fn enable_controllers(mount: &Path, dir: &Path, needed: &BTreeSet<&str>) -> Result<()> {
    if needed.is_empty() {
        return Ok(());
    }
    for anc in ancestors(mount, dir) {
        let path = anc.join("cgroup.subtree_control");
        let have = parse_controllers(&fs::read_to_string(&path).ctx("read", &path)?);
        for c in needed.iter().filter(|c| !have.contains(**c)) {
            write_file(&path, &format!("+{c}")).map_err(|e| match e {
                Error::Sys { errno, .. } => Error::sys(format!("enable controller +{c}: write"), &path, errno),
                other => other,
            })?;
        }
    }
    Ok(())
}

/// Writes `value` to an existing cgroup file (no O_CREAT: a missing file is
/// ENOENT, not a confusing EACCES).
pub(crate) fn write_file(path: &Path, value: &str) -> Result<()> {
    let mut f = OpenOptions::new().write(true).open(path).ctx("open", path)?;
    f.write_all(value.as_bytes()).map_err(|e| Error::io(format!("write {value:?} to"), path, &e))
}

/// Applies `plan` to `cgroup` inside the hierarchy mounted at `mount`.
pub fn apply_plan(cgroup: &Cgroup, mount: &Path, plan: &Plan) -> Result<()> {
    if plan.is_empty() {
        return Ok(());
    }
    let needed = plan.controllers();
    if !needed.is_empty() {
        let root = mount.join("cgroup.controllers");
        let available = parse_controllers(&fs::read_to_string(&root).ctx("read", &root)?);
        check_controllers(plan, &available, mount)?;
        enable_controllers(mount, cgroup.dir(), &needed)?;
    }
    if let Some(limit) = plan.check_memory_usage {
        check_memory_usage(cgroup, limit)?;
    }
    let mut deferred: Option<&Write> = None;
    for w in &plan.writes {
        match write_one(cgroup.dir(), w) {
            Err(e) if w.kind == WriteKind::RetryAfterNext && e.errno() == Some(Errno::EINVAL) => {
                deferred = Some(w);
                continue;
            }
            other => other?,
        }
        if let Some(d) = deferred.take() {
            write_file(&cgroup.dir().join(&d.file), &d.value)?;
        }
    }
    match deferred {
        Some(d) => write_file(&cgroup.dir().join(&d.file), &d.value),
        None => Ok(()),
    }
}

fn write_one(dir: &Path, w: &Write) -> Result<()> {
    let path = dir.join(&w.file);
    match (write_file(&path, &w.value), &w.kind) {
        (Err(e), WriteKind::Optional) if e.errno() == Some(Errno::ENOENT) => Ok(()),
        (Err(e), WriteKind::Fallback { file, value }) if e.errno() == Some(Errno::ENOENT) => {
            write_file(&dir.join(file), value)
        }
        (r, _) => r,
    }
}

/// runc's `CheckMemoryUsage`: a new limit at or below the current usage is
/// refused instead of triggering the OOM killer.
fn check_memory_usage(cgroup: &Cgroup, limit: i64) -> Result<()> {
    let path = cgroup.dir().join("memory.current");
    let usage = match fs::read_to_string(&path) {
        Ok(t) => t.trim().parse::<i64>().unwrap_or(0),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("read", &path, &e)),
    };
    if limit <= usage {
        return Err(Error::Config {
            file: "linux.resources".into(),
            field: "memory.limit".into(),
            reason: format!("rejecting memory limit {limit} at or below the current usage {usage} (checkBeforeUpdate)"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::resources::plan;

    #[test]
    fn ancestors_top_down() {
        let a = ancestors(Path::new("/sys/fs/cgroup"), Path::new("/sys/fs/cgroup/a/b/c"));
        let want: Vec<PathBuf> = ["/sys/fs/cgroup", "/sys/fs/cgroup/a", "/sys/fs/cgroup/a/b"].iter().map(PathBuf::from).collect();
        assert_eq!(a, want);
    }

    #[test]
    fn missing_controller_names_it_and_the_mode() {
        let r = serde_json::from_str(r#"{"memory":{"limit":33554432}}"#).unwrap();
        let p = plan(&r).unwrap();
        let e = check_controllers(&p, &parse_controllers("hugetlb\n"), Path::new("/sys/fs/cgroup/unified")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("memory controller") && msg.contains("hybrid"), "{msg}");
        assert!(check_controllers(&p, &parse_controllers("cpu memory pids"), Path::new("/sys/fs/cgroup")).is_ok());
    }

    #[test]
    fn unified_key_of_a_missing_controller() {
        let r = serde_json::from_str(r#"{"unified":{"misc.max":"x 1"}}"#).unwrap();
        let p = plan(&r).unwrap();
        assert!(check_controllers(&p, &parse_controllers("cpu memory"), Path::new("/sys/fs/cgroup")).is_err());
    }

    #[test]
    fn writes_with_fallback_and_optional() {
        let dir = std::env::temp_dir().join(format!("brig-apply-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("io.weight"), "").unwrap();
        fs::write(dir.join("pids.max"), "").unwrap();
        let r = serde_json::from_str(r#"{"blockIO":{"weight":500},"hugepageLimits":[],"pids":{"limit":4}}"#).unwrap();
        let p = plan(&r).unwrap();
        let cg = Cgroup::new(&dir);
        // no controllers needed check: write directly
        for w in &p.writes {
            write_one(cg.dir(), w).unwrap();
        }
        assert_eq!(fs::read_to_string(dir.join("io.weight")).unwrap(), "4950");
        assert_eq!(fs::read_to_string(dir.join("pids.max")).unwrap(), "4");
        let opt = Write { file: "nope.rsvd.max".into(), value: "1".into(), kind: WriteKind::Optional };
        assert!(write_one(&dir, &opt).is_ok());
        let req = Write { file: "nope.max".into(), value: "1".into(), kind: WriteKind::Required };
        assert_eq!(write_one(&dir, &req).unwrap_err().errno(), Some(Errno::ENOENT));
        fs::remove_dir_all(&dir).unwrap();
    }
}
