//! Signal parsing as `brig kill` takes it: names, SIG-prefixed names,
//! numbers, RTMIN+N / RTMAX-N. Accepted values are real signal numbers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(n) = libcontainer::signal::parse_signal(s) {
        assert!((1..=64).contains(&n), "{s:?} -> {n}");
    }
});
