#![no_main]
//! `scripts/fuzz.sh wav SECONDS`: see callcoach::fuzzing::wav.

libfuzzer_sys::fuzz_target!(|data: &[u8]| callcoach::fuzzing::wav(data));
