//! Fuzz target `amqp_delivery`: see `checks/amqp_delivery.rs` for the input format and properties.
//! Long runs: `cargo +nightly fuzz run amqp_delivery` from `fuzz/`; bounded run on stable:
//! `scripts/fuzz.sh`.

#![no_main]

#[path = "../checks/amqp_delivery.rs"]
mod amqp_delivery;
#[path = "../checks/invariants.rs"]
mod invariants;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    amqp_delivery::check(data);
});
