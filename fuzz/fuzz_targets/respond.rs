//! Fuzz target `respond`: see `fuzz_harness::respond` (tests/fuzz_harness/mod.rs) for the input layout
//! and the invariants checked.
#![no_main]

#[path = "../../tests/fuzz_harness/mod.rs"]
mod fuzz_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_harness::respond(data));
