//! Runtime CVE classes, tested from inside an attacking container.

use integration_tests::{Container, Spec};

/// CVE-2019-5736: while the init is parked in `created` (and while an exec
/// child sets up), the process runs brig's own binary. Another process in
/// the container must not be able to open it through /proc/PID/exe, or it
/// could overwrite brig on the host.
#[test]
fn brig_binary_is_unreachable_through_proc_exe() {
    let c = Container::new("cve5736", &Spec::new().sh("exec sleep 1000"));
    c.create();
    let script = "cat /proc/1/exe >/dev/null 2>&1 && echo read-ok || echo read-denied; \
                  (echo x >> /proc/1/exe) 2>/dev/null && echo write-ok || echo write-denied";
    let out = c.rt.run(&["exec", &c.id, "/bin/sh", "-c", script]).ok();
    assert!(out.stdout.contains("read-denied") && out.stdout.contains("write-denied"), "{}", out.stdout);
    // Once started, PID 1 is the user's program and is readable as usual:
    // the protection is not a blanket ban that would hide a broken test.
    c.start().ok();
    c.wait_status("running");
    let out = c.rt.run(&["exec", &c.id, "/bin/sh", "-c", "cat /proc/1/exe >/dev/null && echo read-ok"]).ok();
    assert!(out.stdout.contains("read-ok"), "{}", out.stdout);
}
