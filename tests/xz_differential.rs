//! Our decoders against liblzma's on valid streams (every preset, check, filter, MT output,
//! concatenation, padding, empty streams) and on corrupted ones (bit flips, every truncation,
//! garbage): same output, same accept / reject decision.

mod xz_common;
use codec::abi::*;
use codec::xz::sys::PreFilter;
use codec::Format;
use xz_common::*;

/// Decode `c` with ours (one shot and chunked) and liblzma; both must accept and give `want`.
fn agree_valid(f: Format, params: &[(i32, i64)], raw: (u32, &[PreFilter]), c: &[u8], want: &[u8], what: &str) {
    let o = decode(f, params, c);
    assert!(o.err.is_none(), "{what}: ours failed: {:?}", o.err);
    assert!(o.ok, "{what}: ours did not end at a frame edge");
    assert!(o.out == want, "{what}: ours decoded {} bytes, want {}", o.out.len(), want.len());
    let mut d = decoder(Some(f), params, None);
    let o2 = run_decoder(&mut d, c, 0, 0, &mut Rng(c.len() as u64));
    assert!(o2.ok && o2.out == want, "{what}: chunked decode differs ({:?})", o2.err);
    let (lo, lok) = liblzma(f, c, (raw.0, raw.1, None));
    assert!(lok, "{what}: liblzma rejected it");
    assert!(lo == want, "{what}: liblzma output differs");
}

#[test]
fn all_presets() {
    let mut data = text(150_000, 1);
    data.extend_from_slice(&Rng(5).bytes(20_000));
    data.extend_from_slice(&text(60_000, 2));
    for preset in 0..=9 {
        for extreme in [false, true] {
            if extreme && preset != 9 && preset != 3 {
                continue;
            }
            let p = [(LEVEL, preset), (CODEC_PARAM_XZ_EXTREME, extreme as i64)];
            let c = compress(Format::Xz, &p, &data);
            agree_valid(
                Format::Xz,
                &[],
                (0, &[]),
                &c,
                &data,
                &format!("xz -{preset}{}", if extreme { "e" } else { "" }),
            );
            let c = compress(Format::LzmaAlone, &p, &data);
            agree_valid(Format::LzmaAlone, &[], (0, &[]), &c, &data, &format!("lzma -{preset}"));
        }
    }
}

#[test]
fn all_checks() {
    let data = text(100_000, 3);
    for check in [CODEC_CHECK_NONE, CODEC_CHECK_CRC32, CODEC_CHECK_CRC64, CODEC_CHECK_SHA256] {
        let c = compress(Format::Xz, &[(CODEC_PARAM_CHECKSUM, check as i64), (LEVEL, 1)], &data);
        assert_eq!(c[7] as i32, check);
        agree_valid(Format::Xz, &[], (0, &[]), &c, &data, &format!("check {check}"));
        let c2 = compress(Format::Xz, &[(CODEC_PARAM_XZ_CHECK, check as i64), (LEVEL, 1)], &data);
        assert_eq!(c, c2, "CHECKSUM and XZ_CHECK are aliases");
        let info = codec::formats::frame_info(Format::Xz, &c).unwrap();
        assert_eq!(info.checksum, check);
        assert_eq!(info.header_size, 12);
    }
}

