//! The container operations that act through its cgroup: pause, resume,
//! update, stats, events and the process list.

use std::fs::File;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::unistd::Pid;
use oci_spec::runtime::LinuxResources;

use super::Container;
use crate::cgroups::stats::{self, Event, Stats};
use crate::cgroups::{self, devices, Cgroup};
use crate::error::{Error, Result};
use crate::state::{ContainerId, StateDir, Status};

impl Container {
    /// The container's cgroup, or an error for a container without one.
    fn require_cgroup(&self, op: &'static str) -> Result<Cgroup> {
        self.cgroup().ok_or_else(|| Error::BadStatus { op, id: self.state.id.clone(), status: "without a cgroup".into() })
    }

    fn require(&self, op: &'static str, allowed: &[Status]) -> Result<Status> {
        let status = self.status();
        if !allowed.contains(&status) {
            return Err(Error::BadStatus { op, id: self.state.id.clone(), status: status.to_string() });
        }
        Ok(status)
    }

    fn lock(&self) -> Result<StateDir> {
        StateDir::open(&self.root, &ContainerId::parse(&self.state.id)?)
    }

    /// Freezes every process of the container (`cgroup.freeze`) and waits
    /// until the kernel reports the cgroup frozen. Its status is then paused.
    pub fn pause(&self) -> Result<()> {
        let _lock = self.lock()?;
        self.require("pause", &[Status::Running, Status::Created])?;
        self.require_cgroup("pause")?.set_frozen(true)
    }

    /// Thaws a paused container (also one paused before `start`, whose
    /// status still says created).
    pub fn resume(&self) -> Result<()> {
        let _lock = self.lock()?;
        self.require("resume", &[Status::Paused, Status::Created])?;
        self.require_cgroup("resume")?.set_frozen(false)
    }

    /// Changes the resources of a live container, as `runc update` does:
    /// zero or absent values are left unchanged; device rules, if given,
    /// replace the old ones and the device program is swapped atomically.
    /// The merged resources are saved in state.json. Returns warnings about
    /// settings without effect on cgroup v2.
    pub fn update(&mut self, new: &LinuxResources) -> Result<Vec<String>> {
        let dir = self.lock()?;
        self.require("update", &[Status::Created, Status::Running, Status::Paused])?;
        let cg = self.require_cgroup("update")?;
        let mut config = self.state.config()?;
        let linux = config.linux().clone().unwrap_or_default();
        let old = linux.resources().clone().unwrap_or_default();
        let merged = cgroups::merge(&old, new);
        let plan = cgroups::plan(&merged.apply)?;
        // Compile before writing anything, so a bad rule changes nothing.
        let program = match new.devices() {
            Some(_) => {
                let rules = merged.stored.devices().as_deref().unwrap_or_default();
                Some(devices::compile(rules, linux.devices().as_deref().unwrap_or_default())?)
            }
            None => None,
        };
        if !plan.is_empty() {
            cgroups::apply_plan(&cg, &cgroups::unified_mount()?, &plan)?;
        }
        if let Some(p) = program {
            devices::attach(cg.dir(), &p)?;
        }
        let mut linux = linux;
        linux.set_resources(Some(merged.stored));
        config.set_linux(Some(linux));
        self.state.config = serde_json::value::to_raw_value(&config)
            .map_err(|e| crate::Error::config("(document)", e.to_string()))?;
        dir.write_state(&self.state)?;
        Ok(plan.warnings)
    }

    /// The container's statistics, in runc's `events --stats` shape.
    pub fn stats(&self) -> Result<Stats> {
        self.require("stats", &[Status::Created, Status::Running, Status::Paused])?;
        stats::read(self.require_cgroup("stats")?.dir())
    }

    /// The host pids of every process in the container.
    pub fn processes(&self) -> Result<Vec<Pid>> {
        self.require("ps", &[Status::Created, Status::Running, Status::Paused])?;
        self.require_cgroup("ps")?.pids()
    }

    /// Streams events until the container stops: a `stats` event every
    /// `interval`, and an `oom` event whenever `memory.events` counts a new
    /// OOM kill (watched with poll(2) POLLPRI, which kernfs raises on every
    /// change). `emit` receives each event; its error ends the stream.
    pub fn watch_events(&self, interval: Duration, emit: &mut dyn FnMut(&Event) -> Result<()>) -> Result<()> {
        self.require("events", &[Status::Created, Status::Running, Status::Paused])?;
        let cg = self.require_cgroup("events")?;
        let events_path = cg.dir().join("memory.events");
        let watch = File::open(&events_path).ok();
        let mut seen = stats::oom_kills(cg.dir())?;
        let interval = interval.max(Duration::from_millis(1));
        let mut next = Instant::now() + interval;
        loop {
            // Poll in short slices so a stopped container ends the stream.
            let slice = next.saturating_duration_since(Instant::now()).min(Duration::from_millis(500));
            wait_change(watch.as_ref(), slice, &events_path)?;
            let ooms = stats::oom_kills(cg.dir()).unwrap_or(seen);
            if ooms > seen {
                seen = ooms;
                emit(&Event { kind: "oom", id: self.state.id.clone(), data: None })?;
            }
            if self.status() == Status::Stopped {
                return Ok(());
            }
            if Instant::now() >= next {
                next += interval;
                let data = stats::read(cg.dir())?;
                emit(&Event { kind: "stats", id: self.state.id.clone(), data: Some(data) })?;
            }
        }
    }
}

/// Waits up to `timeout` for the watched cgroup file to change (POLLPRI),
/// or just sleeps when there is nothing to watch.
fn wait_change(file: Option<&File>, timeout: Duration, path: &std::path::Path) -> Result<()> {
    let Some(f) = file else {
        std::thread::sleep(timeout);
        return Ok(());
    };
    let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
    let mut fds = [PollFd::new(f.as_fd(), PollFlags::POLLPRI)];
    match poll(&mut fds, PollTimeout::from(ms)) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => {}
        Err(e) => return Err(Error::sys("poll", path, e)),
    }
    if fds[0].revents().is_some_and(|r| !r.is_empty()) {
        // Reading re-arms kernfs' notification for this open file. A cgroup
        // removed under us (ENODEV) ends the stream through the caller's
        // status check instead.
        let mut buf = [0u8; 512];
        match nix::sys::uio::pread(f.as_fd(), &mut buf, 0) {
            Ok(_) | Err(nix::errno::Errno::ENODEV | nix::errno::Errno::ENOENT) => {}
            Err(e) => return Err(Error::sys("pread", path, e)),
        }
    }
    Ok(())
}
