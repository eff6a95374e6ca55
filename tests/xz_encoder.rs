//! Encoder behaviour: yalzma's properties (sync-flushed prefixes decode, split encodes round
//! trip, a completely full output buffer loses nothing), FLUSH refused cleanly where liblzma
//! cannot do it, the flush / finish protocol, pledged sizes, preset dictionaries.

mod xz_common;
use std::sync::Arc;

use codec::abi::*;
use codec::xz::sys::{self, LzAction};
use codec::{Action, Dict, Encoder, ErrorKind, Format, Status};
use xz_common::*;

fn samples() -> Vec<Vec<u8>> {
    let mut r = Rng(42);
    vec![b"".to_vec(), b"Hello!".to_vec(), (0..=255u8).collect(), r.bytes(10), r.bytes(100)]
}

/// Everything liblzma's decoder can decode from `c` without an end (LZMA_RUN only).
fn liblzma_prefix(f: Format, c: &[u8]) -> Vec<u8> {
    let mut s = match f {
        Format::Xz => sys::stream_decoder(u64::MAX).unwrap(),
        _ => sys::raw_decoder(&[], 8 << 20, None).unwrap(),
    };
    let mut out = Vec::new();
    let mut buf = vec![0u8; 4096];
    let mut pos = 0;
    loop {
        let p = s.code(&c[pos..], &mut buf, LzAction::Run);
        pos += p.read;
        out.extend_from_slice(&buf[..p.written]);
        assert!(p.ret == sys::LZMA_OK || p.ret == sys::LZMA_STREAM_END, "liblzma: {}", p.ret);
        if p.read == 0 && p.written == 0 {
            return out;
        }
    }
}

/// Our decoder over a flushed (unfinished) stream: all of it decodes, no frame end.
fn ours_prefix(f: Format, c: &[u8]) -> Vec<u8> {
    let mut d = decoder(Some(f), &[], None);
    let o = run_decoder(&mut d, c, c.len().max(1), 1 << 16, &mut Rng(1));
    assert!(o.err.is_none(), "{:?}", o.err);
    o.out
}

fn enc(f: Format) -> Encoder {
    encoder(f, &[], None)
}

/// Encoders at preset 6 (yalzma's default) cost ~100 MB of match-finder tables to set up;
/// the exhaustive split sweep runs at preset 1 and repeats a subset at preset 6.
fn enc_at(f: Format, level: i64) -> Encoder {
    encoder(f, &[(LEVEL, level)], None)
}

fn step(e: &mut Encoder, data: &[u8], a: Action) -> Vec<u8> {
    encode_with(e, data, a, 64)
}

#[test]
fn yalzma_split_points() {
    for f in [Format::Xz, Format::Lzma2Raw, Format::LzmaAlone] {
        for s in samples() {
            let full = {
                let mut e = enc(f);
                step(&mut e, &s, Action::Finish)
            };
            assert_eq!(decode(f, &[], &full).out, s);
            for i in 0..=s.len() {
                for level in [1, 6] {
                    if level == 6 && s.len() > 10 && i % 16 != 0 {
                        continue;
                    }
                    // (a) run(s[:i]) + run(s[i:]) + finish
                    let mut e = enc_at(f, level);
                    let mut c = step(&mut e, &s[..i], Action::Continue);
                    c.extend(step(&mut e, &s[i..], Action::Finish));
                    let o = decode(f, &[], &c);
                    assert!(o.ok && o.out == s, "{f:?} split {i}");
                    assert_eq!(liblzma_simple(f, &c).0, s);
                    if f == Format::LzmaAlone {
                        continue;
                    }
                    // (b) run(s[:i]) + sync_flush(): the prefix decodes, by liblzma and by us.
                    let mut e = enc_at(f, level);
                    let mut c = step(&mut e, &s[..i], Action::Continue);
                    c.extend(step(&mut e, &[], Action::Flush));
                    assert_eq!(liblzma_prefix(f, &c), &s[..i], "{f:?} flushed prefix {i} (liblzma)");
                    assert_eq!(ours_prefix(f, &c), &s[..i], "{f:?} flushed prefix {i} (ours)");
                    // (c) ... + run(s[i:]) + finish round-trips.
                    c.extend(step(&mut e, &s[i..], Action::Continue));
                    c.extend(step(&mut e, &[], Action::Finish));
                    let o = decode(f, &[], &c);
                    assert!(o.ok && o.out == s, "{f:?} flush at {i}");
                    assert_eq!(liblzma_simple(f, &c).0, s);
                }
            }
        }
    }
}