#[test]
fn custom_lzma_options() {
    let data = text(120_000, 4);
    let cases: &[&[(i32, i64)]] = &[
        &[(CODEC_PARAM_XZ_LC, 0), (CODEC_PARAM_XZ_LP, 4), (CODEC_PARAM_XZ_PB, 0)],
        &[(CODEC_PARAM_XZ_LC, 4), (CODEC_PARAM_XZ_LP, 0), (CODEC_PARAM_XZ_PB, 4)],
        &[(CODEC_PARAM_XZ_LC, 1), (CODEC_PARAM_XZ_LP, 2), (CODEC_PARAM_XZ_PB, 3)],
        &[(CODEC_PARAM_XZ_DICT_SIZE, 4096), (CODEC_PARAM_XZ_MODE, 1), (CODEC_PARAM_XZ_MATCH_FINDER, 0x03)],
        &[
            (CODEC_PARAM_XZ_DICT_SIZE, 65537),
            (CODEC_PARAM_XZ_MATCH_FINDER, 0x12),
            (CODEC_PARAM_XZ_NICE_LEN, 273),
            (CODEC_PARAM_XZ_DEPTH, 1000),
        ],
        &[(CODEC_PARAM_XZ_MODE, 2), (CODEC_PARAM_XZ_MATCH_FINDER, 0x04), (CODEC_PARAM_XZ_NICE_LEN, 4)],
    ];
    for (i, p) in cases.iter().enumerate() {
        for f in [Format::Xz, Format::LzmaAlone] {
            let c = compress(f, p, &data);
            agree_valid(f, &[], (0, &[]), &c, &data, &format!("{f:?} options #{i}"));
        }
        let dict = p.iter().find(|x| x.0 == CODEC_PARAM_XZ_DICT_SIZE).map_or(8 << 20, |x| x.1);
        let c = compress(Format::Lzma2Raw, p, &data);
        agree_valid(
            Format::Lzma2Raw,
            &[(CODEC_PARAM_XZ_DICT_SIZE, dict)],
            (dict as u32, &[]),
            &c,
            &data,
            &format!("raw options #{i}"),
        );
    }
    // lc + lp > 4 is refused when the stream starts.
    let mut e = encoder(Format::Xz, &[(CODEC_PARAM_XZ_LC, 3), (CODEC_PARAM_XZ_LP, 2)], None);
    let mut out = [0u8; 100];
    let s = e.encode(b"abc", &mut out, codec::Action::Finish);
    assert_eq!(s.result.unwrap_err().kind, codec::ErrorKind::Invalid);
}

#[test]
fn delta_and_bcj_filters() {
    let x86 = x86ish(150_000, 9);
    let samples: Vec<i16> = (0..40_000).map(|i| ((i as f64 * 0.05).sin() * 9000.0) as i16).collect();
    let audio: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let cases: Vec<(Vec<(i32, i64)>, Vec<PreFilter>, &[u8])> = vec![
        (vec![(CODEC_PARAM_XZ_BCJ_X86, 1)], vec![PreFilter::X86], &x86),
        (vec![(CODEC_PARAM_XZ_DELTA_DIST, 2)], vec![PreFilter::Delta(2)], &audio),
        (vec![(CODEC_PARAM_XZ_DELTA_DIST, 1)], vec![PreFilter::Delta(1)], &x86),
        (vec![(CODEC_PARAM_XZ_DELTA_DIST, 256)], vec![PreFilter::Delta(256)], &audio),
        (
            vec![(CODEC_PARAM_XZ_DELTA_DIST, 4), (CODEC_PARAM_XZ_BCJ_X86, 1)],
            vec![PreFilter::X86, PreFilter::Delta(4)],
            &x86,
        ),
    ];
    for (params, pre, data) in cases {
        let mut p = params.clone();
        p.push((LEVEL, 2));
        let c = compress(Format::Xz, &p, data);
        agree_valid(Format::Xz, &[], (0, &[]), &c, data, &format!("xz {params:?}"));
        let mut dp = params.clone();
        dp.push((CODEC_PARAM_XZ_DICT_SIZE, 1 << 20));
        p.push((CODEC_PARAM_XZ_DICT_SIZE, 1 << 20));
        let c = compress(Format::Lzma2Raw, &p, data);
        agree_valid(Format::Lzma2Raw, &dp, (1 << 20, &pre), &c, data, &format!("raw {params:?}"));
        // 1-byte output through the filters.
        let mut d = decoder(Some(Format::Lzma2Raw), &dp, None);
        let o = run_decoder(&mut d, &c, 7, 1, &mut Rng(1));
        assert!(o.ok && o.out == *data, "raw {params:?} with 1-byte output");
    }
}

