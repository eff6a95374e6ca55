//! LZ4 block streaming (python-lz4 `lz4.stream` wire format): golden vectors, the
//! python-lz4 test matrix in Rust, truncation and corruption cases, dictionaries, the
//! out-of-band (width 0) mode, FLUSH / FINISH semantics, parameters, marshal and clone.

mod lz4_common;
use lz4_common::*;

use std::sync::Arc;

use codec::abi::*;
use codec::formats::{self, Format};
use codec::{Action, Decoder, Dict, Encoder, ErrorKind, Status};

const B: Format = Format::Lz4Blocks;

/// LZ4_COMPRESSBOUND
fn lz4_bound(n: usize) -> usize {
    n + n / 255 + 16
}

fn decoder(page: usize, width: u8, dict: Option<&Arc<Dict>>) -> Decoder {
    let mut d = Decoder::new(Some(B)).unwrap();
    d.set_param(CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, page as i64).unwrap();
    d.set_param(CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH, width as i64).unwrap();
    if let Some(x) = dict {
        d.set_dict(Some(x.clone())).unwrap();
    }
    d
}

/// Feed `src` (in `chunk`-byte pieces) with `cap`-byte output buffers; returns the output,
/// whether the decoder ended between blocks, or the error.
fn run(d: &mut Decoder, src: &[u8], chunk: usize, cap: usize) -> Result<(Vec<u8>, bool), codec::Error> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; cap];
    let mut pos = 0;
    loop {
        let end = (pos + chunk).min(src.len());
        let s = d.decode(&src[pos..end], &mut buf);
        pos += s.read;
        out.extend_from_slice(&buf[..s.written]);
        match s.result? {
            Status::Ok if pos == src.len() => return Ok((out, d.at_frame_edge())),
            Status::FrameEnd => panic!("block streams have no frame end"),
            _ => {}
        }
    }
}

fn dec_all(page: usize, width: u8, dict: Option<&Arc<Dict>>, src: &[u8]) -> Result<(Vec<u8>, bool), codec::Error> {
    run(&mut decoder(page, width, dict), src, usize::MAX / 2, 1 << 20)
}

#[test]
fn golden_vectors() {
    let lorem = b"Lorem ipsum dolor sit amet".repeat(4);
    let e = dec_all(65536, 4, None, b"\x00\x00\x00\x00").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Corrupt, "a zero-length block is invalid");
    assert_eq!(dec_all(65536, 4, None, b"\x01\x00\x00\x00\x00").unwrap(), (vec![], true));
    assert_eq!(dec_all(65536, 4, None, b"\x02\x00\x00\x00\x10 ").unwrap(), (b" ".to_vec(), true));
    let v = b"%\x00\x00\x00\xff\x0bLorem ipsum dolor sit amet\x1a\x006P amet";
    assert_eq!(dec_all(65536, 4, None, v).unwrap(), (lorem.clone(), true));
    // Byte by byte, and with one-byte output buffers.
    assert_eq!(run(&mut decoder(65536, 4, None), v, 1, 1).unwrap(), (lorem.clone(), true));
    // Our encoder makes the same block python-lz4 does (LZ4_compress_fast_continue).
    let mut e = enc(B, &[], None);
    assert_eq!(encode_all(&mut e, &lorem, 1000, 1000, Action::Flush), v.to_vec());
    // An empty page is not a block: flushing nothing emits nothing.
    assert!(encode_all(&mut e, &[], 1, 100, Action::Flush).is_empty());
    // python-lz4's test_known_decompress_4: three blocks with history across them, page 128.
    let v4 = b"%\x00\x00\x00\xff\x0bLorem ipsum dolor sit amet\x1a\x00NPit am\n\x00\x00\x00\x0fh\x00hP sit \x05\x00\x00\x00@amet";
    let lorem10 = b"Lorem ipsum dolor sit amet".repeat(10);
    assert_eq!(dec_all(128, 4, None, v4).unwrap(), (lorem10.clone(), true));
    assert_eq!(run(&mut decoder(128, 4, None), v4, 1, 1).unwrap(), (lorem10, true));
}

