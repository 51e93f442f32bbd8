//! The cgroup v2 resource plan: any `linux.resources` JSON that parses is
//! either planned or refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_spec::runtime::LinuxResources;

fuzz_target!(|data: &[u8]| {
    let Ok(r) = serde_json::from_slice::<LinuxResources>(data) else { return };
    let _ = libcontainer::cgroups::plan(&r);
});
