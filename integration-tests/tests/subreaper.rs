//! brig under a subreaper that reaps the init the moment it exits, as
//! containerd's shim does for docker. Its own test binary: this process
//! becomes a child subreaper, which must not change the other tests.

use integration_tests::{Container, Spec};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

/// `start` releases the init through exec.fifo; a program as short as
/// `true` can then exit and be reaped before `start` looks at it again.
/// brig took the init's pidfd only after opening the fifo and failed with
/// "pidfd_open: ESRCH" (docker: "OCI runtime start failed", exit 128).
#[test]
fn start_of_a_short_lived_program_under_a_subreaper() {
    nix::sys::prctl::set_child_subreaper(true).expect("PR_SET_CHILD_SUBREAPER");
    // Busy threads, as on a loaded host: they make it likely that start is
    // preempted right after opening the fifo (docker failed 1 start in 3).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let busy: Vec<_> = (0..4)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || while !stop.load(std::sync::atomic::Ordering::Relaxed) {})
        })
        .collect();
    for i in 0..40 {
        let c = Container::new(&format!("reaped{i}"), &Spec::new().args(&["/bin/true"]));
        c.create();
        // create has exited: the init is now this process's child
        let pid = Pid::from_raw(c.pid());
        let reaper = std::thread::spawn(move || waitpid(pid, None));
        let out = c.start();
        let status = reaper.join().expect("reaper thread");
        assert_eq!(out.code(), Some(0), "start #{i}: {out}");
        assert!(matches!(status, Ok(nix::sys::wait::WaitStatus::Exited(_, 0))), "init #{i}: {status:?}");
        c.delete(false).ok();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    busy.into_iter().for_each(|t| t.join().expect("busy thread"));
}