#[test]
fn flush_headers_and_empty_flushes() {
    let mut e = enc(Format::Xz);
    let h = step(&mut e, &[], Action::Flush);
    assert_eq!(h.len(), 12);
    assert_eq!(&h[..6], &[0xFD, b'7', b'z', b'X', b'Z', 0]);
    assert!(step(&mut e, &[], Action::Flush).is_empty());
    let mut c = h;
    c.extend(step(&mut e, b"hello", Action::Flush));
    assert!(step(&mut e, &[], Action::Flush).is_empty());
    assert_eq!(ours_prefix(Format::Xz, &c), b"hello");
    // Flush through a 1-byte output buffer.
    c.extend(encode_with(&mut e, &text(5000, 1), Action::Flush, 1));
    let mut want = b"hello".to_vec();
    want.extend(text(5000, 1));
    assert_eq!(ours_prefix(Format::Xz, &c), want);
    c.extend(encode_with(&mut e, b"", Action::Finish, 1));
    assert_eq!(decode(Format::Xz, &[], &c).out, want);
    // After FINISH the next byte starts a new stream.
    c.extend(step(&mut e, b"next", Action::Finish));
    want.extend_from_slice(b"next");
    let o = decode(Format::Xz, &[], &c);
    assert!(o.ok && o.out == want && o.frames == 2);
    assert_eq!(liblzma_simple(Format::Xz, &c).0, want);
    // Likewise for raw LZMA2 and .lzma.
    for f in [Format::Lzma2Raw, Format::LzmaAlone] {
        let mut e = enc(f);
        let mut c = step(&mut e, b"one", Action::Finish);
        c.extend(step(&mut e, b"two", Action::Finish));
        let o = decode(f, &[], &c);
        assert!(o.ok && o.out == b"onetwo" && o.frames == 2, "{f:?}");
    }
}

#[test]
fn flush_unsupported_without_side_effects() {
    let data = text(100_000, 5);
    let configs: Vec<(Format, Vec<(i32, i64)>)> = vec![
        (Format::LzmaAlone, vec![]),
        (Format::Xz, vec![(CODEC_PARAM_XZ_BCJ_X86, 1)]),
        (Format::Lzma2Raw, vec![(CODEC_PARAM_XZ_BCJ_X86, 1)]),
        (Format::Xz, vec![(CODEC_PARAM_THREADS, 2)]),
    ];
    for (f, params) in configs {
        let mut e = encoder(f, &params, None);
        let mut c = step(&mut e, &data[..40_000], Action::Continue);
        let mut out = vec![0u8; 1000];
        for src in [&data[40_000..40_010], &[][..]] {
            let s = e.encode(src, &mut out, Action::Flush);
            assert_eq!((s.read, s.written), (0, 0), "{f:?} {params:?}");
            assert_eq!(s.result.unwrap_err().kind, ErrorKind::Unsupported);
        }
        c.extend(step(&mut e, &data[40_000..], Action::Continue));
        c.extend(step(&mut e, &[], Action::Finish));
        let dp: Vec<_> = params.iter().copied().filter(|_| f == Format::Lzma2Raw).collect();
        let o = decode(f, &dp, &c);
        assert!(o.ok && o.out == data, "{f:?} {params:?} after refused flush");
    }
}

#[test]
fn full_output_buffers_lose_nothing() {
    let mut r = Rng(9);
    let big = r.bytes(5 << 20);
    let c = compress(Format::Xz, &[(LEVEL, 1)], &big);
    let o = decode(Format::Xz, &[], &c);
    assert!(o.ok && o.out == big, "5 MiB random round trip");
    // Incompressible data through output buffers of exactly 64 KiB (filled completely).
    let data = r.bytes(300_000);
    for f in [Format::Xz, Format::Lzma2Raw, Format::LzmaAlone] {
        let one = compress(f, &[], &data);
        let mut e = enc(f);
        let c = encode_with(&mut e, &data, Action::Finish, 1 << 16);
        assert_eq!(c, one, "{f:?}");
        // Output room of exactly the stream's size, then one byte short.
        let mut e = enc(f);
        let mut buf = vec![0u8; one.len()];
        let s = e.encode(&data, &mut buf, Action::Finish);
        assert_eq!(s.result.unwrap(), Status::Ok, "{f:?} exact room");
        assert_eq!((s.read, s.written), (data.len(), one.len()));
        assert_eq!(buf, one);
        let mut e = enc(f);
        let mut buf = vec![0u8; one.len() - 1];
        let s = e.encode(&data, &mut buf, Action::Finish);
        assert_eq!(s.result.unwrap(), Status::MoreOutput);
        let mut last = [0u8; 8];
        let s2 = e.encode(&data[s.read..], &mut last, Action::Finish);
        assert_eq!(s2.result.unwrap(), Status::Ok);
        assert_eq!(s.written + s2.written, one.len());
        buf.extend_from_slice(&last[..s2.written]);
        assert_eq!(buf, one);
    }
}

