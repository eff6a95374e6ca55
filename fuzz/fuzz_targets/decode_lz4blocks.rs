//! Streaming decode of arbitrary input (format: lz4blocks) with fuzzer-chosen parameters, input
//! chunking, output limits and a marshal / clone at a fuzzer-chosen step, checked against an
//! uninterrupted decode in large chunks. See codec_fuzz::fuzz_decode.
#![no_main]
#[allow(unused_imports)]
use codec::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    codec_fuzz::fuzz_decode(Some(Format::Lz4Blocks), data);
});
