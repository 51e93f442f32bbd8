//! LSM labels: `process.apparmorProfile`, `process.selinuxLabel` and
//! `linux.mountLabel`, as runc applies them.
//!
//! The decision is pure ([`plan`], [`mount_label_how`]), taken by the
//! parent from the spec and what the host has switched on ([`HostLsm`]). A
//! label for an LSM the host does not run is skipped with a note (a debug
//! line), as runc does; on a host that runs it, a label that cannot be
//! applied is an error naming the file and errno. The writes go to
//! `/proc/thread-self/attr/...` through brig's private procfs, never the
//! container's /proc (CVE-2019-16884, CVE-2023-28642).

use std::path::Path;

use nix::errno::Errno;
use nix::sys::statfs::{statfs, FsType};
use oci_spec::runtime::Process;

use crate::error::Result;
use crate::procfs::{Base, Procfs};

/// selinuxfs's statfs magic (`SELINUX_MAGIC` in linux/magic.h).
const SELINUX_MAGIC: FsType = FsType(0xf97c_ff8c);

/// The LSMs the host has switched on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct HostLsm {
    /// AppArmor: securityfs has its directory and the module says `Y`.
    pub apparmor: bool,
    /// SELinux: selinuxfs is mounted at /sys/fs/selinux.
    pub selinux: bool,
}

impl HostLsm {
    /// Looks at the host, as runc does (run by the parent, on the host's
    /// /sys, before any container process exists).
    pub(crate) fn probe() -> HostLsm {
        let apparmor = Path::new("/sys/kernel/security/apparmor").is_dir()
            && std::fs::read("/sys/module/apparmor/parameters/enabled").is_ok_and(|v| v.starts_with(b"Y"));
        let selinux = statfs("/sys/fs/selinux").is_ok_and(|s| s.filesystem_type() == SELINUX_MAGIC);
        HostLsm { apparmor, selinux }
    }
}

/// One write of a label to an attribute file of the process's own thread;
/// it takes effect at execve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttrWrite {
    /// What is written, for messages: `AppArmor profile`, `SELinux label`.
    pub what: &'static str,
    /// The file under /proc/thread-self, and the older one to fall back to
    /// when the kernel does not have the first.
    pub file: &'static str,
    /// The fallback file, if any.
    pub fallback: Option<&'static str>,
    /// The bytes written.
    pub value: String,
}

/// What the LSM labels of one process come to on this host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LsmPlan {
    /// Attribute writes, in order, made by the process itself before execve.
    pub writes: Vec<AttrWrite>,
    /// The SELinux context for the container's new filesystems.
    pub mount_label: Option<String>,
    /// What was skipped and why, for the caller's debug log.
    pub notes: Vec<String>,
}

/// Plans the labels of `process` (and the container's `mount_label`, None
/// for exec) on a host running `host()`'s LSMs. `host` (the probe of /sys)
/// is only called when a label is asked for: most containers have none, and
/// create and exec should not pay for looking.
pub(crate) fn plan(process: &Process, mount_label: Option<&str>, host: impl FnOnce() -> HostLsm) -> LsmPlan {
    let mut p = LsmPlan::default();
    let set = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    let wanted = set(process.apparmor_profile()).is_some()
        || set(process.selinux_label()).is_some()
        || mount_label.is_some_and(|l| !l.is_empty());
    if !wanted {
        return p;
    }
    let host = host();
    if let Some(profile) = set(process.apparmor_profile()) {
        if host.apparmor {
            // "exec NAME" is AppArmor's change_onexec request.
            p.writes.push(AttrWrite {
                what: "AppArmor profile",
                file: "attr/apparmor/exec",
                fallback: Some("attr/exec"),
                value: format!("exec {profile}"),
            });
        } else {
            p.notes.push(format!("process.apparmorProfile {profile:?} skipped: AppArmor is not enabled on this host"));
        }
    }
    if let Some(label) = set(process.selinux_label()) {
        if host.selinux {
            p.writes.push(AttrWrite { what: "SELinux label", file: "attr/exec", fallback: None, value: label });
        } else {
            p.notes.push(format!("process.selinuxLabel {label:?} skipped: SELinux is not enabled on this host"));
        }
    }
    if let Some(label) = mount_label.filter(|l| !l.is_empty()) {
        if host.selinux {
            p.mount_label = Some(label.to_string());
        } else {
            p.notes.push(format!("linux.mountLabel {label:?} skipped: SELinux is not enabled on this host"));
        }
    }
    p
}

