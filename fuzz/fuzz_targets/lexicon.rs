#![no_main]
//! `scripts/fuzz.sh lexicon SECONDS`: see callcoach::fuzzing::lexicon.

libfuzzer_sys::fuzz_target!(|data: &[u8]| callcoach::fuzzing::lexicon(data));
