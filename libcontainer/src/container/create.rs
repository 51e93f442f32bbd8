//! `create`: everything up to an init waiting on exec.fifo, and the
//! clean-up that makes a failed create leave nothing behind.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use nix::unistd::Pid;

use super::Container;
use crate::cgroups::{self, Cgroup};
use crate::error::{Context, Error, Result};
use crate::security::seccomp;
use crate::spawn::{spawn, SpawnRequest};
use crate::spec::Config;
use crate::state::{rfc3339_now, start_time, ContainerId, State, StateDir, Status};

/// Options of `create` (and `run`), as runc's flags give them.
#[derive(Debug, Clone)]
pub struct CreateOptions {
    /// The state root (`--root`).
    pub root: PathBuf,
    /// The container id.
    pub id: String,
    /// The bundle directory (`--bundle`).
    pub bundle: PathBuf,
    /// Where to write the init's pid (`--pid-file`).
    pub pid_file: Option<PathBuf>,
    /// The console socket to send the pty master to (`--console-socket`).
    pub console_socket: Option<PathBuf>,
    /// MS_MOVE + chroot instead of pivot_root (`--no-pivot`).
    pub no_pivot: bool,
    /// Keep the caller's session keyring (`--no-new-keyring`).
    pub no_new_keyring: bool,
    /// How many fds after stdio the process inherits (`--preserve-fds`).
    pub preserve_fds: u32,
    /// Extra environment for the process (e.g. LISTEN_FDS), appended.
    pub extra_env: Vec<String>,
    /// `--systemd-cgroup` was given.
    pub systemd_cgroup: bool,
    /// The caller keeps the pty master itself (`run` in the foreground);
    /// otherwise a terminal needs `console_socket`.
    pub keep_console: bool,
}

impl CreateOptions {
    /// Options with runc's defaults for `id` and `bundle` under `root`.
    pub fn new(root: impl Into<PathBuf>, id: &str, bundle: impl Into<PathBuf>) -> CreateOptions {
        CreateOptions {
            root: root.into(),
            id: id.to_string(),
            bundle: bundle.into(),
            pid_file: None,
            console_socket: None,
            no_pivot: false,
            no_new_keyring: false,
            preserve_fds: 0,
            extra_env: Vec::new(),
            systemd_cgroup: false,
            keep_console: false,
        }
    }
}

/// What a create made so far, removed again if it fails.
struct Undo<'a> {
    dir: Option<StateDir>,
    cgroup: Option<&'a Cgroup>,
}

impl Undo<'_> {
    fn run(self) {
        if let Some(cg) = self.cgroup {
            let _ = cg.kill_all();
            let _ = cg.remove();
        }
        if let Some(dir) = self.dir {
            let _ = dir.remove();
        }
    }
}