fn blocks_of(stream: &[u8], width: usize) -> Vec<&[u8]> {
    let mut v = Vec::new();
    let mut pos = 0;
    while pos < stream.len() {
        let mut le = [0u8; 4];
        le[..width].copy_from_slice(&stream[pos..pos + width]);
        let n = u32::from_le_bytes(le) as usize;
        pos += width;
        v.push(&stream[pos..pos + n]);
        pos += n;
    }
    assert_eq!(pos, stream.len(), "prefixes walk exactly to the end");
    v
}

#[test]
fn python_lz4_stream_matrix() {
    let rnd = Rng(1).bytes(8192);
    let structured = text(8552, 2);
    let datas: [&[u8]; 3] = [b"", &rnd, &structured];
    let modes: &[&[(codec_param, i64)]] = &[
        &[],
        &[(CODEC_PARAM_LZ4BLOCKS_ACCELERATION, 2)],
        &[(CODEC_PARAM_LZ4BLOCKS_ACCELERATION, 8)],
        &[(CODEC_PARAM_LEVEL, -4)],
        &[(CODEC_PARAM_LZ4BLOCKS_HC_LEVEL, 2)],
        &[(CODEC_PARAM_LZ4BLOCKS_HC_LEVEL, 9)],
        &[(CODEC_PARAM_LZ4BLOCKS_HC_LEVEL, 12)],
        &[(CODEC_PARAM_LEVEL, 3)],
    ];
    let mut combos = 0;
    let mut buf = vec![0u8; 1 << 17];
    for (di, data) in datas.iter().enumerate() {
        let dicts: Vec<Option<Arc<Dict>>> = vec![
            None,
            (data.len() >= 200).then(|| raw_dict(&data[100..200])),
            (data.len() >= 8192).then(|| raw_dict(&data[..8192])),
            Some(raw_dict(&Rng(3).bytes(8192))),
        ];
        for page in [1usize, 941, 65536] {
            for width in [1u8, 2, 4] {
                let fits = width == 4 || (lz4_bound(page) as u64) < (1u64 << (8 * width as u32));
                for mode in modes {
                    for dict in dicts.iter().filter(|d| d.is_some() || dicts[0].is_none()) {
                        let dict = dict.as_ref();
                        let mut p = mode.to_vec();
                        p.push((CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, page as i64));
                        p.push((CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH, width as i64));
                        let mut e = enc(B, &p, dict);
                        if !fits {
                            let s = e.encode(b"x", &mut [0u8; 100], Action::Flush);
                            assert_eq!(s.result.unwrap_err().kind, ErrorKind::Invalid, "page {page} width {width}");
                            continue;
                        }
                        combos += 1;
                        // python-lz4 calls compress() once per page-sized slice.
                        let mut comp = Vec::new();
                        for slice in data.chunks(page) {
                            let s = e.encode(slice, &mut buf, Action::Continue);
                            assert_eq!((s.result.unwrap(), s.read), (Status::Ok, slice.len()));
                            comp.extend_from_slice(&buf[..s.written]);
                        }
                        let s = e.encode(&[], &mut buf, Action::Flush);
                        assert_eq!(s.result.unwrap(), Status::Ok);
                        comp.extend_from_slice(&buf[..s.written]);
                        let blocks = blocks_of(&comp, width as usize);
                        assert_eq!(blocks.len(), data.len().div_ceil(page), "one block per page");
                        let (got, edge) = dec_all(page, width, dict, &comp).unwrap();
                        assert!(edge);
                        assert!(
                            got == *data,
                            "data {di} page {page} width {width} mode {mode:?} dict {}",
                            dict.is_some()
                        );
                    }
                }
            }
        }
    }
    assert!(combos > 300, "{combos}");
}

#[test]
fn truncation_at_every_length() {
    let digits = b"2099023098234882923049823094823094898239230982349081231290381209380981203981209381238901283098908123109238098123";
    let data = digits.repeat(24);
    let mut e = enc(B, &[(CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, 128)], None);
    let comp = encode_all(&mut e, &data, data.len(), 1 << 16, Action::Finish);
    let blocks = blocks_of(&comp, 4);
    assert_eq!(blocks.len(), 21);
    let mut bounds = vec![0];
    for b in &blocks {
        bounds.push(bounds.last().unwrap() + 4 + b.len());
    }
    for n in 0..=comp.len() {
        let (out, edge) = run(&mut decoder(128, 4, None), &comp[..n], 7, 50).unwrap();
        let complete = bounds.iter().filter(|&&b| b <= n).count() - 1;
        assert_eq!(edge, bounds.contains(&n), "length {n}");
        assert_eq!(out.len(), (complete * 128).min(data.len()), "length {n}");
        assert_eq!(out, data[..out.len()]);
    }
}

