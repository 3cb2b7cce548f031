#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mst_fuzz::wav(data));
