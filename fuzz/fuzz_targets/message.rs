//! The parent/init channel decode: packets come from the container's init,
//! which is untrusted once it runs in the rootfs. Decoding is strict, so a
//! decoded packet encodes back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(again) = libcontainer::fuzzing::decode_message(data) {
        if data.len() <= 8192 {
            assert_eq!(again, data);
        }
    }
});
