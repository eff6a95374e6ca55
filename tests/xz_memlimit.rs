//! Memory limits: a dictionary beyond the limit fails with MemLimit before anything is
//! allocated; raising the limit accepts it, and the window still grows only with the output.
//! One test function, so that the process's memory figures belong to it alone.

mod xz_common;
use codec::abi::*;
use codec::{ErrorKind, Format};
use xz_common::*;

/// Resident memory of this process in KiB (None where /proc is missing).
fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn memory_limits() {
    let data = text(1000, 5);
    let small = compress(Format::Xz, &[(LEVEL, 0)], &data);
    // 1.5 GiB dictionary (properties byte 37).
    let huge = with_dict_byte(&small, 37);
    let o = decode(Format::Xz, &[], &huge);
    let (kind, msg) = o.err.expect("refused");
    assert_eq!(kind, ErrorKind::MemLimit);
    assert!(msg.contains("1610612736") && msg.contains("268435456"), "{msg}");
    assert!(o.out.is_empty());
    // liblzma agrees that the stream itself is fine.
    assert!(liblzma_simple(Format::Xz, &huge).1);
    // Measuring a stream decodes it, under the default limit too (the input is untrusted).
    assert_eq!(codec::formats::frame_size(Format::Xz, &small).unwrap(), small.len() as u64);
    let e = codec::formats::frame_size(Format::Xz, &huge).unwrap_err();
    assert_eq!(e.kind, ErrorKind::MemLimit, "{}", e.msg);

    let before = rss_kib();
    let o = decode(Format::Xz, &[(CODEC_PARAM_MEMLIMIT, 2 << 30)], &huge);
    assert!(o.ok && o.out == data, "{:?}", o.err);
    // 4 GiB dictionary, the largest .xz can declare.
    let o = decode(Format::Xz, &[(CODEC_PARAM_MEMLIMIT, i64::MAX)], &with_dict_byte(&small, 40));
    assert!(o.ok && o.out == data, "{:?}", o.err);
    // xz -9 (64 MiB dictionary) on 1 KB of data.
    let nine = compress(Format::Xz, &[(LEVEL, 9)], &data);
    let o = decode(Format::Xz, &[], &nine);
    assert!(o.ok && o.out == data);
    if let (Some(a), Some(b)) = (before, rss_kib()) {
        assert!(b.saturating_sub(a) < 32 << 10, "resident memory grew by {} KiB", b - a);
    }

    // .lzma with a 1.5 GiB dictionary.
    let mut lz = compress(Format::LzmaAlone, &[(LEVEL, 0)], &data);
    lz[1..5].copy_from_slice(&(3u32 << 29).to_le_bytes());
    assert_eq!(decode(Format::LzmaAlone, &[], &lz).err.unwrap().0, ErrorKind::MemLimit);
    let o = decode(Format::LzmaAlone, &[(CODEC_PARAM_MEMLIMIT, 2 << 30)], &lz);
    assert!(o.ok && o.out == data);

    // Raw LZMA2: a dictionary size above the limit is refused at the first byte.
    let raw = compress(Format::Lzma2Raw, &[], &data);
    let o = decode(Format::Lzma2Raw, &[(CODEC_PARAM_MEMLIMIT, 1 << 20)], &raw);
    assert_eq!(o.err.unwrap().0, ErrorKind::MemLimit);
    // A smaller dictionary than the encoder's is fine while no distance exceeds it.
    let o = decode(Format::Lzma2Raw, &[(CODEC_PARAM_XZ_DICT_SIZE, 1 << 20), (CODEC_PARAM_MEMLIMIT, 2 << 20)], &raw);
    assert!(o.ok && o.out == data);
    let o = decode(Format::Lzma2Raw, &[(CODEC_PARAM_XZ_DICT_SIZE, 3 << 29), (CODEC_PARAM_MEMLIMIT, i64::MAX)], &raw);
    assert!(o.ok && o.out == data);
}
