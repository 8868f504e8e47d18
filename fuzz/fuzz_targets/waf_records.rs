#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| seclog_e2e::fuzzing::waf_records(data));
