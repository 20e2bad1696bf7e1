#![no_main]
//! `scripts/fuzz.sh playbook SECONDS`: see callcoach::fuzzing::playbook.

libfuzzer_sys::fuzz_target!(|data: &[u8]| callcoach::fuzzing::playbook(data));
