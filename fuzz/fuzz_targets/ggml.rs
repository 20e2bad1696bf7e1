#![no_main]
//! `scripts/fuzz.sh ggml SECONDS`: see callcoach::fuzzing::ggml.

libfuzzer_sys::fuzz_target!(|data: &[u8]| callcoach::fuzzing::ggml(data));
