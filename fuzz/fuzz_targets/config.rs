#![no_main]
//! `scripts/fuzz.sh config SECONDS`: see callcoach::fuzzing::config.

libfuzzer_sys::fuzz_target!(|data: &[u8]| callcoach::fuzzing::config(data));