#[test]
fn multithreaded_blocks_concatenation_padding_empty() {
    let data = text(400_000, 11);
    let mt = compress(Format::Xz, &[(CODEC_PARAM_THREADS, 2), (CODEC_PARAM_XZ_BLOCK_SIZE, 50_000), (LEVEL, 1)], &data);
    agree_valid(Format::Xz, &[], (0, &[]), &mt, &data, "MT, 8 blocks");
    // Block headers of the MT encoder record sizes; frame_size walks to the end.
    assert_eq!(codec::formats::frame_size(Format::Xz, &mt).unwrap(), mt.len() as u64);

    let empty = compress(Format::Xz, &[], b"");
    assert_eq!(empty.len(), 32);
    agree_valid(Format::Xz, &[], (0, &[]), &empty, b"", "empty stream");
    let o = decode(Format::Xz, &[], &empty);
    assert_eq!(o.frames, 1);

    let a = compress(Format::Xz, &[(LEVEL, 0)], &data[..1000]);
    let b = compress(Format::Xz, &[(LEVEL, 3), (CODEC_PARAM_CHECKSUM, 10)], &data[1000..]);
    let mut cat = a.clone();
    cat.extend_from_slice(&[0; 8]);
    cat.extend_from_slice(&empty);
    cat.extend_from_slice(&b);
    cat.extend_from_slice(&[0; 4]);
    agree_valid(Format::Xz, &[], (0, &[]), &cat, &data, "concatenated with padding");
    assert_eq!(decode(Format::Xz, &[], &cat).frames, 3);
    assert_eq!(codec::formats::frame_size(Format::Xz, &cat).unwrap(), (a.len() + 8) as u64);
    // Padding not a multiple of 4: rejected by both.
    let mut bad = a.clone();
    bad.extend_from_slice(&[0; 3]);
    assert!(!decode(Format::Xz, &[], &bad).ok);
    assert!(!liblzma_simple(Format::Xz, &bad).1);
    let mut bad = a.clone();
    bad.extend_from_slice(&[0; 2]);
    bad.extend_from_slice(&b);
    assert!(decode(Format::Xz, &[], &bad).err.is_some());
    assert!(!liblzma_simple(Format::Xz, &bad).1);
}

#[test]
fn lzma_alone_known_size_and_end_marker() {
    // Header with known size 0 and a range coder that is already finished.
    let mut z = vec![0x5D, 0, 0, 1, 0];
    z.extend_from_slice(&0u64.to_le_bytes());
    z.extend_from_slice(&[0; 5]);
    let o = decode(Format::LzmaAlone, &[], &z);
    assert!(o.ok && o.out.is_empty(), "{:?}", o.err);
    assert!(liblzma_simple(Format::LzmaAlone, &z).1);
    // A stream with an end marker but a known size in its header: both refuse (liblzma 5.2).
    let data = text(5000, 3);
    let mut c = compress(Format::LzmaAlone, &[], &data);
    assert_eq!(&c[5..13], &[0xFF; 8]);
    c[5..13].copy_from_slice(&(data.len() as u64).to_le_bytes());
    let o = decode(Format::LzmaAlone, &[], &c);
    let (lo, lok) = liblzma_simple(Format::LzmaAlone, &c);
    assert_eq!(o.ok, lok);
    assert_eq!(o.out, lo);
    // Known-size streams without an end marker, made by a tiny literal-only encoder.
    for n in [1usize, 2, 100, 5000] {
        let d = text(n, n as u64);
        let c = lit_only_lzma(&d);
        let o = decode(Format::LzmaAlone, &[], &c);
        assert!(o.ok && o.out == d, "known size {n}: {:?}", o.err);
        let (lo, lok) = liblzma_simple(Format::LzmaAlone, &c);
        assert!(lok && lo == d);
        let mut dd = decoder(Some(Format::LzmaAlone), &[], None);
        let o = run_decoder(&mut dd, &c, 1, 1, &mut Rng(1));
        assert!(o.ok && o.out == d);
    }
    let info = codec::formats::frame_info(Format::LzmaAlone, &lit_only_lzma(b"abc")).unwrap();
    let _ = lit_only_lzma;
    assert_eq!(info.content_size, 3);
    assert_eq!(info.window_size, 1 << 16);
}

