//! The seccomp profile compile: `linux.seccomp` JSON to the BPF filter
//! stack. Ok or a clean error; an accepted profile always fits the kernel's
//! 4096-instruction limit per filter.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_spec::runtime::LinuxSeccomp;

fuzz_target!(|data: &[u8]| {
    let Ok(profile) = serde_json::from_slice::<LinuxSeccomp>(data) else { return };
    if let Ok((filters, insns, _)) = libcontainer::fuzzing::seccomp_compile(&profile) {
        assert!(insns <= filters * 4096, "{filters} filters, {insns} instructions");
    }
});