#[test]
fn flush_protocol_and_pledges() {
    let data = text(200_000, 3);
    let mut e = enc(Format::Xz);
    let mut small = [0u8; 100];
    let s = e.encode(&data, &mut small, Action::Flush);
    assert_eq!(s.result.unwrap(), Status::MoreOutput);
    let rest = &data[s.read..];
    // A different action or less input while the flush is pending: Sequence, no effect.
    let s2 = e.encode(rest, &mut small, Action::Continue);
    assert_eq!(s2.result.unwrap_err().kind, ErrorKind::Sequence);
    if !rest.is_empty() {
        let s2 = e.encode(&rest[..rest.len() / 2], &mut small, Action::Flush);
        assert_eq!(s2.result.unwrap_err().kind, ErrorKind::Sequence);
    }
    let mut c = small[..s.written].to_vec();
    c.extend(encode_with(&mut e, rest, Action::Flush, 777));
    assert_eq!(ours_prefix(Format::Xz, &c), data);

    // Pledged sizes are enforced.
    let mut e = enc(Format::Xz);
    e.set_pledged_size(10).unwrap();
    let mut out = vec![0u8; 1000];
    assert_eq!(e.encode(&[0; 11], &mut out, Action::Continue).result.unwrap_err().kind, ErrorKind::Invalid);
    let mut e = enc(Format::Xz);
    e.set_pledged_size(10).unwrap();
    assert_eq!(e.encode(&[0; 9], &mut out, Action::Finish).result.unwrap_err().kind, ErrorKind::Invalid);
    let mut e = enc(Format::Xz);
    e.set_pledged_size(10).unwrap();
    assert_eq!(e.encode(&[7; 10], &mut out, Action::Finish).result.unwrap(), Status::Ok);
    // One-shot compress goes through the pledge.
    let mut buf = vec![0u8; codec::formats::compress_bound(Format::Xz, data.len())];
    let n = codec::stream::compress(Format::Xz, Some(3), &data, &mut buf).unwrap();
    let mut back = vec![0u8; data.len()];
    assert_eq!(codec::stream::decompress(Some(Format::Xz), &buf[..n], &mut back, None).unwrap(), data.len());
    assert_eq!(back, data);
    for f in [Format::Lzma2Raw, Format::LzmaAlone] {
        let r = Rng(1).bytes(100_000);
        let mut buf = vec![0u8; codec::formats::compress_bound(f, r.len())];
        let n = codec::stream::compress(f, None, &r, &mut buf).unwrap();
        let mut back = vec![0u8; r.len()];
        assert_eq!(codec::stream::decompress(Some(f), &buf[..n], &mut back, None).unwrap(), r.len());
    }
}

