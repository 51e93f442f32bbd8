//! One container under test: its bundle, its id, and a guard that cleans up.

use crate::probe::Probe;
use crate::runtime::{seq, Out, Runtime, Spawned};
use crate::spec::Spec;
use crate::tmp::TempDir;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};


/// A bundle plus a unique id under a [`Runtime`]. Dropping it runs
/// `delete --force ID` and removes the bundle, also when the test panicked.
#[derive(Debug)]
pub struct Container {
    /// The container id: unique per test process and test.
    pub id: String,
    /// The runtime, with this test's own `--root`.
    pub rt: Runtime,
    bundle: TempDir,
}

impl Runtime {
    /// A new container `it-NAME-PID-N` under this runtime, its bundle made from `spec`.
    pub fn container(&self, name: &str, spec: &Spec) -> Container {
        let id = format!("it-{name}-{}-{}", std::process::id(), seq());
        let bundle = TempDir::new("bundle");
        crate::rootfs::make_rootfs(&bundle.join("rootfs"));
        let c = Container { id, rt: self.clone(), bundle };
        c.write_spec(spec);
        c
    }
}

impl Container {
    /// A container with its own runtime state dir.
    pub fn new(name: &str, spec: &Spec) -> Container {
        Runtime::new().container(name, spec)
    }

    /// The bundle dir.
    pub fn bundle(&self) -> &Path {
        self.bundle.path()
    }

    /// The bundle's rootfs dir (tests may change it before create).
    pub fn rootfs(&self) -> PathBuf {
        self.bundle.join("rootfs")
    }

    /// A path inside the bundle (for outputs of hooks and the like).
    pub fn path(&self, name: &str) -> PathBuf {
        self.bundle.join(name)
    }

    /// (Re)writes config.json.
    pub fn write_spec(&self, spec: &Spec) {
        std::fs::write(self.bundle.join("config.json"), spec.to_json()).unwrap();
    }

    /// The unified cgroup dir named by config.json's `linux.cgroupsPath`, if any.
    fn spec_cgroup(&self) -> Option<PathBuf> {
        let text = std::fs::read_to_string(self.bundle.join("config.json")).ok()?;
        let v: Value = serde_json::from_str(&text).ok()?;
        Some(crate::host::cgroup_dir_for(v.pointer("/linux/cgroupsPath")?.as_str()?))
    }

    /// The pid file path that [`Container::create`] passes.
    pub fn pid_file(&self) -> PathBuf {
        self.bundle.join("container.pid")
    }

    /// The file that receives the stdout of `create` (and so the container's).
    pub fn stdout_path(&self) -> PathBuf {
        self.bundle.join("create.out")
    }