/// Decoding corrupted streams: an error, or correct output so far (never wrong bytes, never
/// a crash).
fn robust(page: usize, stream: &[u8], data: &[u8]) -> Result<(Vec<u8>, bool), codec::Error> {
    let r = dec_all(page, 4, None, stream);
    if let Ok((out, _)) = &r {
        assert_eq!(out[..], data[..out.len()], "wrong output");
    }
    r
}

#[test]
fn corrupted_and_trailing_input() {
    for (n, page) in [(512, 128), (256, 128)] {
        let data = vec![b'A'; n];
        let mut e = enc(B, &[(CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, page)], None);
        let comp = encode_all(&mut e, &data, page as usize, 1 << 16, Action::Flush);
        let blocks = blocks_of(&comp, 4);
        assert_eq!(robust(page as usize, &comp, &data).unwrap(), (data.clone(), true));
        // Dropping the first 4 bytes.
        match robust(page as usize, &comp[4..], &data) {
            Err(e) => assert_eq!(e.kind, ErrorKind::Corrupt),
            Ok((_, edge)) => assert!(!edge),
        }
        // First, middle and last block lengths off by +1 / -2.
        let starts: Vec<usize> = {
            let mut v = vec![0];
            for b in &blocks[..blocks.len() - 1] {
                v.push(v.last().unwrap() + 4 + b.len());
            }
            v
        };
        for &which in &[0, blocks.len() / 2, blocks.len() - 1] {
            for delta in [1i64, -2] {
                let mut bad = comp.clone();
                let at = starts[which];
                let len = u32::from_le_bytes(bad[at..at + 4].try_into().unwrap()) as i64 + delta;
                bad[at..at + 4].copy_from_slice(&(len as u32).to_le_bytes());
                match robust(page as usize, &bad, &data) {
                    Err(e) => assert_eq!(e.kind, ErrorKind::Corrupt, "{e}"),
                    // python-lz4: "Requested input size ... larger than source size"
                    Ok((_, edge)) => assert!(!edge && which == blocks.len() - 1 && delta == 1),
                }
            }
        }
    }
    // Trailers after a valid stream.
    let data = vec![b'A'; 64];
    let comp = encode_all(&mut enc(B, &[], None), &data, 64, 1000, Action::Flush);
    let with = |t: &[u8]| {
        let mut v = comp.clone();
        v.extend_from_slice(t);
        dec_all(65536, 4, None, &v)
    };
    assert_eq!(with(b"A").unwrap(), (data.clone(), false), "too small for a prefix: incomplete");
    assert_eq!(with(&[b'A'; 10]).unwrap_err().kind, ErrorKind::Corrupt, "0x41414141 is too long a block");
    for n in 0..4 {
        assert_eq!(with(&vec![0; n]).unwrap(), (data.clone(), n == 0));
    }
    for n in 4..8 {
        assert_eq!(with(&vec![0; n]).unwrap_err().kind, ErrorKind::Corrupt, "zero-length block");
    }
    // A block longer than any block of the page can be.
    let page = 128;
    let mut v = (lz4_bound(page) as u32 + 1).to_le_bytes().to_vec();
    v.extend(vec![0u8; 200]);
    let e = dec_all(page, 4, None, &v).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Corrupt);
    assert!(e.msg.contains("longer than any block"), "{}", e.msg);
    // A block that decodes to more than the page.
    let big = encode_all(
        &mut enc(B, &[(CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, 1000)], None),
        &[b'z'; 1000],
        1000,
        2000,
        Action::Flush,
    );
    assert_eq!(dec_all(999, 4, None, &big).unwrap_err().kind, ErrorKind::Corrupt);
    assert_eq!(dec_all(1000, 4, None, &big).unwrap().0, vec![b'z'; 1000]);
    // Random flips: never a crash.
    let data = text(20_000, 9);
    let comp =
        encode_all(&mut enc(B, &[(CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, 1000)], None), &data, 5000, 1 << 16, Action::Flush);
    let mut r = Rng(10);
    for _ in 0..300 {
        let mut bad = comp.clone();
        let i = r.range(0, bad.len() - 1);
        bad[i] ^= 1 << r.range(0, 7);
        let _ = run(&mut decoder(1000, 4, None), &bad, r.range(1, 3000), r.range(1, 3000));
    }
}

