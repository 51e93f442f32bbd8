//! brig under a parent that reaps the container's init the moment it exits,
//! as containerd's shim does (it is a child subreaper). Its own test binary:
//! being a subreaper is a property of the whole test process.

use integration_tests::{Container, Spec};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

/// `start` of a program that exits at once succeeds even when the init is
/// reaped right after the fifo lets it run (the shim's `sh -c 'exit 3'`).
#[test]
fn start_succeeds_when_the_init_is_reaped_at_once() {
    nix::sys::prctl::set_child_subreaper(true).unwrap();
    // Busy threads, as on a loaded host, make it likely that start is
    // preempted just after opening the fifo: on an idle 2-CPU host the old
    // order (fifo, then pidfd_open) passed 30 starts; with them it failed
    // within the first 8.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let busy: Vec<_> = (0..4)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || while !stop.load(std::sync::atomic::Ordering::Relaxed) {})
        })
        .collect();
    for _ in 0..30 {
        let c = Container::new("reaped", &Spec::new().args(&["/bin/true"]));
        c.create();
        // create has exited: the init is now our child, reaped as soon as it exits.
        let pid: i32 = std::fs::read_to_string(c.pid_file()).unwrap().trim().parse().unwrap();
        let reaper = std::thread::spawn(move || waitpid(Pid::from_raw(pid), None));
        let out = c.start();
        if out.code() != Some(0) {
            // A start that failed before opening the fifo leaves the init blocked.
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        }
        let status = reaper.join().unwrap();
        out.ok();
        assert!(matches!(status, Ok(nix::sys::wait::WaitStatus::Exited(_, 0))), "{status:?}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    busy.into_iter().for_each(|t| t.join().unwrap());
}
