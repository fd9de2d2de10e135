//! Fuzz target `http_request`: see `checks/http_request.rs` for the input format and properties.
//! Long runs: `cargo +nightly fuzz run http_request` from `fuzz/`; bounded run on stable:
//! `scripts/fuzz.sh`.

#![no_main]

#[path = "../checks/http_request.rs"]
mod http_request;
#[path = "../checks/invariants.rs"]
mod invariants;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    http_request::check(data);
});