/// A .lzma file with a known size and no end marker: every byte coded as a literal.
fn lit_only_lzma(data: &[u8]) -> Vec<u8> {
    struct Enc {
        low: u64,
        range: u32,
        cache: u8,
        cache_size: u64,
        out: Vec<u8>,
    }
    impl Enc {
        fn shift_low(&mut self) {
            if (self.low as u32) < 0xFF00_0000 || (self.low >> 32) != 0 {
                let carry = (self.low >> 32) as u8;
                let mut temp = self.cache;
                loop {
                    self.out.push(temp.wrapping_add(carry));
                    temp = 0xFF;
                    self.cache_size -= 1;
                    if self.cache_size == 0 {
                        break;
                    }
                }
                self.cache = (self.low >> 24) as u8;
            }
            self.cache_size += 1;
            self.low = (self.low & 0x00FF_FFFF) << 8;
        }
        fn bit(&mut self, p: &mut u16, b: u32) {
            let bound = (self.range >> 11) * *p as u32;
            if b == 0 {
                self.range = bound;
                *p += (2048 - *p) >> 5;
            } else {
                self.low += bound as u64;
                self.range -= bound;
                *p -= *p >> 5;
            }
            while self.range < (1 << 24) {
                self.range <<= 8;
                self.shift_low();
            }
        }
    }
    let mut e = Enc { low: 0, range: u32::MAX, cache: 0, cache_size: 1, out: Vec::new() };
    // lc=3 lp=0 pb=2; state stays 0 (literals only).
    let mut is_match = [[1024u16; 4]; 12];
    let mut lit = vec![[1024u16; 0x300]; 8];
    let mut prev = 0u8;
    for (i, &b) in data.iter().enumerate() {
        e.bit(&mut is_match[0][i & 3], 0);
        let probs = &mut lit[(prev >> 5) as usize];
        let mut m = 1usize;
        for k in (0..8).rev() {
            let bit = ((b >> k) & 1) as u32;
            e.bit(&mut probs[m], bit);
            m = (m << 1) | bit as usize;
        }
        prev = b;
    }
    for _ in 0..5 {
        e.shift_low();
    }
    let mut out = vec![0x5D];
    out.extend_from_slice(&(1u32 << 16).to_le_bytes());
    out.extend_from_slice(&(data.len() as u64).to_le_bytes());
    out.extend_from_slice(&e.out);
    out
}

/// Ours and liblzma agree on `c`: same verdict; on success the same output; on failure
/// outputs that agree as far as both go. (liblzma may emit bytes decoded past a chunk's
/// declared compressed size before it notices; we stop at the chunk's end.) For the
/// single-stream formats, liblzma's verdict covers the bytes it read.
fn agree(f: Format, params: &[(i32, i64)], raw: (u32, &[PreFilter]), c: &[u8], what: &str) -> bool {
    let (lo, lok, used) = liblzma_n(f, c, (raw.0, raw.1, None));
    let c = if lok && f != Format::Xz { &c[..used] } else { c };
    // liblzma runs without a memory limit here; so do we (the window grows with output).
    let mut p = params.to_vec();
    p.push((CODEC_PARAM_MEMLIMIT, i64::MAX));
    let o = decode(f, &p, c);
    assert_eq!(o.ok, lok, "{what}: ours ok={} ({:?}), liblzma ok={lok}", o.ok, o.err);
    if !lok && !raw.1.is_empty() {
        // With a BCJ filter, liblzma's output before an error is not meaningful: its x86
        // filter converts the bytes before the failure with a wrong position.
        return true;
    }
    let n = o.out.len().min(lo.len());
    if o.out[..n] != lo[..n] {
        let first = (0..n).find(|&i| o.out[i] != lo[i]).unwrap();
        panic!("{what}: outputs differ at {first} (ours {}, liblzma {} bytes; {:?})", o.out.len(), lo.len(), o.err);
    }
    if lok {
        assert!(o.out == lo, "{what}: outputs differ");
    }
    o.out.len() == lo.len()
}

