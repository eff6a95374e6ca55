//! See codec_fuzz::fuzz_dict_load for the input layout and the invariants checked.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    codec_fuzz::fuzz_dict_load(data);
});
