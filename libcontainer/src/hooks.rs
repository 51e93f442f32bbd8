//! OCI lifecycle hooks: each runs with the state JSON on stdin, its own args
//! and env, and its timeout.

use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::unistd::Pid;
use oci_spec::runtime::{Hook, Hooks};

use crate::error::{Error, Result};
use crate::sys;

/// The hook stages, in lifecycle order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Prestart,
    CreateRuntime,
    CreateContainer,
    StartContainer,
    Poststart,
    Poststop,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Prestart => "prestart",
            Stage::CreateRuntime => "createRuntime",
            Stage::CreateContainer => "createContainer",
            Stage::StartContainer => "startContainer",
            Stage::Poststart => "poststart",
            Stage::Poststop => "poststop",
        }
    }
}

/// The hooks of `stage` in `spec`, in order.
pub(crate) fn of(hooks: Option<&Hooks>, stage: Stage) -> &[Hook] {
    let Some(h) = hooks else { return &[] };
    #[allow(deprecated)]
    let list = match stage {
        Stage::Prestart => h.prestart(),
        Stage::CreateRuntime => h.create_runtime(),
        Stage::CreateContainer => h.create_container(),
        Stage::StartContainer => h.start_container(),
        Stage::Poststart => h.poststart(),
        Stage::Poststop => h.poststop(),
    };
    list.as_deref().unwrap_or(&[])
}

/// Runs every hook of `stage` in order; the first failure stops the rest.
pub(crate) fn run(hooks: Option<&Hooks>, stage: Stage, state_json: &[u8]) -> Result<()> {
    for hook in of(hooks, stage) {
        run_one(stage, hook, state_json)?;
    }
    Ok(())
}

/// Runs the hooks of a stage whose failures the spec says only warn
/// (poststart, poststop): every hook runs; failures are returned together
/// for the caller to log.
pub(crate) fn run_warn(hooks: Option<&Hooks>, stage: Stage, state_json: &[u8]) -> Vec<Error> {
    of(hooks, stage).iter().filter_map(|h| run_one(stage, h, state_json).err()).collect()
}

fn run_one(stage: Stage, hook: &Hook, state_json: &[u8]) -> Result<()> {
    let fail = |reason: String| Error::Hook { stage: stage.name(), path: hook.path().clone(), reason };
    let mut cmd = Command::new(hook.path());
    if let Some(args) = hook.args() {
        if let Some((argv0, rest)) = args.split_first() {
            cmd.arg0(argv0).args(rest);
        }
    }
    cmd.env_clear();
    for kv in hook.env().iter().flatten() {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    // Hooks must not write to brig's stdout, which engines may parse.
    let stderr = std::io::stderr().as_fd().try_clone_to_owned().map_err(|e| fail(format!("dup stderr: {e}")))?;
    cmd.stdin(Stdio::piped()).stdout(Stdio::from(stderr)).stderr(Stdio::inherit());
    let mut child = cmd.spawn().map_err(|e| fail(format!("spawn: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin is fine: ignore EPIPE.
        let _ = stdin.write_all(state_json);
    }
    let timeout = hook.timeout().filter(|t| *t > 0).map(|t| Duration::from_secs(t as u64));
    if let Some(limit) = timeout {
        if !wait_exit(child.id(), limit) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(fail(format!("timed out after {}s", limit.as_secs())));
        }
    }
    let status = child.wait().map_err(|e| fail(format!("wait: {e}")))?;
    match (status.code(), status.signal()) {
        (Some(0), _) => Ok(()),
        (Some(c), _) => Err(fail(format!("exited with status {c}"))),
        (None, Some(s)) => Err(fail(format!("killed by signal {s}"))),
        _ => Err(fail("ended abnormally".into())),
    }
}

/// Waits up to `limit` for `pid` to exit, by polling its pidfd. True if it
/// exited (it is left for `wait` to reap).
fn wait_exit(pid: u32, limit: Duration) -> bool {
    let Ok(pidfd) = sys::clone::pidfd_open(Pid::from_raw(pid as i32)) else { return true };
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = PollTimeout::try_from(left.as_millis().min(i32::MAX as u128) as i32).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, ms) {
            Ok(0) => return false,
            Ok(_) => return true,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(json: &str) -> Hook {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn passes_state_and_fails_on_status() {
        let ok = hook(r#"{"path":"/bin/sh","args":["sh","-c","read x; [ \"$x\" = hello ]"]}"#);
        assert!(run_one(Stage::Prestart, &ok, b"hello\n").is_ok());
        let bad = hook(r#"{"path":"/bin/sh","args":["sh","-c","exit 3"]}"#);
        let err = run_one(Stage::Prestart, &bad, b"").unwrap_err().to_string();
        assert!(err.contains("prestart") && err.contains("status 3"), "{err}");
    }

    #[test]
    fn env_is_the_hooks_own() {
        let h = hook(r#"{"path":"/bin/sh","args":["sh","-c","[ \"$FOO\" = bar ] && [ -z \"$HOME\" ]"],"env":["FOO=bar"]}"#);
        assert!(run_one(Stage::Poststop, &h, b"").is_ok());
    }

    #[test]
    fn timeout_kills() {
        let h = hook(r#"{"path":"/bin/sleep","args":["sleep","10"],"timeout":1}"#);
        let t = Instant::now();
        let err = run_one(Stage::CreateRuntime, &h, b"").unwrap_err().to_string();
        assert!(err.contains("timed out"), "{err}");
        assert!(t.elapsed() < Duration::from_secs(5));
    }
}
