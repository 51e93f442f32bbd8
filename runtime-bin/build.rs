//! Records the git commit for `brig --version`, and sets how the binary is
//! linked: packed relocations, a static unwinder.
use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=BRIG_COMMIT={commit}");
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/refs/heads");
    // DT_RELR (rust-lld, or GNU ld >= 2.38; glibc >= 2.36 at run time): brig
    // is a PIE with ~10k relative relocations. As RELA entries they are
    // ~220 KiB that the loader reads, so faults in, at every start; as RELR
    // a few KiB. Still a PIE: ASLR is unchanged.
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
        // std's unwinder (`_Unwind_*`, used only to print a backtrace: brig
        // is panic=abort) comes from libgcc's static part, as with gcc's
        // -static-libgcc. lld then drops libgcc_s.so.1 as unneeded
        // (--as-needed): one library fewer for the loader to open, map and
        // relocate at every start.
        println!("cargo:rustc-link-lib=static:+verbatim=libgcc_eh.a");
        // The functions brig's commands run go first in its code, in the
        // order scripts/hot-text/profile.sh measured (see there for why).
        // An INSERT script only adds an output section before .text: lld and
        // GNU ld keep their default layout for everything else.
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
        println!("cargo:rustc-link-arg-bins=-Wl,-T,{dir}/hot-text.ld");
        println!("cargo:rerun-if-changed=hot-text.ld");
        // The link map (OUT_DIR/brig.map, ~3 MB) tells profile.sh where each
        // function is, and lets scripts/test.sh check that the layout above
        // was applied and is not stale (scripts/hot-text/check.py).
        if let Ok(out) = std::env::var("OUT_DIR") {
            println!("cargo:rustc-link-arg-bins=-Wl,-Map={out}/brig.map");
        }
    }
}
