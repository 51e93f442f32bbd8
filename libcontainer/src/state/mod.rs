//! Container state: validated ids, the state directory with its lock, the
//! persisted `state.json`, and the status derived from facts.

mod dir;
mod id;
mod status;
mod time;

pub use dir::{parse_state, StateDir};
pub use id::ContainerId;
pub use status::Status;
pub(crate) use status::{derive_status, start_time};
pub(crate) use time::rfc3339_now;
/// The current time as RFC 3339 (UTC), as brig writes it in state and logs.
pub fn now_rfc3339() -> String {
    rfc3339_now()
}

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What brig persists about a container in `<root>/<id>/state.json`.
///
/// The status is not stored: it is derived from facts each time (see
/// [`Status`]), so a crashed or killed container is never reported running.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    /// The OCI spec version of the config.
    pub oci_version: String,
    /// The container id.
    pub id: String,
    /// The pid of the container's init as seen from the host.
    pub pid: i32,
    /// The init's start time in clock ticks since boot (field 22 of
    /// /proc/PID/stat), which tells a live init from a recycled pid.
    pub init_start_time: u64,
    /// The bundle directory.
    pub bundle: PathBuf,
    /// The root filesystem.
    pub rootfs: PathBuf,
    /// Creation time, RFC 3339 in UTC.
    pub created: String,
    /// The owner (empty for root, as runc).
    #[serde(default)]
    pub owner: String,
    /// Annotations from the config.
    #[serde(default)]
    pub annotations: HashMap<String, String>,
    /// The container's cgroup directory (absolute), if it has one.
    #[serde(default)]
    pub cgroup_path: Option<PathBuf>,
    /// The poststart and poststop hooks, which later commands run.
    #[serde(default)]
    pub hooks: Option<oci_spec::runtime::Hooks>,
    /// The config the container was created with, kept as raw JSON: most
    /// commands never need it, and parsing the whole spec is the largest
    /// part of their start-up cost. [`State::config`] parses it on demand.
    pub config: Box<serde_json::value::RawValue>,
}

/// The JSON `brig state` prints: runc's fields, with the derived status.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateReport<'a> {
    /// OCI spec version.
    pub oci_version: &'a str,
    /// Container id.
    pub id: &'a str,
    /// Init pid, 0 once stopped.
    pub pid: i32,
    /// Derived status.
    pub status: Status,
    /// Bundle path.
    pub bundle: &'a std::path::Path,
    /// Root filesystem path.
    pub rootfs: &'a std::path::Path,
    /// Creation time.
    pub created: &'a str,
    /// Owner.
    pub owner: &'a str,
    /// Annotations, omitted when empty.
    #[serde(skip_serializing_if = "HashMap::is_empty")]
    pub annotations: &'a HashMap<String, String>,
}

impl State {
    /// The config the container was created with (parsed now).
    pub fn config(&self) -> crate::Result<oci_spec::runtime::Spec> {
        crate::spec::parse(self.config.get().as_bytes())
    }

    /// The report for `brig state` and hooks, given the derived status.
    pub fn report(&self, status: Status) -> StateReport<'_> {
        StateReport {
            oci_version: &self.oci_version,
            id: &self.id,
            pid: if status == Status::Stopped { 0 } else { self.pid },
            status,
            bundle: &self.bundle,
            rootfs: &self.rootfs,
            created: &self.created,
            owner: &self.owner,
            annotations: &self.annotations,
        }
    }
}
