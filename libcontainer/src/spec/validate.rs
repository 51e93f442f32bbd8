//! Up-front validation of a parsed spec. Each check names its JSON path.

use oci_spec::runtime::{LinuxNamespaceType, Spec};

use crate::error::{Error, Result};

/// Checks everything later stages rely on, so they never re-validate.
pub(super) fn validate(spec: &Spec) -> Result<()> {
    version(spec.version())?;
    let root = spec.root().as_ref().ok_or_else(|| Error::config("root", "is required"))?;
    if root.path().as_os_str().is_empty() {
        return Err(Error::config("root.path", "must not be empty"));
    }
    if let Some(process) = spec.process() {
        if process.args().as_ref().is_none_or(|a| a.is_empty()) {
            return Err(Error::config("process.args", "must name the program to run"));
        }
        if !process.cwd().is_absolute() {
            return Err(Error::config("process.cwd", format!("{:?} is not absolute", process.cwd())));
        }
        for (i, e) in process.env().iter().flatten().enumerate() {
            if !e.contains('=') {
                return Err(Error::config(format!("process.env[{i}]"), format!("{e:?} is not KEY=VALUE")));
            }
        }
    }
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        if !m.destination().is_absolute() {
            return Err(Error::config(format!("mounts[{i}].destination"), format!("{:?} is not absolute", m.destination())));
        }
    }
    if let Some(linux) = spec.linux() {
        let mut seen = Vec::new();
        for (i, ns) in linux.namespaces().iter().flatten().enumerate() {
            if seen.contains(&ns.typ()) {
                return Err(Error::config(format!("linux.namespaces[{i}]"), format!("duplicate {} namespace", ns.typ())));
            }
            seen.push(ns.typ());
        }
        let has_userns = seen.contains(&LinuxNamespaceType::User);
        if !has_userns && (linux.uid_mappings().as_ref().is_some_and(|m| !m.is_empty())) {
            return Err(Error::config("linux.uidMappings", "needs a user namespace"));
        }
        if linux.time_offsets().is_some() && !seen.contains(&LinuxNamespaceType::Time) {
            return Err(Error::config("linux.timeOffsets", "needs a time namespace"));
        }
        for key in linux.sysctl().iter().flat_map(|m| m.keys()) {
            sysctl(key, &seen)?;
        }
    }
    Ok(())
}

/// Only namespaced sysctls, and only when the container has its own copy of
/// that namespace (runc's rules): IPC keys need an ipc namespace, `net.*` a
/// network namespace, the UTS names a uts namespace.
fn sysctl(key: &str, namespaces: &[LinuxNamespaceType]) -> Result<()> {
    let field = format!("linux.sysctl.{key}");
    if key.is_empty() || key.contains("..") || key.contains('/') {
        return Err(Error::config(field, "is not a sysctl name"));
    }
    const IPC: [&str; 8] = [
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
        "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
    ];
    let needs = if IPC.contains(&key) || key.starts_with("fs.mqueue.") {
        LinuxNamespaceType::Ipc
    } else if key.starts_with("net.") {
        LinuxNamespaceType::Network
    } else if key == "kernel.hostname" || key == "kernel.domainname" {
        LinuxNamespaceType::Uts
    } else {
        return Err(Error::config(field, "is not a namespaced sysctl: it would change the host"));
    };
    if !namespaces.contains(&needs) {
        return Err(Error::config(field, format!("needs the container's own {needs} namespace")));
    }
    Ok(())
}

/// Accepts every 1.x version engines write (1.0.0 through 1.3.x, with
/// pre-release suffixes such as `1.0.2-dev`); refuses 0.x and 2.x.
pub(super) fn version(v: &str) -> Result<()> {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !numeric {
        return Err(Error::config("ociVersion", format!("{v:?} is not a semantic version")));
    }
    if parts[0] != "1" {
        return Err(Error::config("ociVersion", format!("{v:?} is not supported: brig implements runtime-spec 1.x")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_1x() {
        for v in ["1.0.0", "1.0.2-dev", "1.1.0", "1.2.1", "1.3.0", "1.3.5+x"] {
            assert!(version(v).is_ok(), "{v}");
        }
    }

    #[test]
    fn refuses_others() {
        for v in ["", "0.9.0", "2.0.0", "1.0", "a.b.c", "1..0"] {
            assert!(version(v).is_err(), "{v}");
        }
    }

    #[test]
    fn sysctl_rules() {
        use LinuxNamespaceType as T;
        assert!(sysctl("net.ipv4.ip_forward", &[T::Network]).is_ok());
        assert!(sysctl("net.ipv4.ip_forward", &[T::Ipc]).is_err());
        assert!(sysctl("kernel.shmmax", &[T::Ipc]).is_ok());
        assert!(sysctl("vm.swappiness", &[T::Ipc, T::Network, T::Uts]).is_err());
        assert!(sysctl("net/../x", &[T::Network]).is_err());
    }

    #[test]
    fn relative_cwd_is_named() {
        let json = r#"{"ociVersion":"1.0.2","root":{"path":"r"},"process":{"user":{"uid":0,"gid":0},"cwd":"tmp","args":["sh"]}}"#;
        let spec = super::super::parse(json.as_bytes()).unwrap();
        let err = validate(&spec).unwrap_err().to_string();
        assert!(err.contains("process.cwd"), "{err}");
    }
}
