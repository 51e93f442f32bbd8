//! The container process's attributes: user and groups, rlimits, the
//! executable lookup, environment, oom_score_adj.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::sys::resource::{setrlimit, Resource};
use nix::sys::stat::{umask, Mode};
use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};
use oci_spec::runtime::{PosixRlimit, PosixRlimitType, User};

use crate::error::{Context, Error, Result};
use crate::procfs::{Base, Procfs};

/// The program, argv and envp, resolved before the init reports ready so
/// that a missing binary fails `create`, not `start`.
#[derive(Debug)]
pub(crate) struct Exec {
    pub path: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
}

fn cstring(field: &str, s: &[u8]) -> Result<CString> {
    CString::new(s).map_err(|_| Error::config(field, "contains a NUL byte"))
}

impl Exec {
    /// Resolves `args[0]` in the container's PATH (from `env`), as runc does:
    /// a name without `/` is looked up, anything else is used as given
    /// (relative to the current directory: the caller has entered process.cwd).
    pub(crate) fn resolve(args: &[String], env: &[String]) -> Result<Exec> {
        let argv = args.iter().map(|a| cstring("process.args", a.as_bytes())).collect::<Result<Vec<_>>>()?;
        let envp = env.iter().map(|e| cstring("process.env", e.as_bytes())).collect::<Result<Vec<_>>>()?;
        let prog = args.first().ok_or_else(|| Error::config("process.args", "is empty"))?;
        let path = if prog.contains('/') { PathBuf::from(prog) } else { lookup_path(prog, env)? };
        // Checked here, before Ready, so that create (not start) fails.
        nix::unistd::access(&path, nix::unistd::AccessFlags::X_OK)
            .map_err(|errno| Error::Exec { prog: prog.clone(), search_path: None, errno })?;
        Ok(Exec { path: cstring("process.args[0]", path.as_os_str().as_bytes())?, argv, envp })
    }
}

fn lookup_path(prog: &str, env: &[String]) -> Result<PathBuf> {
    let path_var = env.iter().rev().find_map(|e| e.strip_prefix("PATH=")).unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    for dir in path_var.split(':').filter(|d| !d.is_empty()) {
        let cand = Path::new(dir).join(prog);
        if nix::unistd::access(&cand, nix::unistd::AccessFlags::X_OK).is_ok() && cand.is_file() {
            return Ok(cand);
        }
    }
    Err(Error::Exec { prog: prog.into(), search_path: Some(path_var.into()), errno: nix::errno::Errno::ENOENT })
}

/// The environment with HOME set from the container's /etc/passwd for
/// `uid` when the spec does not set it (runc does the same; "/" if the
/// user has no entry). Runs after pivot_root, so it reads the image's file.
pub(crate) fn with_home(mut env: Vec<String>, uid: u32) -> Vec<String> {
    if env.iter().any(|e| e.starts_with("HOME=")) {
        return env;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    env.push(format!("HOME={}", home_of(&passwd, uid).unwrap_or("/")));
    env
}

fn home_of(passwd: &str, uid: u32) -> Option<&str> {
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 7 && f[2].parse::<u32>().ok() == Some(uid) && !f[5].is_empty()).then(|| f[5])
    })
}

/// Applies `process.rlimits`.
pub(crate) fn set_rlimits(limits: &[PosixRlimit]) -> Result<()> {
    for l in limits {
        setrlimit(resource(l.typ()), l.soft(), l.hard()).ctx("setrlimit", l.typ().to_string())?;
    }
    Ok(())
}

