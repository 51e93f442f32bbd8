//! busybox-static root filesystems.
//!
//! The base rootfs is built once per test process (in a temp dir removed at exit);
//! every bundle gets its own copy (busybox hard-linked, small files copied), so tests may
//! change their rootfs freely and in parallel.

use crate::tmp::TempDir;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The busybox binary copied into every rootfs (`BUSYBOX`, default `/bin/busybox`).
/// It must be statically linked: Debian's `busybox-static`.
pub fn busybox() -> PathBuf {
    std::env::var_os("BUSYBOX").map(PathBuf::from).unwrap_or_else(|| "/bin/busybox".into())
}

/// The unprivileged user present in every rootfs's /etc/passwd.
pub const USER_UID: u32 = 1000;
/// Its primary group.
pub const USER_GID: u32 = 1000;

/// The probe script's path inside the rootfs.
pub const PROBE_PATH: &str = "/probe.sh";

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
tester:x:1000:1000:tester:/home/tester:/bin/sh\n\
nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP: &str = "root:x:0:\ntester:x:1000:\nextra1:x:2001:tester\nextra2:x:2002:\nnogroup:x:65534:\n";

struct Base {
    dir: PathBuf,
}

extern "C" fn remove_base() {
    if let Some(base) = BASE.get() {
        let _ = std::fs::remove_dir_all(&base.dir);
    }
}

static BASE: OnceLock<Base> = OnceLock::new();

fn base() -> &'static Path {
    &BASE
        .get_or_init(|| {
            let tmp = TempDir::new("base");
            let dir = tmp.path().to_path_buf();
            std::mem::forget(tmp); // removed by the atexit handler below
            build_base(&dir);
            // SAFETY: registers a plain extern "C" fn without captures.
            unsafe { libc::atexit(remove_base) };
            Base { dir }
        })
        .dir
}

fn build_base(dir: &Path) {
    let bb = busybox();
    let out = std::process::Command::new(&bb)
        .arg("--list")
        .output()
        .unwrap_or_else(|e| panic!("{} --list: {e} (apt-get install busybox-static)", bb.display()));
    assert!(out.status.success(), "{} --list failed", bb.display());
    let ldd = std::process::Command::new("ldd").arg(&bb).output();
    if let Ok(ldd) = ldd {
        let text = String::from_utf8_lossy(&ldd.stdout);
        assert!(!text.contains("=>"), "{} is dynamically linked; install busybox-static", bb.display());
    }
    for d in ["bin", "etc", "proc", "sys", "dev", "tmp", "root", "home/tester"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    crate::tmp::set_mode(&dir.join("tmp"), 0o1777);
    std::fs::copy(&bb, dir.join("bin/busybox")).unwrap();
    for applet in String::from_utf8_lossy(&out.stdout).lines() {
        let applet = applet.trim();
        if applet.is_empty() || applet == "busybox" {
            continue;
        }
        symlink("busybox", dir.join("bin").join(applet)).unwrap();
    }
    std::fs::write(dir.join("etc/passwd"), PASSWD).unwrap();
    std::fs::write(dir.join("etc/group"), GROUP).unwrap();
    std::fs::write(dir.join(PROBE_PATH.trim_start_matches('/')), crate::probe::SCRIPT).unwrap();
    std::os::unix::fs::chown(dir.join("home/tester"), Some(USER_UID), Some(USER_GID)).unwrap();
}

/// Makes `dest` (which must not exist) a fresh copy of the base rootfs.
pub fn make_rootfs(dest: &Path) {
    copy_tree(base(), dest);
}

fn copy_tree(src: &Path, dst: &Path) {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(src).unwrap();
    std::fs::create_dir(dst).unwrap();
    crate::tmp::set_mode(dst, meta.mode() & 0o7777);
    std::os::unix::fs::lchown(dst, Some(meta.uid()), Some(meta.gid())).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let (s, d) = (entry.path(), dst.join(entry.file_name()));
        let ft = entry.file_type().unwrap();
        if ft.is_dir() {
            copy_tree(&s, &d);
        } else if ft.is_symlink() {
            symlink(std::fs::read_link(&s).unwrap(), &d).unwrap();
        } else if entry.file_name() == "busybox" {
            // the only big file; never written by tests
            std::fs::hard_link(&s, &d).unwrap();
        } else {
            std::fs::copy(&s, &d).unwrap();
        }
    }
}
