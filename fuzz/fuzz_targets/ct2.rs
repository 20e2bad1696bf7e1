#![no_main]
//! `scripts/fuzz.sh ct2 SECONDS`: see callcoach::fuzzing::ct2.

libfuzzer_sys::fuzz_target!(|data: &[u8]| callcoach::fuzzing::ct2(data));
