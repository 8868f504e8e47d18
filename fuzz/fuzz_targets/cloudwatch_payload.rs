#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| seclog_e2e::fuzzing::cloudwatch_payload(data));
