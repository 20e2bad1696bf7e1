#![no_main]
//! `scripts/fuzz.sh transcript SECONDS`: see callcoach::fuzzing::transcript.

libfuzzer_sys::fuzz_target!(|data: &[u8]| callcoach::fuzzing::transcript(data));
