//! How much the seccomp cache saves per `create`: compiling the podman
//! default profile (benches/podman-default.json, resolved from
//! containers-common's seccomp.json for podman's default capabilities)
//! versus loading the same stack from `<root>/.seccomp@cache`.
//!
//! `cargo bench -p libcontainer --bench seccomp_cache` (stable: a plain
//! timing loop, no nightly `test::Bencher`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use libcontainer::fuzzing::{seccomp_compile, seccomp_compile_cached};
use oci_spec::runtime::LinuxSeccomp;

const ROUNDS: u32 = 2000;

fn time(name: &str, mut f: impl FnMut()) -> Duration {
    for _ in 0..50 {
        f();
    }
    let start = Instant::now();
    for _ in 0..ROUNDS {
        f();
    }
    let per = start.elapsed() / ROUNDS;
    println!("{name:<40} {:>8.1} µs/op", per.as_secs_f64() * 1e6);
    per
}

fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/podman-default.json");
    let json = std::fs::read(path).expect("benches/podman-default.json");
    let profile: LinuxSeccomp = serde_json::from_slice(&json).expect("OCI seccomp section");
    let root = std::env::temp_dir().join(format!("brig-bench-seccomp-{}", std::process::id()));
    let (filters, insns, skipped) = seccomp_compile(&profile).expect("compile");
    println!("podman default profile: {filters} filters, {insns} BPF instructions, {skipped} names skipped");
    let compile = time("compile (no cache)", || {
        black_box(seccomp_compile(black_box(&profile)).expect("compile"));
    });
    let _ = std::fs::remove_dir_all(&root);
    seccomp_compile_cached(&profile, &root).expect("fill cache");
    let cached = time("compile_cached (hit)", || {
        black_box(seccomp_compile_cached(black_box(&profile), &root).expect("cached"));
    });
    let miss = time("compile_cached (miss: compile + store)", || {
        let _ = std::fs::remove_dir_all(root.join(".seccomp@cache"));
        black_box(seccomp_compile_cached(black_box(&profile), &root).expect("cached"));
    });
    println!(
        "gain per create: {:.1} µs ({:.1}x faster); a miss costs {:.1} µs more than no cache",
        (compile.as_secs_f64() - cached.as_secs_f64()) * 1e6,
        compile.as_secs_f64() / cached.as_secs_f64(),
        (miss.as_secs_f64() - compile.as_secs_f64()) * 1e6
    );
    let _ = std::fs::remove_dir_all(&root);
}