#[test]
fn dictionaries_both_sides() {
    let data = text(10_000, 11);
    let dict1 = raw_dict(&data[10..30]);
    let p = [(CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, 128)];
    let comp = encode_all(&mut enc(B, &p, Some(&dict1)), &data, 128, 1 << 16, Action::Flush);
    assert_eq!(dec_all(128, 4, Some(&dict1), &comp).unwrap(), (data.clone(), true));
    assert_eq!(dec_all(128, 4, None, &comp).unwrap_err().kind, ErrorKind::Corrupt, "dictionary missing");
    let short = raw_dict(&data[10..12]);
    assert_eq!(dec_all(128, 4, Some(&short), &comp).unwrap_err().kind, ErrorKind::Corrupt);
    // A different dictionary of the same size gives different output, without an error
    // (there is nothing in the stream to check it against).
    let dict2 = raw_dict(&data[20..40]);
    if let Ok((out, _)) = dec_all(128, 4, Some(&dict2), &comp) {
        assert_ne!(out, data);
    }
    // Compressed without a dictionary, decoded with one: fine (more history than needed).
    let plain = encode_all(&mut enc(B, &p, None), &data, 128, 1 << 16, Action::Flush);
    assert_eq!(dec_all(128, 4, Some(&dict1), &plain).unwrap(), (data.clone(), true));
    // zstd-format dictionaries contribute their content's last 64 KiB.
    let trained = trained_dict(12);
    let comp = encode_all(&mut enc(B, &[], Some(&trained)), &data, 3000, 1 << 16, Action::Flush);
    assert!(comp.len() < encode_all(&mut enc(B, &[], None), &data, 3000, 1 << 16, Action::Flush).len());
    assert_eq!(dec_all(65536, 4, Some(&trained), &comp).unwrap(), (data.clone(), true));
}

#[test]
fn finish_resets_history_and_width_zero() {
    let data = text(300_000, 13);
    let dict = raw_dict(&data[..5000]);
    // Two messages separated by FINISH: the second decodes alone, without the dictionary.
    let mut e = enc(B, &[(CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, 4096)], Some(&dict));
    let first = encode_all(&mut e, &data[..100_000], 10_000, 1 << 16, Action::Finish);
    let second = encode_all(&mut e, &data[100_000..], 10_000, 1 << 16, Action::Finish);
    let mut both = first.clone();
    both.extend_from_slice(&second);
    assert_eq!(dec_all(4096, 4, Some(&dict), &both).unwrap(), (data.clone(), true));
    assert_eq!(dec_all(4096, 4, None, &second).unwrap().0, data[100_000..]);
    // The first message needs the dictionary; after reset the encoder uses it again.
    assert!(dec_all(4096, 4, None, &first).is_err());
    e.reset();
    assert_eq!(encode_all(&mut e, &data[..100_000], 10_000, 1 << 16, Action::Finish), first);
    // Width 0: each FLUSH emits exactly one block, without a prefix; the decoder takes each
    // call's whole input as one block.
    let page = 256;
    let mut e0 = enc(B, &[(CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, page), (CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH, 0)], None);
    let mut e4 = enc(B, &[(CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, page)], None);
    let small = &data[..2688];
    let mut d0 = decoder(page as usize, 0, None);
    let mut out = Vec::new();
    let mut inband = Vec::new();
    for c in small.chunks(page as usize) {
        let block = encode_all(&mut e0, c, c.len(), 1000, Action::Flush);
        let prefixed = encode_all(&mut e4, c, c.len(), 1000, Action::Flush);
        assert_eq!(prefixed[4..], block[..]);
        assert_eq!(u32::from_le_bytes(prefixed[..4].try_into().unwrap()) as usize, block.len());
        inband.extend(prefixed);
        // One-byte output buffers: the block is consumed whole; the rest drains.
        let (o, edge) = run(&mut d0, &block, usize::MAX / 2, 1).unwrap();
        assert!(edge);
        out.extend(o);
    }
    assert_eq!(out, small);
    assert_eq!(dec_all(page as usize, 4, None, &inband).unwrap().0, small);
}

