//! cgroup v2: finding the unified hierarchy, placing a container in its own
//! cgroup, and the whole-cgroup operations (kill, freeze, remove).
//!
//! brig works wherever cgroup2 is mounted: `/sys/fs/cgroup` on pure v2 hosts,
//! `/sys/fs/cgroup/unified` on hybrid hosts. v1 hierarchies are never touched.

mod apply;
pub mod devices;
mod merge;
mod path;
pub mod resources;
pub mod stats;

pub use apply::{apply_plan, cgroup_mode, check_controllers, enable_controllers, parse_controllers};
pub use path::{own_cgroup, resolve_path, unified_mount};
pub(crate) use path::standard_unified_mount;
pub use merge::{merge, Merged};
pub use resources::{plan, Plan};

use std::fs::{self, File};
use std::io::ErrorKind;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::unistd::Pid;

use crate::error::{Context, Error, Result};
use crate::spec::Config;

/// Applies a config's `linux.resources` to the container's cgroup before the
/// init is born into it, and returns warnings about settings that have no
/// effect on cgroup v2.
///
/// Files are written only for resources that are set, so a config without
/// limits costs no cgroup writes; the device program is always attached,
/// because every container gets runc's default device allow-list.
pub fn apply_resources(cgroup: &Cgroup, cfg: &Config) -> Result<Vec<String>> {
    let linux = cfg.spec.linux().as_ref();
    let res = linux.and_then(|l| l.resources().as_ref());
    let mut warnings = Vec::new();
    if let Some(r) = res {
        let p = plan(r)?;
        if !p.is_empty() {
            apply_plan(cgroup, &unified_mount()?, &p)?;
        }
        warnings = p.warnings;
    }
    let rules = res.and_then(|r| r.devices().as_deref()).unwrap_or_default();
    let nodes = linux.and_then(|l| l.devices().as_deref()).unwrap_or_default();
    devices::attach(cgroup.dir(), &devices::compile(rules, nodes)?)?;
    Ok(warnings)
}

/// A container's cgroup directory in the unified hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cgroup {
    dir: PathBuf,
}

impl Cgroup {
    /// The cgroup at `dir` (an absolute path inside a cgroup2 mount).
    pub fn new(dir: impl Into<PathBuf>) -> Cgroup {
        Cgroup { dir: dir.into() }
    }

    /// The cgroup's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates the directory (and its parents) and opens it for
    /// CLONE_INTO_CGROUP. Returns whether brig created the leaf, so that a
    /// failed create removes only what it made.
    pub fn create(&self) -> Result<(OwnedFd, bool)> {
        let created = match fs::create_dir(&self.dir) {
            Ok(()) => true,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => false,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                fs::create_dir_all(&self.dir).ctx("mkdir cgroup", &self.dir)?;
                true
            }
            Err(e) => return Err(Error::io("mkdir cgroup", &self.dir, &e)),
        };
        let fd = File::open(&self.dir).ctx("open cgroup", &self.dir)?;
        Ok((fd.into(), created))
    }

    /// Moves `pid` into the cgroup (the fallback when clone3 cannot place
    /// the child at birth).
    pub fn add_pid(&self, pid: Pid) -> Result<()> {
        self.write("cgroup.procs", &pid.to_string())
    }

    /// Writes `value` to the cgroup file `name`.
    pub fn write(&self, name: &str, value: &str) -> Result<()> {
        let path = self.dir.join(name);
        fs::write(&path, value).ctx("write", &path)
    }

    /// Reads the cgroup file `name`.
    pub fn read(&self, name: &str) -> Result<String> {
        let path = self.dir.join(name);
        fs::read_to_string(&path).ctx("read", &path)
    }

    /// Every pid in the cgroup and its descendants.
    pub fn pids(&self) -> Result<Vec<Pid>> {
        let mut out = Vec::new();
        self.collect_pids(&self.dir, &mut out)?;
        Ok(out)
    }

    fn collect_pids(&self, dir: &Path, out: &mut Vec<Pid>) -> Result<()> {
        let procs = dir.join("cgroup.procs");
        let text = match fs::read_to_string(&procs) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("read", &procs, &e)),
        };
        out.extend(text.lines().filter_map(|l| l.trim().parse().ok()).map(Pid::from_raw));
        for entry in fs::read_dir(dir).ctx("readdir", dir)?.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                self.collect_pids(&entry.path(), out)?;
            }
        }
        Ok(())
    }

    /// Kills every process in the cgroup with SIGKILL through `cgroup.kill`
    /// (Linux 5.14), which also reaches frozen and forking processes.
    pub fn kill_all(&self) -> Result<()> {
        match self.write("cgroup.kill", "1") {
            Err(e) if e.errno() == Some(nix::errno::Errno::ENOENT) && !self.dir.exists() => Ok(()),
            other => other,
        }
    }

    /// Freezes (`true`) or thaws the cgroup and waits until `cgroup.events`
    /// confirms it.
    pub fn set_frozen(&self, frozen: bool) -> Result<()> {
        self.write("cgroup.freeze", if frozen { "1" } else { "0" })?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.is_frozen() != frozen {
            if Instant::now() > deadline {
                return Err(Error::sys("wait for cgroup.events frozen", &self.dir, nix::errno::Errno::ETIMEDOUT));
            }
            sleep(Duration::from_millis(1));
        }
        Ok(())
    }

    /// True if `cgroup.events` says the cgroup is frozen.
    pub fn is_frozen(&self) -> bool {
        self.read("cgroup.events").is_ok_and(|t| t.lines().any(|l| l == "frozen 1"))
    }

    /// True while any process is in the cgroup or its descendants.
    pub fn populated(&self) -> bool {
        self.read("cgroup.events").is_ok_and(|t| t.lines().any(|l| l == "populated 1"))
    }

    /// Removes the cgroup, its child cgroups first. Processes that were just
    /// killed may take a moment to leave, so EBUSY is retried for a while.
    pub fn remove(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match remove_tree(&self.dir) {
                Ok(()) => return Ok(()),
                Err(e) if e.errno() == Some(nix::errno::Errno::EBUSY) && Instant::now() < deadline => {
                    sleep(Duration::from_millis(2));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// rmdir of a cgroup tree, deepest first. Cgroup directories hold only
/// kernel files, which rmdir removes with the directory.
fn remove_tree(dir: &Path) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("readdir", dir, &e)),
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_tree(&entry.path())?;
        }
    }
    match fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("rmdir", dir, &e)),
    }
}