#[test]
fn dictionaries() {
    let dict = Arc::new(Dict::load(&text(100_000, 77)).unwrap());
    for f in [Format::Xz, Format::LzmaAlone] {
        let mut e = Encoder::new(f).unwrap();
        assert_eq!(e.set_dict(Some(dict.clone())).unwrap_err().kind, ErrorKind::Unsupported);
        let mut d = codec::Decoder::new(Some(f)).unwrap();
        assert_eq!(d.set_dict(Some(dict.clone())).unwrap_err().kind, ErrorKind::Unsupported);
    }
    let data = text(50_000, 78);
    for dict_size in [1i64 << 16, 8 << 20] {
        let p = [(CODEC_PARAM_XZ_DICT_SIZE, dict_size)];
        let mut e = encoder(Format::Lzma2Raw, &p, Some(dict.clone()));
        let with = encode_with(&mut e, &data, Action::Finish, 1 << 16);
        let without = compress(Format::Lzma2Raw, &p, &data);
        assert!(with.len() < without.len(), "the dictionary helps");
        let mut d = decoder(Some(Format::Lzma2Raw), &p, Some(dict.clone()));
        let o = run_decoder(&mut d, &with, 0, 0, &mut Rng(3));
        assert!(o.ok && o.out == data, "raw + preset dict ({dict_size})");
        let (lo, lok) = liblzma(Format::Lzma2Raw, &with, (dict_size as u32, &[], Some(dict.content())));
        assert!(lok && lo == data);
        // Without the dictionary the data is refused (or decodes wrongly).
        let o = decode(Format::Lzma2Raw, &p, &with);
        assert!(!(o.ok && o.out == data));
        // With FLUSH in the middle.
        let mut e = encoder(Format::Lzma2Raw, &p, Some(dict.clone()));
        let mut c = encode_with(&mut e, &data[..20_000], Action::Flush, 999);
        let mut d = decoder(Some(Format::Lzma2Raw), &p, Some(dict.clone()));
        let o = run_decoder(&mut d, &c, 0, 0, &mut Rng(4));
        assert_eq!(o.out, &data[..20_000]);
        c.extend(encode_with(&mut e, &data[20_000..], Action::Finish, 999));
        let mut d = decoder(Some(Format::Lzma2Raw), &p, Some(dict.clone()));
        assert_eq!(run_decoder(&mut d, &c, 0, 0, &mut Rng(4)).out, data);
    }
}

#[test]
fn parameter_bounds() {
    use codec::formats::param_spec;
    let s = param_spec(Format::Xz, CODEC_PARAM_XZ_DICT_SIZE).unwrap();
    assert_eq!((s.lo, s.hi, s.encoder, s.decoder), (4096, 3 << 29, true, false));
    let s = param_spec(Format::Lzma2Raw, CODEC_PARAM_XZ_DICT_SIZE).unwrap();
    assert!(s.encoder && s.decoder);
    assert!(param_spec(Format::LzmaAlone, CODEC_PARAM_XZ_BCJ_X86).is_none());
    assert!(param_spec(Format::LzmaAlone, CODEC_PARAM_CHECKSUM).is_none());
    assert!(param_spec(Format::Xz, CODEC_PARAM_MEMLIMIT).unwrap().decoder);
    let mut e = Encoder::new(Format::Xz).unwrap();
    assert_eq!(e.set_param(CODEC_PARAM_XZ_DICT_SIZE, 4095).unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(e.set_param(CODEC_PARAM_CHECKSUM, 2).unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(e.set_param(CODEC_PARAM_XZ_MATCH_FINDER, 0x05).unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(e.set_param(CODEC_PARAM_LEVEL, 10).unwrap_err().kind, ErrorKind::Invalid);
    e.set_param(CODEC_PARAM_XZ_PRESET, 9).unwrap();
    // LEVEL and XZ_PRESET are aliases.
    let data = text(50_000, 1);
    assert_eq!(compress(Format::Xz, &[(LEVEL, 2)], &data), compress(Format::Xz, &[(CODEC_PARAM_XZ_PRESET, 2)], &data));
    // Extreme changes the output.
    assert_ne!(
        compress(Format::Xz, &[(LEVEL, 2)], &data),
        compress(Format::Xz, &[(LEVEL, 2), (CODEC_PARAM_XZ_EXTREME, 1)], &data)
    );
    let mut d = codec::Decoder::new(Some(Format::Xz)).unwrap();
    assert_eq!(d.set_param(CODEC_PARAM_XZ_DICT_SIZE, 1 << 20).unwrap_err().kind, ErrorKind::Unsupported);
}

#[test]
fn flush_with_delta_filter() {
    let data = text(30_000, 8);
    for f in [Format::Xz, Format::Lzma2Raw] {
        let p = [(CODEC_PARAM_XZ_DELTA_DIST, 3), (LEVEL, 1)];
        let mut e = encoder(f, &p, None);
        let mut c = encode_with(&mut e, &data[..12_345], Action::Flush, 500);
        let dp: Vec<_> = p.iter().copied().filter(|x| f == Format::Lzma2Raw && x.0 != LEVEL).collect();
        let mut d = decoder(Some(f), &dp, None);
        let o = run_decoder(&mut d, &c, 0, 0, &mut Rng(2));
        assert!(o.err.is_none() && o.out == &data[..12_345], "{f:?}");
        c.extend(encode_with(&mut e, &data[12_345..], Action::Finish, 500));
        let o = decode(f, &dp, &c);
        assert!(o.ok && o.out == data, "{f:?}");
    }
}