fn resource(t: PosixRlimitType) -> Resource {
    use PosixRlimitType as T;
    match t {
        T::RlimitCpu => Resource::RLIMIT_CPU,
        T::RlimitFsize => Resource::RLIMIT_FSIZE,
        T::RlimitData => Resource::RLIMIT_DATA,
        T::RlimitStack => Resource::RLIMIT_STACK,
        T::RlimitCore => Resource::RLIMIT_CORE,
        T::RlimitRss => Resource::RLIMIT_RSS,
        T::RlimitNproc => Resource::RLIMIT_NPROC,
        T::RlimitNofile => Resource::RLIMIT_NOFILE,
        T::RlimitMemlock => Resource::RLIMIT_MEMLOCK,
        T::RlimitAs => Resource::RLIMIT_AS,
        T::RlimitLocks => Resource::RLIMIT_LOCKS,
        T::RlimitSigpending => Resource::RLIMIT_SIGPENDING,
        T::RlimitMsgqueue => Resource::RLIMIT_MSGQUEUE,
        T::RlimitNice => Resource::RLIMIT_NICE,
        T::RlimitRtprio => Resource::RLIMIT_RTPRIO,
        T::RlimitRttime => Resource::RLIMIT_RTTIME,
    }
}

/// Switches to `user`'s gid, supplementary groups and uid. The caller has
/// set PR_SET_KEEPCAPS so the permitted set survives the uid change.
/// `setgroups_allowed` is false in a user namespace whose setgroups is
/// "deny" (rootless), where the kernel refuses the call.
pub(crate) fn set_user(user: &User, setgroups_allowed: bool) -> Result<()> {
    let gid = Gid::from_raw(user.gid());
    let uid = Uid::from_raw(user.uid());
    if setgroups_allowed {
        let groups: Vec<Gid> = user.additional_gids().iter().flatten().map(|g| Gid::from_raw(*g)).collect();
        setgroups(&groups).ctx("setgroups", "process.user.additionalGids")?;
    }
    // gid before uid: once the uid is not 0, setresgid would be refused.
    setresgid(gid, gid, gid).ctx("setresgid", format!("gid {gid}"))?;
    setresuid(uid, uid, uid).ctx("setresuid", format!("uid {uid}"))?;
    if let Some(mask) = user.umask() {
        umask(Mode::from_bits_truncate(mask));
    }
    Ok(())
}

/// Writes `process.oomScoreAdj` for this process (inherited by exec),
/// through brig's procfs, never the container's /proc.
pub(crate) fn set_oom_score_adj(proc: &Procfs, value: i32) -> Result<()> {
    proc.write(Base::Own, "oom_score_adj", value.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_from_passwd() {
        let pw = "root:x:0:0:root:/root:/bin/sh\nbad line\ntester:x:1000:1000::/home/tester:/bin/sh\n";
        assert_eq!(home_of(pw, 1000), Some("/home/tester"));
        assert_eq!(home_of(pw, 5), None);
        assert_eq!(with_home(vec!["HOME=/x".into()], 0), vec!["HOME=/x".to_string()]);
    }

    #[test]
    fn lookup_uses_container_path() {
        let env = vec!["PATH=/nonexistent:/bin".to_string()];
        let e = Exec::resolve(&["sh".into(), "-c".into(), "true".into()], &env).unwrap();
        assert_eq!(e.path.to_str().unwrap(), "/bin/sh");
        assert_eq!(e.argv.len(), 3);
    }

    #[test]
    fn missing_program_is_named() {
        let err = Exec::resolve(&["no-such-prog-brig".into()], &["PATH=/bin".into()]).unwrap_err().to_string();
        assert!(err.contains("no-such-prog-brig") && err.contains("ENOENT"), "{err}");
        // docker's and podman's exit code 127 keys on these words
        assert!(err.contains("executable file not found in $PATH"), "{err}");
    }

    #[test]
    fn unrunnable_program_is_worded_like_runc() {
        let err = Exec::resolve(&["/no/such/prog".into()], &[]).unwrap_err().to_string();
        assert_eq!(err, "exec: \"/no/such/prog\": no such file or directory (ENOENT)");
    }

    #[test]
    fn absolute_is_taken_as_is() {
        let e = Exec::resolve(&["/bin/sh".into()], &[]).unwrap();
        assert_eq!(e.path.to_str().unwrap(), "/bin/sh");
        assert!(Exec::resolve(&["/no/such/prog".into()], &[]).is_err());
    }
}
