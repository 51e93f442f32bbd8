//! The device-rule BPF compiler: any `linux.resources.devices` rule list
//! (with `linux.devices`) either compiles or is refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_spec::runtime::{LinuxDevice, LinuxDeviceCgroup};

fuzz_target!(|data: &[u8]| {
    let Ok((rules, devices)) = serde_json::from_slice::<(Vec<LinuxDeviceCgroup>, Vec<LinuxDevice>)>(data) else {
        return;
    };
    let _ = libcontainer::cgroups::devices::compile(&rules, &devices);
});
