//! Fuzz target `redact`: see `checks/redact.rs` for the properties.
//! Long runs: `cargo +nightly fuzz run redact` from `fuzz/`; bounded run on stable:
//! `scripts/fuzz.sh`.

#![no_main]

#[path = "../checks/redact.rs"]
mod redact;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    redact::check(data);
});