impl Container {
    /// Creates the container: validates the bundle, makes the state dir and
    /// cgroup, spawns the init, and returns once it waits for `start`.
    /// On failure nothing is left: no state dir, cgroup, process or fifo.
    pub fn create(opts: &CreateOptions) -> Result<Container> {
        let id = ContainerId::parse(&opts.id)?;
        let mut cfg = Config::load(&opts.bundle)?;
        add_env(&mut cfg, &opts.extra_env);
        check_preserved_fds(opts.preserve_fds)?;
        if cfg.terminal() && opts.console_socket.is_none() && !opts.keep_console {
            // Nobody would ever hold the pty master (runc refuses the same way).
            return Err(Error::Unsupported {
                what: "process.terminal".into(),
                reason: "cannot allocate a tty for a detached container without --console-socket".into(),
            });
        }
        let program = match cfg.spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
            // Compiled once here, before any process exists; reused from the
            // state root's cache when the same profile was compiled before.
            Some(s) => Some(seccomp::compile_cached(s, &opts.root)?),
            None => None,
        };
        let cgroup = Cgroup::new(cgroup_dir(&cfg, &id, opts.systemd_cgroup)?);
        let dir = StateDir::create(&opts.root, &id)?;
        let (cgroup_fd, made_cgroup) = match cgroup.create() {
            Ok(x) => x,
            Err(e) => {
                Undo { dir: Some(dir), cgroup: None }.run();
                return Err(e);
            }
        };
        let undo_cg = made_cgroup.then_some(&cgroup);
        let result = (|| {
            // Limits and the device program are in place before the init
            // is cloned into the cgroup, so it never runs unconstrained.
            for w in cgroups::apply_resources(&cgroup, &cfg)? {
                // Settings without effect on v2: say so, as runc does, and go on.
                eprintln!("brig: warning: {w}");
            }
            let created = rfc3339_now();
            let base = base_state(&cfg, &id, &cgroup, &created)?;
            // Written before the clone, so that if this process dies
            // mid-way, `delete --force` still knows the cgroup to kill and
            // remove (status shows "creating": pid 0).
            dir.write_state(&base)?;
            let hook_state = |pid: Pid, status: Status| {
                let mut s = base.clone();
                s.pid = pid.as_raw();
                serde_json::to_vec(&s.report(status)).unwrap_or_default()
            };
            let req = SpawnRequest {
                cfg: &cfg,
                state_dir: &dir,
                cgroup: Some((&cgroup, cgroup_fd.as_fd())),
                seccomp: program.as_ref(),
                no_pivot: opts.no_pivot,
                no_new_keyring: opts.no_new_keyring,
                preserve_fds: opts.preserve_fds,
                hook_state: &hook_state,
            };
            let spawned = spawn(&req)?;
            let mut state = base;
            state.pid = spawned.pid.as_raw();
            state.init_start_time = start_time(spawned.pid).unwrap_or(0);
            dir.write_state(&state)?;
            if let Some(p) = &opts.pid_file {
                write_pid_file(p, spawned.pid)?;
            }
            if let (Some(sock), Some(master)) = (&opts.console_socket, &spawned.console) {
                crate::spawn::send_console(sock, master.as_fd())?;
            }
            Ok(Container {
                root: opts.root.clone(),
                state,
                pidfd: Some(spawned.pidfd),
                console: spawned.console,
                notes: spawned.notes,
            })
        })();
        match result {
            Ok(c) => Ok(c),
            Err(e) => {
                Undo { dir: Some(dir), cgroup: undo_cg }.run();
                Err(e)
            }
        }
    }
}

fn base_state(cfg: &Config, id: &ContainerId, cgroup: &Cgroup, created: &str) -> Result<State> {
    let config = match &cfg.raw {
        Some(text) => serde_json::value::RawValue::from_string(text.clone()),
        None => serde_json::value::to_raw_value(&cfg.spec),
    }
    .map_err(|e| Error::config("(document)", e.to_string()))?;
    Ok(State {
        oci_version: cfg.spec.version().clone(),
        id: id.to_string(),
        pid: 0,
        init_start_time: 0,
        bundle: cfg.bundle.clone(),
        rootfs: cfg.rootfs.clone(),
        created: created.to_string(),
        owner: String::new(),
        annotations: cfg.spec.annotations().clone().unwrap_or_default(),
        cgroup_path: Some(cgroup.dir().to_path_buf()),
        hooks: cfg.spec.hooks().clone(),
        config,
    })
}

fn cgroup_dir(cfg: &Config, id: &ContainerId, systemd: bool) -> Result<PathBuf> {
    let mount = cgroups::unified_mount()?;
    let own = cgroups::own_cgroup()?;
    let path = cfg.spec.linux().as_ref().and_then(|l| l.cgroups_path().as_deref());
    cgroups::resolve_path(&mount, path, id.as_str(), &own, systemd)
}

fn add_env(cfg: &mut Config, extra: &[String]) {
    if extra.is_empty() {
        return;
    }
    // The stored config must show the env the process really got.
    cfg.raw = None;
    if let Some(p) = cfg.spec.process_mut().as_mut() {
        let mut env = p.env().clone().unwrap_or_default();
        env.extend(extra.iter().cloned());
        p.set_env(Some(env));
    }
}

/// Every fd the caller promised with --preserve-fds must be open; brig's
/// own fds are then numbered above them and cannot be passed on by mistake.
fn check_preserved_fds(n: u32) -> Result<()> {
    for fd in 3..3 + n {
        let p = format!("/proc/self/fd/{fd}");
        if std::fs::symlink_metadata(&p).is_err() {
            return Err(Error::sys("--preserve-fds: fd is not open", p, nix::errno::Errno::EBADF));
        }
    }
    Ok(())
}

/// Writes the pid file atomically, as runc does (engines poll for it).
pub(super) fn write_pid_file(path: &Path, pid: Pid) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp", path.file_name().map_or("pid".into(), |n| n.to_string_lossy())));
    std::fs::write(&tmp, pid.to_string()).ctx("write", &tmp)?;
    std::fs::rename(&tmp, path).ctx("rename", path)
}
