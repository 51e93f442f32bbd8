//! `brig run`: create + start, then (unless detached) wait in the
//! foreground, forwarding signals, and exit with the container's status.

use libcontainer::foreground::Foreground;
use libcontainer::{Container, Error};

use super::Result;
use crate::cli::{CreateFlags, Global};
use crate::log::Logger;

/// Runs the container.
pub fn run(g: &Global, f: &CreateFlags, detach: bool, keep: bool, log: &Logger) -> Result<u8> {
    let opts = super::create::options(g, f);
    if detach {
        let mut c = Container::create(&opts)?;
        return start_or_clean(g, &mut c, log).map(|_| 0);
    }
    // Block signals before the init exists, so none is lost and an init
    // that exits at once cannot make us wait forever.
    let mut fg = Foreground::block()?;
    let mut opts = opts;
    opts.keep_console = opts.console_socket.is_none();
    let mut c = Container::create(&opts)?;
    start_or_clean(g, &mut c, log)?;
    let console = if opts.console_socket.is_none() { c.take_console() } else { None };
    let pidfd = c.pidfd().ok_or_else(|| Error::InitFailed { message: "lost the init's pidfd".into(), errno: None })?;
    let code = fg.wait(c.pid(), pidfd, console)?;
    drop(fg);
    if !keep {
        for w in c.delete(true)? {
            log.warn(&w);
        }
    }
    Ok(code.clamp(0, 255) as u8)
}

/// Starts the container; if that fails, removes it so `run` leaves nothing.
fn start_or_clean(g: &Global, c: &mut Container, log: &Logger) -> Result<()> {
    for n in c.notes() {
        log.debug(n);
    }
    match c.start() {
        Ok(warnings) => {
            for w in warnings {
                log.warn(&w);
            }
            Ok(())
        }
        Err(e) => {
            if let Ok(stale) = Container::load(&g.root, &c.state().id) {
                let _ = stale.delete(true);
            }
            Err(e)
        }
    }
}
