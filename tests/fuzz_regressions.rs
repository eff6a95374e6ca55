//! Every reproducer in fuzz/regressions/<target>/ (inputs that once made a fuzz target fail,
//! see docs/fuzzing.md) is replayed here through the same target body, so that `cargo test`
//! keeps each fixed bug fixed without a fuzzing toolchain.

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod fuzz;

use codec::Format;

fn replay(target: &str, body: fn(&[u8])) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions").join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else { return };
    let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in files {
        let data = std::fs::read(&f).unwrap();
        eprintln!("replaying {}", f.display());
        body(&data);
    }
}

#[test]
fn decode_zstd() {
    replay("decode_zstd", |d| fuzz::fuzz_decode(Some(Format::Zstd), d));
}
#[test]
fn decode_lz4() {
    replay("decode_lz4", |d| fuzz::fuzz_decode(Some(Format::Lz4Frame), d));
}
#[test]
fn decode_lz4blocks() {
    replay("decode_lz4blocks", |d| fuzz::fuzz_decode(Some(Format::Lz4Blocks), d));
}
#[test]
fn decode_xz() {
    replay("decode_xz", |d| fuzz::fuzz_decode(Some(Format::Xz), d));
}
#[test]
fn decode_lzma2() {
    replay("decode_lzma2", |d| fuzz::fuzz_decode(Some(Format::Lzma2Raw), d));
}
#[test]
fn decode_lzma() {
    replay("decode_lzma", |d| fuzz::fuzz_decode(Some(Format::LzmaAlone), d));
}
#[test]
fn decode_auto() {
    replay("decode_auto", |d| fuzz::fuzz_decode(None, d));
}
#[test]
fn unmarshal() {
    replay("unmarshal", fuzz::fuzz_unmarshal);
}
#[test]
fn dict_load() {
    replay("dict_load", fuzz::fuzz_dict_load);
}
#[test]
fn roundtrip() {
    replay("roundtrip", fuzz::fuzz_roundtrip);
}