#[test]
fn buffers_chunks_and_levels() {
    let data = text(400_000, 14);
    let fast = encode_all(&mut enc(B, &[], None), &data, 1 << 20, 1 << 20, Action::Finish);
    for (chunk, cap) in [(1, 1), (5, 3), (70_000, 1), (1000, 100_000)] {
        let c = encode_all(&mut enc(B, &[], None), &data, chunk, cap, Action::Finish);
        assert_eq!(c, fast, "same stream whatever the buffering");
        let (out, edge) = run(&mut decoder(65536, 4, None), &c, chunk, cap).unwrap();
        assert!(edge && out == data);
    }
    let hc = encode_all(&mut enc(B, &[(CODEC_PARAM_LEVEL, 9)], None), &data, 1 << 20, 1 << 20, Action::Finish);
    let hc2 =
        encode_all(&mut enc(B, &[(CODEC_PARAM_LZ4BLOCKS_HC_LEVEL, 9)], None), &data, 1 << 20, 1 << 20, Action::Finish);
    assert_eq!(hc, hc2);
    assert!(hc.len() < fast.len());
    let accel = encode_all(&mut enc(B, &[(CODEC_PARAM_LEVEL, -8)], None), &data, 1 << 20, 1 << 20, Action::Finish);
    let accel2 = encode_all(
        &mut enc(B, &[(CODEC_PARAM_LZ4BLOCKS_ACCELERATION, 8)], None),
        &data,
        1 << 20,
        1 << 20,
        Action::Finish,
    );
    assert_eq!(accel, accel2);
    assert!(accel.len() > fast.len());
    for c in [&hc, &accel] {
        assert_eq!(dec_all(65536, 4, None, c).unwrap().0, data);
    }
    // History spans pages: a stream with small pages still compresses repeated content that
    // is far back (within 64 KiB).
    let rep = [Rng(15).bytes(30_000), Rng(15).bytes(30_000)].concat();
    let c = encode_all(
        &mut enc(B, &[(CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, 1000)], None),
        &rep,
        1 << 20,
        1 << 20,
        Action::Finish,
    );
    assert!(c.len() < 32_000, "{}", c.len());
    assert_eq!(dec_all(1000, 4, None, &c).unwrap().0, rep);
    // compress_bound
    let rnd = Rng(16).bytes(1 << 20);
    let c = encode_all(&mut enc(B, &[], None), &rnd, 1 << 20, 2 << 20, Action::Finish);
    assert!(c.len() <= formats::compress_bound(B, rnd.len()));
}

