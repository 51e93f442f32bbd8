//! Signal dispositions that need `sigaction`.

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

/// Restores the default disposition of every signal, so that ignored signals
/// of brig's parent (e.g. SIGPIPE ignored by an engine) are not inherited by
/// the container's process across exec.
pub(crate) fn reset_all_dispositions() {
    let dfl = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    for sig in Signal::iterator() {
        if matches!(sig, Signal::SIGKILL | Signal::SIGSTOP) {
            continue;
        }
        // SAFETY: installing SIG_DFL is always sound: no handler code runs.
        // Errors (none expected for valid signals) are ignored on purpose:
        // a signal the kernel refuses keeps its default already.
        let _ = unsafe { sigaction(sig, &dfl) };
    }
}