#[test]
fn corrupted_streams() {
    let data = text(3000, 21);
    let mut streams = vec![
        (Format::Xz, vec![], compress(Format::Xz, &[(LEVEL, 6)], &data)),
        (Format::Xz, vec![], compress(Format::Xz, &[(LEVEL, 1), (CODEC_PARAM_CHECKSUM, 10)], &data)),
        (
            Format::Xz,
            vec![],
            compress(
                Format::Xz,
                &[(CODEC_PARAM_THREADS, 2), (CODEC_PARAM_XZ_BLOCK_SIZE, 1000), (CODEC_PARAM_CHECKSUM, 1)],
                &data,
            ),
        ),
        (Format::LzmaAlone, vec![], compress(Format::LzmaAlone, &[], &data)),
        (
            Format::Lzma2Raw,
            vec![(CODEC_PARAM_XZ_DICT_SIZE, 1 << 16)],
            compress(Format::Lzma2Raw, &[(CODEC_PARAM_XZ_DICT_SIZE, 1 << 16)], &data),
        ),
        (
            Format::Xz,
            vec![],
            compress(Format::Xz, &[(CODEC_PARAM_XZ_BCJ_X86, 1), (CODEC_PARAM_CHECKSUM, 0)], &x86ish(3000, 1)),
        ),
    ];
    // An xz stream holding an uncompressed chunk.
    streams.push((Format::Xz, vec![], compress(Format::Xz, &[(CODEC_PARAM_CHECKSUM, 1)], &Rng(3).bytes(1500))));
    let (mut flips, mut same_len) = (0, 0);
    for (k, (f, params, c)) in streams.iter().enumerate() {
        let dict = params.first().map_or(0, |p| p.1 as u32);
        agree(*f, params, (dict, &[]), c, &format!("stream {k} intact"));
        for i in 0..c.len() {
            for bit in 0..8 {
                if (i * 8 + bit) % if c.len() > 1500 { 3 } else { 1 } != 0 {
                    continue;
                }
                let mut b = c.clone();
                b[i] ^= 1 << bit;
                // (xz streams carry their filters; `pre` only marks the BCJ case.)
                let pre: &[PreFilter] = if k == 5 { &[PreFilter::X86] } else { &[] };
                let same = agree(*f, params, (dict, pre), &b, &format!("stream {k} flip {i}:{bit}"));
                flips += 1;
                same_len += same as usize;
            }
        }
        for n in 0..c.len() {
            agree(*f, params, (dict, &[]), &c[..n], &format!("stream {k} truncated to {n}"));
        }
    }
    eprintln!("{flips} bit flips, identical output (length too) in {same_len}");
    assert!(same_len * 100 >= flips * 98, "outputs differ in length too often");
    let mut r = Rng(77);
    for i in 0..300 {
        let n = r.below(200);
        let mut g = r.bytes(n);
        if i % 3 == 0 && g.len() > 6 {
            g[..6].copy_from_slice(&[0xFD, b'7', b'z', b'X', b'Z', 0]);
        }
        for f in [Format::Xz, Format::LzmaAlone, Format::Lzma2Raw] {
            let params = if f == Format::Lzma2Raw { vec![(CODEC_PARAM_XZ_DICT_SIZE, 1 << 16)] } else { vec![] };
            agree(f, &params, (1 << 16, &[]), &g, &format!("garbage {i} as {f:?}"));
        }
    }
}
