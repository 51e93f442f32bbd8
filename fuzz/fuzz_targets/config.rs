//! config.json load and validation: `spec::parse` then `Config::from_spec`,
//! as `create` does. Any input must give Ok or a clean error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(spec) = libcontainer::spec::parse(data) {
        let _ = libcontainer::Config::from_spec(spec, "/bundle".into());
    }
});
