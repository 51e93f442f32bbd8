//! Namespaces: which to create with clone3, which to join by path, and the
//! user namespace's id maps.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;

use nix::sched::{setns, unshare, CloneFlags};
use nix::unistd::Pid;
use oci_spec::runtime::{Linux, LinuxIdMapping, LinuxNamespaceType as T};

use crate::error::{Context, Error, Result};
use crate::procfs::{Base, Procfs};

/// The namespace plan: pure data from the config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// CLONE_NEW* flags for clone3 (time is handled by `unshare` in the
    /// parent, since offsets must be written before any task enters it).
    pub clone_flags: u64,
    /// Namespaces to join, in the order they must be joined.
    pub join: Vec<(T, PathBuf)>,
    /// A new time namespace is wanted.
    pub new_time: bool,
    /// The container has a user namespace (new or joined).
    pub userns: bool,
    /// The container has its own mount namespace.
    pub mountns: bool,
}

fn flag(t: T) -> CloneFlags {
    match t {
        T::Mount => CloneFlags::CLONE_NEWNS,
        T::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        T::Uts => CloneFlags::CLONE_NEWUTS,
        T::Ipc => CloneFlags::CLONE_NEWIPC,
        T::User => CloneFlags::CLONE_NEWUSER,
        T::Pid => CloneFlags::CLONE_NEWPID,
        T::Network => CloneFlags::CLONE_NEWNET,
        T::Time => CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
    }
}

/// Join order: the user namespace first, so later joins happen with its
/// privileges; mount last but one, as runc does; pid and time by path are
/// joined by the parent before clone (they apply to children only).
fn join_rank(t: T) -> u8 {
    match t {
        T::User => 0,
        T::Ipc => 1,
        T::Uts => 2,
        T::Network => 3,
        T::Cgroup => 4,
        T::Mount => 5,
        T::Pid => 6,
        T::Time => 7,
    }
}

/// Builds the plan from `linux.namespaces`.
pub(crate) fn plan(linux: Option<&Linux>) -> Plan {
    let mut p = Plan::default();
    for ns in linux.and_then(|l| l.namespaces().as_ref()).into_iter().flatten() {
        let t = ns.typ();
        match ns.path() {
            Some(path) if !path.as_os_str().is_empty() => p.join.push((t, path.clone())),
            _ if t == T::Time => p.new_time = true,
            _ => p.clone_flags |= flag(t).bits() as u64,
        }
        p.userns |= t == T::User;
        p.mountns |= t == T::Mount;
    }
    p.join.sort_by_key(|(t, _)| join_rank(*t));
    p
}

/// A namespace file opened by the parent, to be joined by the init.
#[derive(Debug)]
pub(crate) struct NsFile {
    pub typ: T,
    pub path: PathBuf,
    pub fd: OwnedFd,
}

/// Opens every namespace to join, so a bad path fails before any clone.
pub(crate) fn open_all(plan: &Plan) -> Result<Vec<NsFile>> {
    plan.join
        .iter()
        .map(|(typ, path)| {
            let f = File::open(path).ctx("open namespace", path)?;
            Ok(NsFile { typ: *typ, path: path.clone(), fd: f.into() })
        })
        .collect()
}

/// Joins one namespace. setns with the expected type refuses a file of
/// another type (EINVAL), which is reported as such.
pub(crate) fn join(ns: &NsFile) -> Result<()> {
    setns(ns.fd.as_fd(), flag(ns.typ)).map_err(|e| match e {
        nix::errno::Errno::EINVAL => Error::sys(format!("setns: not a {} namespace", ns.typ), &ns.path, e),
        _ => Error::sys("setns", &ns.path, e),
    })
}

/// True for the namespaces that apply to children only and so must be
/// joined by the parent before clone.
pub(crate) fn joined_by_parent(t: T) -> bool {
    matches!(t, T::Pid | T::Time)
}

/// Creates the time namespace for the init and writes its offsets. Runs in
/// the parent before clone: offsets can only be written while no task is
/// inside the namespace yet.
pub(crate) fn new_time_ns(linux: Option<&Linux>) -> Result<()> {
    unshare(flag(T::Time)).ctx("unshare", "CLONE_NEWTIME")?;
    let mut text = String::new();
    for (clock, off) in linux.and_then(|l| l.time_offsets().as_ref()).into_iter().flatten() {
        let name = match clock.as_str() {
            "monotonic" => "monotonic",
            "boottime" => "boottime",
            other => return Err(Error::config(format!("linux.timeOffsets.{other}"), "only monotonic and boottime exist")),
        };
        text.push_str(&format!("{name} {} {}\n", off.secs().unwrap_or(0), off.nanosecs().unwrap_or(0)));
    }
    if !text.is_empty() {
        Procfs::per_process()?.write(Base::Own, "timens_offsets", text.as_bytes())?;
    }
    Ok(())
}

/// The host uid and gid that the container's root maps to (0:0 without
/// mappings).
pub(crate) fn host_root_ids(linux: Option<&Linux>) -> (nix::unistd::Uid, nix::unistd::Gid) {
    let find = |maps: Option<&Vec<LinuxIdMapping>>| {
        maps.into_iter().flatten().find(|m| m.container_id() == 0).map_or(0, |m| m.host_id())
    };
    let uid = find(linux.and_then(|l| l.uid_mappings().as_ref()));
    let gid = find(linux.and_then(|l| l.gid_mappings().as_ref()));
    (nix::unistd::Uid::from_raw(uid), nix::unistd::Gid::from_raw(gid))
}

fn map_text(maps: &[LinuxIdMapping]) -> String {
    maps.iter().map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size())).collect()
}

/// Writes the init's uid_map and gid_map (the parent does this, as the init
/// has no privileges over its own new user namespace yet).
/// The pid is the parent's own unreaped child, so it cannot be recycled.
pub(crate) fn write_id_maps(pid: Pid, linux: Option<&Linux>) -> Result<()> {
    let Some(linux) = linux else { return Ok(()) };
    let proc = Procfs::per_process()?;
    if let Some(m) = linux.uid_mappings().as_ref().filter(|m| !m.is_empty()) {
        proc.write(Base::Child(pid), "uid_map", map_text(m).as_bytes())?;
    }
    if let Some(m) = linux.gid_mappings().as_ref().filter(|m| !m.is_empty()) {
        proc.write(Base::Child(pid), "gid_map", map_text(m).as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linux(json: &str) -> Linux {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn new_and_joined() {
        let l = linux(r#"{"namespaces":[{"type":"pid"},{"type":"network","path":"/run/netns/x"},{"type":"mount"},{"type":"user","path":"/proc/1/ns/user"},{"type":"time"}]}"#);
        let p = plan(Some(&l));
        assert_eq!(p.clone_flags, (libc::CLONE_NEWPID | libc::CLONE_NEWNS) as u64);
        assert_eq!(p.join.iter().map(|(t, _)| *t).collect::<Vec<_>>(), vec![T::User, T::Network]);
        assert!(p.new_time && p.userns && p.mountns);
    }

    #[test]
    fn maps_format() {
        let l = linux(r#"{"uidMappings":[{"containerID":0,"hostID":100000,"size":65536}]}"#);
        assert_eq!(map_text(l.uid_mappings().as_ref().unwrap()), "0 100000 65536\n");
    }
}