    /// What the container wrote to stdout so far (when made with `create`).
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.stdout_path()).unwrap_or_default()
    }

    /// `create --bundle B --pid-file P [extra] ID` as a command, stdin from
    /// /dev/null; stdio as the caller sets it.
    pub fn create_cmd(&self, extra: &[&str]) -> Command {
        let b = self.bundle().to_str().unwrap();
        let p = self.pid_file();
        let mut args = vec!["create", "--bundle", b, "--pid-file", p.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.push(&self.id);
        self.rt.cmd(&args)
    }

    /// Runs `create` to completion; its stdout (and so the container's) goes to
    /// [`Container::stdout_path`], its stderr to `create.err` in the bundle.
    #[track_caller]
    pub fn create_with(&self, extra: &[&str]) -> Out {
        Spawned::spawn_to(self.create_cmd(extra), self.stdout_path(), self.bundle.join("create.err")).wait()
    }

    /// `create`, which must succeed.
    #[track_caller]
    pub fn create(&self) -> Out {
        self.create_with(&[]).ok()
    }

    /// `start ID`.
    #[track_caller]
    pub fn start(&self) -> Out {
        self.rt.run(&["start", &self.id])
    }

    /// `create` then `start`, both must succeed.
    #[track_caller]
    pub fn create_start(&self) {
        self.create();
        self.start().ok();
    }

    /// `run --bundle B [extra] ID` as a command, not spawned.
    pub fn run_cmd(&self, extra: &[&str]) -> Command {
        let mut args = vec!["run", "--bundle", self.bundle().to_str().unwrap()];
        args.extend_from_slice(extra);
        args.push(&self.id);
        self.rt.cmd(&args)
    }

    /// `run` in the foreground, spawned.
    pub fn spawn_run(&self, extra: &[&str]) -> Spawned {
        self.rt.spawn(self.run_cmd(extra))
    }

    /// `run` in the foreground, to completion.
    #[track_caller]
    pub fn run(&self, extra: &[&str]) -> Out {
        self.spawn_run(extra).wait()
    }

    /// Runs the container (default args: the probe) and parses what it printed.
    #[track_caller]
    pub fn probe(&self) -> Probe {
        let out = self.run(&[]);
        assert!(out.status.success(), "probe run failed: {out}");
        Probe::parse(&out.stdout)
    }

    /// `state ID`, which must succeed, parsed.
    #[track_caller]
    pub fn state(&self) -> Value {
        let out = self.rt.run(&["state", &self.id]).ok();
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("state is not JSON ({e}): {out}"))
    }

    /// `state ID`'s status.
    #[track_caller]
    pub fn status(&self) -> String {
        self.state()["status"].as_str().unwrap().to_string()
    }

    /// `state ID`'s pid.
    #[track_caller]
    pub fn pid(&self) -> i32 {
        self.state()["pid"].as_i64().unwrap() as i32
    }

    /// Polls `state` until the status is `want`.
    #[track_caller]
    pub fn wait_status(&self, want: &str) {
        let t0 = Instant::now();
        loop {
            let s = self.status();
            if s == want {
                return;
            }
            assert!(t0.elapsed() < crate::runtime::TIMEOUT, "status stayed {s}, wanted {want}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Polls the container's stdout until it contains `needle`.
    #[track_caller]
    pub fn wait_stdout(&self, needle: &str) {
        let t0 = Instant::now();
        while !self.stdout().contains(needle) {
            assert!(t0.elapsed() < crate::runtime::TIMEOUT, "no {needle:?} in stdout: {:?}", self.stdout());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `kill ID [SIG]`.
    #[track_caller]
    pub fn kill(&self, sig: Option<&str>) -> Out {
        match sig {
            Some(s) => self.rt.run(&["kill", &self.id, s]),
            None => self.rt.run(&["kill", &self.id]),
        }
    }

    /// `delete [--force] ID`.
    #[track_caller]
    pub fn delete(&self, force: bool) -> Out {
        if force {
            self.rt.run(&["delete", "--force", &self.id])
        } else {
            self.rt.run(&["delete", &self.id])
        }
    }

    /// The runtime's state dir of this container (`ROOT/ID`).
    pub fn state_dir(&self) -> PathBuf {
        self.rt.root().join(&self.id)
    }

    /// Asserts that nothing of this container is left: no state dir, no process
    /// started from its bundle or by its runtime invocations, no mount of its
    /// bundle on the host, and no `cgroup` dir (when given: the unified path).
    #[track_caller]
    pub fn assert_nothing_left(&self, cgroup: Option<&Path>) {
        let sd = self.state_dir();
        assert!(!sd.exists(), "state dir {} is left: {:?}", sd.display(), std::fs::read_dir(&sd).map(|d| d.count()));
        let procs = crate::host::processes_mentioning(&[self.bundle(), self.rt.root()]);
        assert!(procs.is_empty(), "processes left: {procs:?}");
        let mounts = crate::host::host_mounts_under(self.bundle());
        assert!(mounts.is_empty(), "host mounts left: {mounts:?}");
        if let Some(cg) = cgroup {
            assert!(!cg.exists(), "cgroup {} is left", cg.display());
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self.rt.spawn(self.rt.cmd(&["delete", "--force", &self.id])).wait_quiet(Duration::from_secs(30));
        // an empty cgroup a failed test left behind (rmdir refuses non-empty ones)
        if let Some(cg) = self.spec_cgroup() {
            let _ = std::fs::remove_dir(cg);
        }
    }
}
