//! The status of a container, derived from facts rather than stored.

use std::fmt;
use std::path::Path;

use nix::unistd::Pid;
use serde::Serialize;

/// The OCI status of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// create has not finished.
    Creating,
    /// The init waits for `start`.
    Created,
    /// The user's process runs.
    Running,
    /// The cgroup is frozen.
    Paused,
    /// The init has exited.
    Stopped,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        })
    }
}

/// The start time (clock ticks after boot) of `pid`, from /proc/PID/stat, or
/// None if the process is gone or a zombie.
pub(crate) fn start_time(pid: Pid) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat)
}

/// Fields after the `(comm)`, which may itself hold spaces and parentheses.
fn parse_stat(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    // rest starts at field 3 (state); the start time is field 22.
    let state = fields.next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

/// Derives the status: the init must be alive with the recorded start time;
/// `exec.fifo` present means start has not happened yet; a frozen cgroup
/// means paused.
pub(crate) fn derive_status(pid: i32, recorded_start: u64, state_dir: &Path, frozen: bool) -> Status {
    if pid == 0 {
        return Status::Creating;
    }
    let alive = pid > 0 && start_time(Pid::from_raw(pid)) == Some(recorded_start);
    if !alive {
        return Status::Stopped;
    }
    if state_dir.join(super::dir::EXEC_FIFO).exists() {
        return Status::Created;
    }
    if frozen {
        return Status::Paused;
    }
    Status::Running
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_odd_comm() {
        let line = "42 (a) b) S 1 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 98765 1000 10";
        assert_eq!(parse_stat(line), Some(98765));
    }

    #[test]
    fn zombie_is_gone() {
        let line = "42 (x) Z 1 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 98765 1000 10";
        assert_eq!(parse_stat(line), None);
    }

    #[test]
    fn self_is_alive() {
        let me = Pid::this();
        let t = start_time(me).unwrap();
        let dir = std::env::temp_dir();
        assert_eq!(derive_status(me.as_raw(), t, &dir.join("no-such-dir-brig"), false), Status::Running);
        assert_eq!(derive_status(me.as_raw(), t + 1, &dir, false), Status::Stopped);
    }
}
