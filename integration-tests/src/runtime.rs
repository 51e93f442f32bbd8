//! The runtime binary under test and running its commands.

use crate::tmp::TempDir;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long any runtime command may take before the test fails. Generous on purpose.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The binary under test: `BRIG_BIN`, or `<workspace>/target/release/brig`.
pub fn runtime_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("BRIG_BIN") {
        return PathBuf::from(p);
    }
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let bin = ws.join("target/release/brig");
    assert!(bin.exists(), "{} missing: run `cargo build --release -p brig` or set BRIG_BIN", bin.display());
    bin
}

/// True when the binary under test is runc (used only to explain, never to skip).
pub fn is_runc() -> bool {
    runtime_bin().file_name().is_some_and(|n| n == "runc")
}

/// What a finished command did.
#[derive(Debug)]
pub struct Out {
    /// The exit status.
    pub status: ExitStatus,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
    /// The command line, for messages.
    pub cmdline: String,
}

impl Out {
    /// The exit code (None when killed by a signal).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Asserts exit 0 and returns self.
    #[track_caller]
    pub fn ok(self) -> Out {
        assert!(self.status.success(), "`{}` failed: {self}", self.cmdline);
        self
    }

    /// Asserts a non-zero exit (not a crash by signal) and returns self.
    #[track_caller]
    pub fn fails(self) -> Out {
        assert!(
            matches!(self.code(), Some(c) if c != 0),
            "`{}` should have failed with an exit code: {self}",
            self.cmdline
        );
        self
    }

    /// Asserts a failure whose stderr is one non-empty line (the operator's error
    /// message) and returns self.
    #[track_caller]
    pub fn fails_with_one_line(self) -> Out {
        let out = self.fails();
        let lines: Vec<&str> = out.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "`{}` should print one error line: {out}", out.cmdline);
        out
    }
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n--- stdout\n{}--- stderr\n{}---", self.status, self.stdout, self.stderr)
    }
}

/// A child spawned with stdout/stderr going to files (never pipes: a container
/// keeps the stdio of `create`, so a pipe would not reach EOF while it lives).
#[derive(Debug)]
pub struct Spawned {
    /// The child (the runtime process).
    pub child: Child,
    out: PathBuf,
    err: PathBuf,
    cmdline: String,
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A per-process unique number.
pub fn seq() -> usize {
    SEQ.fetch_add(1, Ordering::Relaxed)
}

impl Spawned {
    /// Spawns `cmd` with stdin from /dev/null (unless set) and stdout/stderr to new
    /// files in `dir`.
    pub fn spawn(cmd: Command, dir: &Path) -> Spawned {
        let n = seq();
        Spawned::spawn_to(cmd, dir.join(format!("cmd{n}.out")), dir.join(format!("cmd{n}.err")))
    }

    /// Spawns `cmd` with stdout and stderr going to (new) files `out` and `err`.
    pub fn spawn_to(mut cmd: Command, out: PathBuf, err: PathBuf) -> Spawned {
        cmd.stdout(std::fs::File::create(&out).unwrap()).stderr(std::fs::File::create(&err).unwrap());
        let cmdline = format!("{cmd:?}");
        let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmdline}: {e}"));
        Spawned { child, out, err, cmdline }
    }

    /// stdout so far.
    pub fn stdout_now(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Polls stdout until it contains `needle`; panics after [`TIMEOUT`] or when the
    /// child exits first.
    #[track_caller]
    pub fn wait_stdout(&mut self, needle: &str) {
        let t0 = Instant::now();
        loop {
            if self.stdout_now().contains(needle) {
                return;
            }
            if let Some(st) = self.child.try_wait().unwrap() {
                panic!("`{}` exited ({st}) before printing {needle:?}: {}", self.cmdline, self.collect(st));
            }
            assert!(t0.elapsed() < TIMEOUT, "`{}`: no {needle:?} after {TIMEOUT:?}", self.cmdline);
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the child (killing it and panicking after `timeout`).
    #[track_caller]
    pub fn wait_timeout(mut self, timeout: Duration) -> Out {
        let t0 = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return self.collect(st);
            }
            if t0.elapsed() > timeout {
                let _ = self.child.kill();
                let st = self.child.wait().unwrap();
                panic!("`{}` did not finish within {timeout:?}: {}", self.cmdline, self.collect(st));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits up to `timeout`, then kills the child; never panics (for Drop guards).
    pub fn wait_quiet(mut self, timeout: Duration) -> Option<Out> {
        let t0 = Instant::now();
        while t0.elapsed() < timeout {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(self.collect(st));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }

    /// [`Spawned::wait_timeout`] with [`TIMEOUT`].
    #[track_caller]
    pub fn wait(self) -> Out {
        self.wait_timeout(TIMEOUT)
    }

    fn collect(&self, status: ExitStatus) -> Out {
        Out {
            status,
            stdout: std::fs::read_to_string(&self.out).unwrap_or_default(),
            stderr: std::fs::read_to_string(&self.err).unwrap_or_default(),
            cmdline: self.cmdline.clone(),
        }
    }
}

#[derive(Debug)]
struct Inner {
    bin: PathBuf,
    root: TempDir,
    /// where command outputs go
    logs: TempDir,
}

/// The runtime under test with its own `--root` state dir (a temp dir). Cheap to
/// clone; the dir is removed when the last clone is dropped.
#[derive(Clone, Debug)]
pub struct Runtime(Arc<Inner>);

impl Default for Runtime {
    fn default() -> Self {
        Runtime::new()
    }
}

impl Runtime {
    /// A runtime with a fresh state dir.
    pub fn new() -> Runtime {
        Runtime(Arc::new(Inner { bin: runtime_bin(), root: TempDir::new("root"), logs: TempDir::new("logs") }))
    }

    /// The `--root` dir.
    pub fn root(&self) -> &Path {
        self.0.root.path()
    }

    /// The binary.
    pub fn bin(&self) -> &Path {
        &self.0.bin
    }

    /// `BIN --root ROOT ARGS...`, stdin from /dev/null.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.0.bin);
        c.arg("--root").arg(self.root()).args(args).stdin(Stdio::null());
        c
    }

    /// Spawns `cmd` with outputs in this runtime's log dir.
    pub fn spawn(&self, cmd: Command) -> Spawned {
        Spawned::spawn(cmd, self.0.logs.path())
    }

    /// Runs `BIN --root ROOT ARGS...` to completion.
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> Out {
        self.spawn(self.cmd(args)).wait()
    }

    /// Runs the binary without `--root`.
    #[track_caller]
    pub fn run_bare(&self, args: &[&str]) -> Out {
        let mut c = Command::new(&self.0.bin);
        c.args(args).stdin(Stdio::null());
        self.spawn(c).wait()
    }

    /// Entries of the state dir (empty when it does not exist).
    pub fn state_entries(&self) -> Vec<String> {
        match std::fs::read_dir(self.root()) {
            Ok(rd) => rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
            Err(_) => vec![],
        }
    }
}
