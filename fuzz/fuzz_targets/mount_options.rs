//! Mount option parsing (`mounts[].options`): any list of strings is either
//! parsed or refused with an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let opts: Vec<String> = s.split(',').map(str::to_string).collect();
    let _ = libcontainer::rootfs::parse_mount_options(&opts, 0);
});
