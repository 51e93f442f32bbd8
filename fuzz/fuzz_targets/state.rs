//! state.json load: `state::parse_state` on whatever is on disk.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(state) = libcontainer::state::parse_state(data) {
        // Whatever was accepted can be reported and written back.
        let report = state.report(libcontainer::Status::Stopped);
        let _ = serde_json::to_vec(&report);
    }
});
