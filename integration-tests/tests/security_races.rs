//! Runtime CVE classes where the image races or redirects brig's own mounts:
//! mount destinations swapped for symlinks mid-setup (CVE-2021-30465,
//! CVE-2024-45310) and /dev/console or /dev/pts/N planted as symlinks
//! (CVE-2025-52565). Each asserts that the host stays untouched.

use integration_tests::console::{read_until, start_with_console, ConsoleSocket};
use integration_tests::host::{assert_untouched, tree_snapshot};
use integration_tests::{Container, Spec, TempDir};
use nix::fcntl::{renameat2, RenameFlags};
use serde_json::json;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// A host directory with one marker file, and its snapshot.
fn host_dir(name: &str) -> (TempDir, Vec<String>) {
    let d = TempDir::new(name);
    std::fs::write(d.join("marker"), "host").unwrap();
    let snap = tree_snapshot(d.path());
    (d, snap)
}

/// Swaps pairs of names in `dir` (a directory and a symlink to the host)
/// with RENAME_EXCHANGE as fast as it can, until dropped.
struct Flipper {
    stop: Arc<AtomicBool>,
    flips: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Flipper {
    fn start(dir: &Path, pairs: &[(&str, &str)]) -> Flipper {
        let stop = Arc::new(AtomicBool::new(false));
        let flips = Arc::new(AtomicUsize::new(0));
        let d = std::fs::File::open(dir).unwrap();
        let pairs: Vec<(String, String)> = pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        let (s, f) = (stop.clone(), flips.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                for (a, b) in &pairs {
                    renameat2(&d, a.as_str(), &d, b.as_str(), RenameFlags::RENAME_EXCHANGE).unwrap();
                }
                f.fetch_add(1, Ordering::Relaxed);
                std::thread::yield_now();
            }
        });
        Flipper { stop, flips, thread: Some(thread) }
    }
}

impl Drop for Flipper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// While mount destinations (and a nested mkdir path) flip between a
/// directory and a symlink to a host directory (absolute and relative),
/// brig creates containers in a loop. Each run either works, with its
/// mounts inside the rootfs, or fails cleanly; the host directories never
/// get a mount or a new entry.
#[test]
fn racing_symlink_flips_never_reach_the_host() {
    let (host1, snap1) = host_dir("race-host1");
    let (host2, snap2) = host_dir("race-host2");
    let src = TempDir::new("race-src");
    std::fs::write(src.join("file"), "bound").unwrap();
    let spec = Spec::new()
        // The flips go on while the process runs: it may find its mounts
        // under the other name, so it only reports.
        .sh("cat /mnt2/a/b/file /mnt2.alt/a/b/file 2>/dev/null; echo ran")
        .mount(json!({"destination": "/mnt1", "type": "tmpfs", "source": "tmpfs"}))
        .mount(json!({"destination": "/mnt1/t", "type": "tmpfs", "source": "tmpfs"}))
        .bind(&src.join("file"), "/mnt2/a/b/file", &["bind", "ro"]);
    let c = Container::new("race", &spec);
    let root = c.rootfs();
    for (name, host) in [("mnt1", &host1), ("mnt2", &host2)] {
        std::fs::create_dir(root.join(name)).unwrap();
        let target = if name == "mnt1" {
            host.path().to_path_buf()
        } else {
            Path::new("../../../../../../../../..").join(host.path().strip_prefix("/").unwrap())
        };
        std::os::unix::fs::symlink(target, root.join(format!("{name}.alt"))).unwrap();
    }
    let flipper = Flipper::start(&root, &[("mnt1", "mnt1.alt"), ("mnt2", "mnt2.alt")]);
    let (mut ok, mut failed) = (0, 0);
    for _ in 0..30 {
        let out = c.run(&[]);
        if out.status.success() {
            assert!(out.stdout.ends_with("ran\n"), "{out}");
            ok += 1;
        } else {
            // A clean failure: an exit code and an error line, no crash.
            assert!(out.code().is_some() && !out.stderr.trim().is_empty(), "{out}");
            assert!(!out.stdout.contains("ran"), "{out}");
            failed += 1;
        }
        assert!(!c.state_dir().exists(), "run left state behind: {out}");
    }
    let flips = flipper.flips.load(Ordering::Relaxed);
    drop(flipper);
    eprintln!("racing flips: {flips} rounds, {ok} runs worked, {failed} failed cleanly");
    assert!(flips > 30, "the flipper hardly ran ({flips})");
    assert_untouched(host1.path(), &snap1);
    assert_untouched(host2.path(), &snap2);
}

/// A spec whose /dev is the image's own (no tmpfs), so what the image put
/// in dev/ is what brig finds.
fn image_dev_spec(script: &str) -> Spec {
    let mut spec = Spec::new().terminal(true).sh(script);
    spec.0["mounts"].as_array_mut().unwrap().retain(|m| m["destination"] != "/dev");
    spec
}

/// CVE-2025-52565: /dev/console pre-made in the image as a symlink to a host
/// file. brig must not mount the pty there (it refuses the link).
#[test]
fn console_symlink_to_host_file_is_not_followed() {
    let (host, snap) = host_dir("console-host");
    let c = Container::new("consolelink", &image_dev_spec("echo console-ran; sleep 1"));
    std::fs::create_dir_all(c.rootfs().join("dev")).unwrap();
    std::os::unix::fs::symlink(host.join("marker"), c.rootfs().join("dev/console")).unwrap();
    let sock = ConsoleSocket::new();
    let out = c.create_with(&["--console-socket", &sock.path]);
    if out.status.success() {
        let mut master = sock.master();
        c.start().ok();
        assert!(read_until(&mut master, "console-ran").contains("console-ran"));
    } else {
        assert!(out.stderr.contains("/dev/console"), "the error names /dev/console: {out}");
    }
    assert_untouched(host.path(), &snap);
}

/// The /dev/pts/N trick: the image's /dev/pts is a plain directory whose
/// ptmx leads to a real devpts elsewhere, and whose entries 0-9 are
/// symlinks to a host file. A pty slave opened by its name would be that
/// symlink; brig takes the slave from the master and mounts the real pty.
#[test]
fn pts_symlinks_cannot_stand_in_for_the_console() {
    let (host, snap) = host_dir("pts-host");
    let mut spec = image_dev_spec("stat -c %t:%F /dev/console; echo console-done; sleep 1");
    for m in spec.0["mounts"].as_array_mut().unwrap() {
        if m["destination"] == "/dev/pts" {
            m["destination"] = json!("/dev/pts2");
        }
    }
    let c = Container::new("ptslink", &spec);
    let pts = c.rootfs().join("dev/pts");
    std::fs::create_dir_all(&pts).unwrap();
    std::os::unix::fs::symlink("../pts2/ptmx", pts.join("ptmx")).unwrap();
    for n in 0..10 {
        std::os::unix::fs::symlink(host.join("marker"), pts.join(n.to_string())).unwrap();
    }
    let mut master = start_with_console(&c);
    let out = read_until(&mut master, "console-done");
    // Major 136 (0x88): a real pty slave, not the planted file.
    assert!(out.contains("88:character special file"), "{out:?}");
    assert_untouched(host.path(), &snap);
}