/// Makes the planned writes, through brig's procfs. A write the LSM
/// refuses is an error naming the file and errno: the process must never
/// run unconfined when confinement was asked for on a host that has it.
pub(crate) fn apply(proc: &Procfs, writes: &[AttrWrite]) -> Result<()> {
    for w in writes {
        match (proc.write(Base::Thread, w.file, w.value.as_bytes()), w.fallback) {
            (Err(e), Some(old)) if e.errno() == Some(Errno::ENOENT) => proc.write(Base::Thread, old, w.value.as_bytes())?,
            (r, _) => r?,
        }
    }
    Ok(())
}

/// How `linux.mountLabel` reaches a new filesystem, as in runc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MountLabelHow {
    /// The `context=` filesystem parameter (tmpfs, devpts, ...).
    Context,
    /// The `security.selinux` xattr on the root of the new mount (mqueue
    /// refuses `context=`).
    Xattr,
    /// Not labelled: proc, sysfs and cgroup have their own labels.
    Never,
}

/// The labelling of a new filesystem of type `fstype`.
pub(crate) fn mount_label_how(fstype: &str) -> MountLabelHow {
    match fstype {
        "proc" | "sysfs" | "cgroup" | "cgroup2" => MountLabelHow::Never,
        "mqueue" => MountLabelHow::Xattr,
        _ => MountLabelHow::Context,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(json: &str) -> Process {
        let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
        v["cwd"] = "/".into();
        v["user"] = serde_json::json!({"uid": 0, "gid": 0});
        serde_json::from_value(v).unwrap()
    }

    const BOTH: &str = r#"{"apparmorProfile":"brig-test","selinuxLabel":"system_u:system_r:container_t:s0:c1,c2"}"#;

    #[test]
    fn lsm_off_skips_with_notes() {
        let p = plan(&process(BOTH), Some("system_u:object_r:container_file_t:s0"), HostLsm::default);
        assert!(p.writes.is_empty() && p.mount_label.is_none());
        assert_eq!(p.notes.len(), 3, "{:?}", p.notes);
        assert!(p.notes[0].contains("apparmorProfile \"brig-test\" skipped: AppArmor"), "{:?}", p.notes);
        assert!(p.notes[1].contains("selinuxLabel") && p.notes[2].contains("mountLabel"), "{:?}", p.notes);
    }

    #[test]
    fn apparmor_on_writes_change_onexec_with_fallback() {
        let p = plan(&process(BOTH), None, || HostLsm { apparmor: true, selinux: false });
        assert_eq!(
            p.writes,
            [AttrWrite {
                what: "AppArmor profile",
                file: "attr/apparmor/exec",
                fallback: Some("attr/exec"),
                value: "exec brig-test".into()
            }]
        );
        assert_eq!(p.notes.len(), 1, "SELinux label is noted as skipped: {:?}", p.notes);
    }

    #[test]
    fn selinux_on_writes_exec_label_and_keeps_mount_label() {
        let p = plan(&process(BOTH), Some("system_u:object_r:container_file_t:s0"), || HostLsm { apparmor: false, selinux: true });
        assert_eq!(p.writes.len(), 1);
        assert_eq!((p.writes[0].file, p.writes[0].fallback), ("attr/exec", None));
        assert_eq!(p.writes[0].value, "system_u:system_r:container_t:s0:c1,c2");
        assert_eq!(p.mount_label.as_deref(), Some("system_u:object_r:container_file_t:s0"));
    }

    #[test]
    fn empty_or_absent_labels_do_nothing() {
        let p = plan(&process(r#"{"apparmorProfile":"","selinuxLabel":""}"#), Some(""), || HostLsm { apparmor: true, selinux: true });
        assert_eq!(p, LsmPlan::default());
        // Nothing asked for: the host is not even probed.
        let no_probe = || -> HostLsm { panic!("probed the host for a process without labels") };
        assert_eq!(plan(&process("{}"), None, no_probe), LsmPlan::default());
    }

    #[test]
    fn mount_label_is_a_context_option_except_on_kernel_filesystems() {
        assert_eq!(mount_label_how("tmpfs"), MountLabelHow::Context);
        assert_eq!(mount_label_how("devpts"), MountLabelHow::Context);
        assert_eq!(mount_label_how("mqueue"), MountLabelHow::Xattr);
        for fs in ["proc", "sysfs", "cgroup", "cgroup2"] {
            assert_eq!(mount_label_how(fs), MountLabelHow::Never, "{fs}");
        }
    }

    #[test]
    fn a_refused_write_names_the_file() {
        // This host's thread-self/attr has no such file: the error is the
        // one an operator sees when an LSM refuses the label.
        let proc = Procfs::per_process().unwrap();
        let w = AttrWrite { what: "test", file: "attr/no-such-lsm/exec", fallback: None, value: "x".into() };
        let err = apply(&proc, &[w]).unwrap_err().to_string();
        assert!(err.contains("/proc/thread-self/attr/no-such-lsm/exec") && err.contains("ENOENT"), "{err}");
    }
}
