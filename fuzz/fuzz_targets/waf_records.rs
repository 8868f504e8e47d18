#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| seclog_testkit::fuzzing::waf_records(data));
