#![no_main]
//! `scripts/fuzz.sh wire SECONDS`: see callcoach::fuzzing::wire.

libfuzzer_sys::fuzz_target!(|data: &[u8]| callcoach::fuzzing::wire(data));
