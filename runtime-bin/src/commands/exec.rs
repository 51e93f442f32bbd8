//! `brig exec`.

use std::path::PathBuf;

use libcontainer::foreground::Foreground;
use libcontainer::{Container, Error, ExecOptions};
use oci_spec::runtime::{Capabilities, LinuxCapabilities, Process};

use super::Result;
use crate::cli::{ExecFlags, Global};
use crate::log::Logger;

/// Runs the process; in the foreground, returns its exit status.
pub fn run(g: &Global, f: &ExecFlags, log: &Logger) -> Result<u8> {
    let c = Container::load(&g.root, &f.id)?;
    let process = match &f.process {
        Some(path) => load_process(path)?,
        None => from_flags(&c, f)?,
    };
    if process.terminal().unwrap_or(false) && f.detach && f.console_socket.is_none() {
        return Err(Error::Unsupported {
            what: "exec --tty --detach".into(),
            reason: "needs --console-socket to hand the pty to".into(),
        });
    }
    let mut opts = ExecOptions::new(process);
    opts.pid_file = f.pid_file.clone();
    opts.console_socket = f.console_socket.clone();
    opts.preserve_fds = f.preserve_fds;
    opts.ignore_paused = f.ignore_paused;
    opts.sub_cgroup = f.cgroup.as_ref().map(PathBuf::from);
    if f.detach {
        for n in c.exec(&opts)?.notes {
            log.debug(&n);
        }
        return Ok(0);
    }
    // Signals are blocked before the process exists, as in `run`.
    let mut fg = Foreground::block()?;
    let p = c.exec(&opts)?;
    for n in &p.notes {
        log.debug(n);
    }
    let code = fg.wait(p.pid, std::os::fd::AsFd::as_fd(&p.pidfd), p.console)?;
    Ok(code.clamp(0, 255) as u8)
}

fn load_process(path: &std::path::Path) -> Result<Process> {
    let text = std::fs::read(path).map_err(|e| Error::io("read", path, &e))?;
    serde_json::from_slice(&text).map_err(|e| Error::Config {
        file: path.display().to_string().into(),
        field: format!("line {} column {}", e.line(), e.column()),
        reason: e.to_string(),
    })
}

/// runc's exec without --process: the container's process, with the
/// command, env, cwd, user, caps and terminal from the flags.
fn from_flags(c: &Container, f: &ExecFlags) -> Result<Process> {
    if f.command.is_empty() {
        return Err(Error::config("exec", "no command given (use --process or COMMAND ARGS...)"));
    }
    let mut p = c.state().config()?.process().clone().unwrap_or_default();
    p.set_args(Some(f.command.clone()));
    p.set_terminal(Some(f.tty));
    let mut env = p.env().clone().unwrap_or_default();
    env.extend(f.env.iter().cloned());
    p.set_env(Some(env));
    if let Some(cwd) = &f.cwd {
        p.set_cwd(cwd.clone());
    }
    if let Some(u) = &f.user {
        let (uid, gid) = parse_user(u)?;
        p.user_mut().set_uid(uid);
        if let Some(gid) = gid {
            p.user_mut().set_gid(gid);
        }
    }
    if !f.additional_gids.is_empty() {
        p.user_mut().set_additional_gids(Some(f.additional_gids.clone()));
    }
    if f.no_new_privs {
        p.set_no_new_privileges(Some(true));
    }
    if !f.cap.is_empty() {
        add_caps(&mut p, &f.cap)?;
    }
    if f.apparmor.is_some() {
        p.set_apparmor_profile(f.apparmor.clone());
    }
    if f.process_label.is_some() {
        p.set_selinux_label(f.process_label.clone());
    }
    Ok(p)
}

fn parse_user(u: &str) -> Result<(u32, Option<u32>)> {
    let bad = || Error::config("exec --user", format!("{u:?} is not UID[:GID]"));
    let (uid, gid) = match u.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (u, None),
    };
    let uid = uid.parse().map_err(|_| bad())?;
    let gid = gid.map(|g| g.parse().map_err(|_| bad())).transpose()?;
    Ok((uid, gid))
}

/// `--cap` adds to bounding, effective and permitted only: never to
/// inheritable or ambient (CVE-2022-29162).
fn add_caps(p: &mut Process, names: &[String]) -> Result<()> {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    let extra: Capabilities = serde_json::from_str(&format!("[{}]", quoted.join(",")))
        .map_err(|e| Error::config("exec --cap", e.to_string()))?;
    // Not `unwrap_or_default`: oci-spec's default sets hold three
    // capabilities in inheritable and ambient too, which a container
    // without process.capabilities never asked for.
    let mut caps = p.capabilities().clone().unwrap_or_else(no_capabilities);
    let merge = |set: &Option<Capabilities>| -> Capabilities {
        let mut s = set.clone().unwrap_or_default();
        s.extend(extra.iter().copied());
        s
    };
    let (b, e, pm) = (merge(caps.bounding()), merge(caps.effective()), merge(caps.permitted()));
    caps.set_bounding(Some(b)).set_effective(Some(e)).set_permitted(Some(pm));
    p.set_capabilities(Some(caps));
    Ok(())
}

/// Capability sets with nothing in any of them.
fn no_capabilities() -> LinuxCapabilities {
    let mut c = LinuxCapabilities::default();
    c.set_bounding(None).set_effective(None).set_inheritable(None).set_permitted(None).set_ambient(None);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_never_adds_inheritable_or_ambient() {
        let mut p: Process = serde_json::from_str(r#"{"cwd":"/","user":{"uid":0,"gid":0}}"#).unwrap();
        p.set_capabilities(None);
        add_caps(&mut p, &["CAP_SYS_ADMIN".into()]).unwrap();
        let c = p.capabilities().clone().unwrap();
        assert_eq!(c.inheritable(), &None);
        assert_eq!(c.ambient(), &None);
        assert_eq!(c.permitted().as_ref().map(|s| s.len()), Some(1));
    }
}
