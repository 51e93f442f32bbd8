//! `brig create`.

use libcontainer::{Container, CreateOptions};

use super::Result;
use crate::cli::{CreateFlags, Global};
use crate::log::Logger;

/// Create options from runc's flags, including systemd's socket activation:
/// LISTEN_FDS fds are passed on like runc does, with LISTEN_PID=1.
pub fn options(g: &Global, f: &CreateFlags) -> CreateOptions {
    let mut o = CreateOptions::new(&g.root, &f.id, &f.bundle);
    o.pid_file = f.pid_file.clone();
    o.console_socket = f.console_socket.clone();
    o.no_pivot = f.no_pivot;
    o.no_new_keyring = f.no_new_keyring;
    o.preserve_fds = f.preserve_fds;
    o.systemd_cgroup = g.systemd_cgroup;
    if let Some(n) = std::env::var("LISTEN_FDS").ok().and_then(|v| v.parse::<u32>().ok()).filter(|n| *n > 0) {
        o.preserve_fds += n;
        o.extra_env = vec![format!("LISTEN_FDS={n}"), "LISTEN_PID=1".to_string()];
    }
    o
}

/// Creates the container and returns once its init waits for start.
pub fn run(g: &Global, f: &CreateFlags, log: &Logger) -> Result<u8> {
    let opts = options(g, f);
    let c = Container::create(&opts)?;
    for n in c.notes() {
        log.debug(n);
    }
    log.debug(&format!("created {} pid {}", f.id, c.pid()));
    Ok(0)
}