#[test]
fn parameters() {
    let spec = formats::param_spec(B, CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE).unwrap();
    assert_eq!((spec.lo, spec.hi, spec.encoder, spec.decoder), (1, 0x7E00_0000, true, true));
    let spec = formats::param_spec(B, CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH).unwrap();
    assert_eq!((spec.lo, spec.hi, spec.encoder, spec.decoder), (0, 4, true, true));
    let spec = formats::param_spec(B, CODEC_PARAM_LZ4BLOCKS_HC_LEVEL).unwrap();
    assert_eq!((spec.lo, spec.hi, spec.encoder, spec.decoder), (0, 12, true, false));
    let spec = formats::param_spec(B, CODEC_PARAM_LZ4BLOCKS_ACCELERATION).unwrap();
    assert_eq!((spec.lo, spec.hi, spec.encoder, spec.decoder), (1, 65537, true, false));
    assert!(formats::param_spec(B, CODEC_PARAM_LZ4_BLOCK_SIZE).is_none());
    let mut e = Encoder::new(B).unwrap();
    assert_eq!(e.set_param(CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH, 3).unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(e.set_param(CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, 0).unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(e.set_param(CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, 0x7E00_0001).unwrap_err().kind, ErrorKind::Invalid);
    e.set_param(CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, 0x7E00_0000).unwrap();
    assert_eq!(e.set_pledged_size(5).unwrap_err().kind, ErrorKind::Unsupported);
    let mut d = Decoder::new(Some(B)).unwrap();
    assert_eq!(d.set_param(CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH, 3).unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(d.set_param(CODEC_PARAM_LZ4BLOCKS_HC_LEVEL, 3).unwrap_err().kind, ErrorKind::Unsupported);
    // Width 1 cannot carry blocks of a default (64 KiB) page.
    let mut e = enc(B, &[(CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH, 1)], None);
    let s = e.encode(b"abc", &mut [0u8; 100], Action::Continue);
    let err = s.result.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(err.msg.contains("prefix"), "{}", err.msg);
    assert_eq!(formats::frame_info(B, b"\x01\x00\x00\x00\x00").unwrap_err().kind, ErrorKind::Unsupported);
    // The largest page: memory is mapped lazily, small blocks stay small.
    let big = 0x7E00_0000usize;
    let mut e = enc(B, &[(CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, big as i64)], None);
    let c = encode_all(&mut e, &text(5000, 19), 5000, 10_000, Action::Flush);
    assert_eq!(dec_all(big, 4, None, &c).unwrap().0, text(5000, 19));
    // One-shot calls (default page and prefix).
    let data = text(200_000, 18);
    let mut c = vec![0u8; formats::compress_bound(B, data.len())];
    let n = codec::stream::compress(B, Some(-2), &data, &mut c).unwrap();
    let mut back = vec![0u8; data.len()];
    assert_eq!(codec::stream::decompress(Some(B), &c[..n], &mut back, None).unwrap(), data.len());
    assert_eq!(back, data);
    assert_eq!(
        codec::stream::decompress(Some(B), &c[..n - 1], &mut back, None).unwrap_err().kind,
        ErrorKind::Truncated
    );
}

fn feed(d: &mut Decoder, src: &[u8], cap: usize) -> Vec<u8> {
    run(d, src, usize::MAX / 2, cap).unwrap().0
}

#[test]
fn marshal_and_clone() {
    let data = text(40_000, 17);
    let dict = raw_dict(&data[30_000..]);
    for (page, width, d) in [(1000usize, 2u8, None), (65536, 4, Some(&dict)), (200, 1, Some(&dict))] {
        let p = [(CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, page as i64), (CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH, width as i64)];
        let comp = encode_all(&mut enc(B, &p, d), &data, 777, 1 << 16, Action::Flush);
        // Every byte offset, with output pending sometimes.
        for cut in 0..=comp.len() {
            if cut % 3 != 0 && cut > 200 && cut < comp.len() - 200 {
                continue;
            }
            let mut dec = decoder(page, width, d);
            let cap = [1, 100, 1 << 16][cut % 3];
            let mut buf = vec![0u8; cap];
            let s = dec.decode(&comp[..cut], &mut buf);
            s.result.unwrap();
            let mut out = buf[..s.written].to_vec();
            let blob = dec.marshal().unwrap();
            let mut clone = dec.try_clone().unwrap();
            let mut un = Decoder::unmarshal(&blob, d.cloned()).unwrap();
            let mut a = out.clone();
            a.extend(feed(&mut clone, &comp[s.read..], 1 << 16));
            assert!(a == data, "clone at {cut}");
            out.extend(feed(&mut un, &comp[s.read..], 1 << 16));
            assert!(out == data, "unmarshal at {cut} (page {page}, width {width})");
            if d.is_some() {
                assert_eq!(Decoder::unmarshal(&blob, None).err().unwrap().kind, ErrorKind::Dict);
            }
        }
    }
    // Between blocks of a stream without a dictionary, the state is the history (≤ 64 KiB)
    // plus a small header; corrupted states are refused.
    let comp = encode_all(&mut enc(B, &[], None), &data, 1 << 20, 1 << 20, Action::Flush);
    let mut dec = decoder(65536, 4, None);
    feed(&mut dec, &comp[..5], 100);
    let blob = dec.marshal().unwrap();
    assert!(blob.len() < 200, "{}", blob.len());
    for i in 0..blob.len() {
        let mut b = blob.clone();
        b[i] ^= 0x41;
        assert_eq!(Decoder::unmarshal(&b, None).err().unwrap().kind, ErrorKind::State);
    }
    for n in 0..blob.len() {
        assert_eq!(Decoder::unmarshal(&blob[..n], None).err().unwrap().kind, ErrorKind::State);
    }
}
