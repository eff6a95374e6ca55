//! LZ4 frame format: round trips, interop with the lz4 CLI (both ways), flush semantics,
//! concatenated / skippable / empty / incompressible frames, tiny buffers, dictionaries,
//! corruption, frame inspection and parameters.

mod lz4_common;
use lz4_common::*;

use codec::abi::*;
use codec::formats::{self, Format};
use codec::{Action, Decoder, ErrorKind, Status};

const F: Format = Format::Lz4Frame;

/// Text with an incompressible stretch in the middle (so some blocks are stored).
fn mixed(n: usize, seed: u64) -> Vec<u8> {
    let mut v = text(n / 2, seed);
    v.extend_from_slice(&Rng(seed + 99).bytes(n / 4));
    v.extend_from_slice(&text(n - v.len(), seed + 7));
    v
}

fn params(level: i64, bs: i64, linked: bool, cc: bool, bc: bool) -> Vec<(codec_param, i64)> {
    vec![
        (CODEC_PARAM_LEVEL, level),
        (CODEC_PARAM_LZ4_BLOCK_SIZE, bs),
        (CODEC_PARAM_LZ4_LINKED_BLOCKS, linked as i64),
        (CODEC_PARAM_LZ4_CONTENT_CHECKSUM, cc as i64),
        (CODEC_PARAM_LZ4_BLOCK_CHECKSUM, bc as i64),
    ]
}

#[test]
fn round_trip_basic() {
    let data = mixed(1 << 20, 1);
    let c = compress(F, &[], None, &data);
    assert!(c.len() < data.len() * 3 / 4);
    assert_eq!(decode(Some(F), None, &c), data);
    assert_eq!(decode(None, None, &c), data, "AUTO detection");
    assert_eq!(try_decode(Some(F), None, &c, 7, 1).unwrap(), data);
    // One-shot API.
    let mut out = vec![0u8; formats::compress_bound(F, data.len())];
    let n = codec::stream::compress(F, Some(1), &data, &mut out).unwrap();
    let mut back = vec![0u8; data.len()];
    assert_eq!(codec::stream::decompress(Some(F), &out[..n], &mut back, None).unwrap(), data.len());
    assert_eq!(back, data);
}

#[test]
fn cli_decodes_ours_across_parameters() {
    if !have_lz4_cli() {
        eprintln!("lz4 CLI not found: skipping");
        return;
    }
    let data = mixed(700_000, 2);
    let levels = [1, 3, 9, 12, -1, -5];
    let sizes = [64 << 10, 256 << 10, 1 << 20, 4 << 20];
    let mut i = 0;
    for &level in &levels {
        for &bs in &sizes {
            i += 1;
            let (linked, cc, bc) = (i % 2 == 0, i % 3 != 0, i % 4 < 2);
            let p = params(level, bs, linked, cc, bc);
            let c = compress(F, &p, None, &data);
            let h = formats::frame_info(F, &c).unwrap();
            assert_eq!(h.block_size, bs as u64);
            assert_eq!(h.flags & CODEC_FRAME_FLAG_LINKED_BLOCKS != 0, linked);
            assert_eq!(h.flags & CODEC_FRAME_FLAG_BLOCK_CHECKSUM != 0, bc);
            assert_eq!(h.checksum, if cc { CODEC_CHECK_XXH32 } else { CODEC_CHECK_NONE });
            assert_eq!(formats::frame_size(F, &c).unwrap(), c.len() as u64);
            let (ok, out) = lz4_cli(&["-d", "-c"], &c);
            assert!(ok, "lz4 -d failed for {p:?}");
            assert!(out == data, "lz4 -d output differs for {p:?}");
            assert_eq!(decode(Some(F), None, &c), data, "{p:?}");
        }
    }
    // favour decompression speed (HC levels >= 10)
    let c = compress(F, &[(CODEC_PARAM_LEVEL, 10), (CODEC_PARAM_LZ4_FAVOR_DEC_SPEED, 1)], None, &data);
    assert_eq!(lz4_cli(&["-d", "-c"], &c).1, data);
}

#[test]
fn ours_decodes_cli_across_flags() {
    if !have_lz4_cli() {
        eprintln!("lz4 CLI not found: skipping");
        return;
    }
    let data = mixed(700_000, 3);
    let sets: &[&[&str]] = &[
        &["-1"],
        &["-3", "-B4"],
        &["-9", "-B5", "-BD"],
        &["-12", "-B6", "-BX"],
        &["--fast=3", "-B7", "--no-frame-crc"],
        &["-1", "-B4", "-BD", "-BX", "--content-size"],
        &["-9", "-B4", "--no-frame-crc", "-BX"],
        &["-2", "-B7", "-BD", "--content-size"],
        &["--fast=20", "-B5", "-BD", "-BX", "--no-frame-crc"],
        &["-12", "-B4", "-BD", "--favor-decSpeed"],
    ];
    for flags in sets {
        let mut args = vec!["-c", "-z"];
        args.extend_from_slice(flags);
        // From a file, so that --content-size knows the size.
        let (ok, c) = lz4_cli_file(&args, &data);
        assert!(ok, "lz4 {args:?} failed");
        assert_eq!(decode(Some(F), None, &c), data, "flags {flags:?}");
        assert_eq!(try_decode(Some(F), None, &c, 4093, 1000).unwrap(), data, "flags {flags:?}");
        assert_eq!(formats::frame_size(F, &c).unwrap(), c.len() as u64);
        let h = formats::frame_info(F, &c).unwrap();
        if h.block_size < data.len() as u64 {
            // (Given a file smaller than a block, the CLI shrinks the block size and makes
            // the single block independent.)
            assert_eq!(h.flags & CODEC_FRAME_FLAG_LINKED_BLOCKS != 0, flags.contains(&"-BD"), "{flags:?} {h:?}");
        }
        assert_eq!(h.flags & CODEC_FRAME_FLAG_BLOCK_CHECKSUM != 0, flags.contains(&"-BX"));
        if flags.contains(&"--content-size") {
            assert_eq!(h.content_size, data.len() as u64);
        } else {
            assert_eq!(h.content_size, CODEC_CONTENT_SIZE_UNKNOWN);
        }
    }
}

#[test]
fn cli_concatenations() {
    if !have_lz4_cli() {
        return;
    }
    // Frames the CLI makes, concatenated (including the block-checksum-only combination its
    // own decoder trips over when another frame follows).
    let data = text(300_000, 30);
    let mut stream = Vec::new();
    for flags in [&["-1", "-B4", "-BX", "--no-frame-crc"][..], &["-9", "-B6"][..], &["-1", "-BD", "-B5"][..]] {
        let mut args = vec!["-c", "-z"];
        args.extend_from_slice(flags);
        stream.extend(lz4_cli(&args, &data).1);
    }
    let got = try_decode(Some(F), None, &stream, 10_000, 50_000).unwrap();
    assert_eq!(got.len(), 3 * data.len());
    assert!(got.chunks(data.len()).all(|c| c == data));
}

#[test]
fn empty_and_incompressible() {
    let c = compress(F, &[], None, &[]);
    assert_eq!(c.len(), 11, "magic + 3-byte descriptor + end mark");
    assert_eq!(decode(Some(F), None, &c), b"");
    let rnd = Rng(5).bytes(300_000);
    for linked in [false, true] {
        let c = compress(F, &params(1, 64 << 10, linked, true, true), None, &rnd);
        assert!(c.len() > rnd.len(), "stored blocks");
        assert_eq!(decode(Some(F), None, &c), rnd);
        assert_eq!(try_decode(Some(F), None, &c, 1000, 777).unwrap(), rnd);
        if have_lz4_cli() {
            assert_eq!(lz4_cli(&["-d", "-c"], &c).1, rnd);
        }
    }
    if have_lz4_cli() {
        let (ok, c) = lz4_cli(&["-c", "-z"], b"");
        assert!(ok);
        assert_eq!(decode(Some(F), None, &c), b"");
        let (ok, c) = lz4_cli(&["-c", "-z", "-B4", "-BX"], &rnd);
        assert!(ok);
        assert_eq!(decode(Some(F), None, &c), rnd);
        let (ok, out) = lz4_cli(&["-d", "-c"], &compress(F, &[], None, b""));
        assert!(ok && out.is_empty());
    }
}

#[test]
fn tiny_buffers_and_chunks() {
    let data = mixed(200_000, 4);
    for (chunk, cap) in [(1, 1), (3, 1), (1, 17), (64 << 10, 1), (100_000, 5), (777, 70_000)] {
        for p in [params(1, 64 << 10, true, true, true), params(9, 256 << 10, false, false, false)] {
            let mut e = enc(F, &p, None);
            let c = encode_all(&mut e, &data, chunk, cap, Action::Finish);
            assert_eq!(c, compress(F, &p, None, &data), "same frame whatever the buffering");
            assert_eq!(try_decode(Some(F), None, &c, chunk, cap).unwrap(), data);
        }
    }
}

#[test]
fn flushed_prefixes_decode() {
    let data = mixed(600_000, 6);
    let cuts = [0usize, 1, 1000, 65_536, 65_537, 200_000, 200_001, 450_000, 600_000];
    for p in [params(1, 64 << 10, true, true, true), params(3, 256 << 10, false, false, true)] {
        let mut e = enc(F, &p, None);
        let mut out = Vec::new();
        for w in cuts.windows(2) {
            let (a, b) = (w[0], w[1]);
            out.extend(encode_all(&mut e, &data[a..b], 4096, 999, Action::Flush));
            // A second flush with nothing pending adds nothing.
            assert!(encode_all(&mut e, &[], 1, 999, Action::Flush).is_empty());
            // Everything so far decodes, with no error, and the frame is still open.
            let mut d = Decoder::new(Some(F)).unwrap();
            let mut got = vec![0u8; b + 10];
            let s = d.decode(&out, &mut got);
            assert_eq!(s.result.unwrap(), Status::Ok);
            assert_eq!(s.read, out.len());
            assert_eq!(&got[..s.written], &data[..b]);
            assert!(!d.at_frame_edge());
            if have_lz4_cli() && b > 0 {
                // lz4 1.9.4 writes all the data so far, then reports the unfinished frame.
                let (ok, o) = lz4_cli(&["-d", "-c"], &out);
                assert!(!ok);
                assert!(o == data[..b]);
            }
        }
        out.extend(encode_all(&mut e, &[], 1, 999, Action::Finish));
        assert_eq!(decode(Some(F), None, &out), data);
    }
}

#[test]
fn concatenated_and_skippable_frames() {
    let a = text(100_000, 8);
    let b = mixed(300_000, 9);
    let mut stream = compress(F, &params(1, 64 << 10, true, true, false), None, &a);
    let mut skip = vec![0x5A, 0x2A, 0x4D, 0x18];
    skip.extend_from_slice(&5u32.to_le_bytes());
    skip.extend_from_slice(b"hello");
    stream.extend_from_slice(&skip);
    // (lz4 1.9.4's CLI stops after a frame that has block checksums but no content checksum
    // when another frame follows, "Stream followed by undecodable data", also with frames it
    // made itself; so this frame has both.)
    stream.extend(compress(F, &params(9, 1 << 20, false, true, true), None, &b));
    stream.extend(compress(F, &[], None, b""));
    if have_lz4_cli() {
        let (ok, c) = lz4_cli(&["-c", "-z", "-BD"], &a);
        assert!(ok);
        stream.extend_from_slice(&c);
    }
    let mut want = a.clone();
    want.extend_from_slice(&b);
    let cli = have_lz4_cli();
    if cli {
        want.extend_from_slice(&a);
        let (ok, o) = lz4_cli(&["-d", "-c"], &stream);
        assert!(ok && o == want, "the CLI reads our concatenation");
    }
    // Frame ends are reported one by one; the skippable frame is skipped silently.
    let mut d = Decoder::new(Some(F)).unwrap();
    let mut out = vec![0u8; 1 << 20];
    let (mut pos, mut got, mut ends) = (0, Vec::new(), 0);
    loop {
        let s = d.decode(&stream[pos..], &mut out);
        pos += s.read;
        got.extend_from_slice(&out[..s.written]);
        match s.result.unwrap() {
            Status::FrameEnd => {
                ends += 1;
                assert!(d.at_frame_edge());
            }
            Status::Ok => break,
            Status::MoreOutput => {}
        }
    }
    assert_eq!(pos, stream.len());
    assert_eq!(ends, if cli { 4 } else { 3 });
    assert!(got == want);
    assert_eq!(try_decode(None, None, &stream, 5, 3).unwrap(), want, "AUTO, tiny buffers");
    // frame_info / frame_size on the skippable frame
    let at = stream.len() - stream.windows(4).rev().position(|w| w == [0x5A, 0x2A, 0x4D, 0x18]).unwrap() - 4;
    let h = formats::frame_info(F, &stream[at..]).unwrap();
    assert_eq!(h.flags, CODEC_FRAME_FLAG_SKIPPABLE);
    assert_eq!(h.content_size, 5);
    assert_eq!(formats::frame_size(F, &stream[at..]).unwrap(), 13);
}

#[test]
fn encoder_reuse_reset_and_pledged_size() {
    let data = text(150_000, 10);
    let mut e = enc(F, &[], None);
    let one = encode_all(&mut e, &data, 10_000, 1 << 20, Action::Finish);
    let two = encode_all(&mut e, &data, 10_000, 1 << 20, Action::Finish);
    assert_eq!(one, two, "after FINISH the next byte starts a new, identical frame");
    // FINISH with nothing given: an empty frame, each time.
    let mut e = enc(F, &[], None);
    let s = e.encode(&[], &mut [0u8; 64], Action::Finish);
    assert_eq!((s.result.unwrap(), s.written), (Status::Ok, 11));
    // FLUSH / CONTINUE with nothing given: nothing.
    let s = e.encode(&[], &mut [0u8; 64], Action::Flush);
    assert_eq!((s.result.unwrap(), s.written), (Status::Ok, 0));
    // reset abandons a frame.
    let mut e = enc(F, &[], None);
    let _ = encode_all(&mut e, &data[..5000], 100, 1 << 20, Action::Flush);
    e.reset();
    assert_eq!(encode_all(&mut e, &data, 10_000, 1 << 20, Action::Finish), one);
    // Pledged size: recorded, checked by the CLI and by our decoder.
    let mut e = enc(F, &[], None);
    e.set_pledged_size(data.len() as u64).unwrap();
    let c = encode_all(&mut e, &data, 7000, 1 << 20, Action::Finish);
    assert_eq!(formats::frame_info(F, &c).unwrap().content_size, data.len() as u64);
    assert_eq!(decode(Some(F), None, &c), data);
    if have_lz4_cli() {
        assert_eq!(lz4_cli(&["-d", "-c"], &c).1, data);
    }
    // ... for one frame only.
    let c2 = encode_all(&mut e, &data, 7000, 1 << 20, Action::Finish);
    assert_eq!(formats::frame_info(F, &c2).unwrap().content_size, CODEC_CONTENT_SIZE_UNKNOWN);
    // Mismatches are refused.
    let mut e = enc(F, &[], None);
    e.set_pledged_size(10).unwrap();
    let s = e.encode(&data[..11], &mut vec![0u8; 1 << 20], Action::Finish);
    assert_eq!(s.result.unwrap_err().kind, ErrorKind::Invalid);
    let mut e = enc(F, &[], None);
    e.set_pledged_size(10).unwrap();
    let s = e.encode(&data[..9], &mut vec![0u8; 1 << 20], Action::Finish);
    assert_eq!(s.result.unwrap_err().kind, ErrorKind::Invalid);
    // Our decoder checks the recorded size: patch a frame's content size (and its header
    // checksum) to a wrong value.
    let mut bad = c.clone();
    bad[6..14].copy_from_slice(&(data.len() as u64 + 1).to_le_bytes());
    let hc = ((xxhash_rust::xxh32::xxh32(&bad[4..14], 0) >> 8) & 0xFF) as u8;
    bad[14] = hc;
    let e = try_decode(Some(F), None, &bad, usize::MAX, 1 << 20).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Corrupt, "{e}");
    let mut bad = c.clone();
    bad[6..14].copy_from_slice(&(data.len() as u64 - 1).to_le_bytes());
    bad[14] = ((xxhash_rust::xxh32::xxh32(&bad[4..14], 0) >> 8) & 0xFF) as u8;
    let e = try_decode(Some(F), None, &bad, usize::MAX, 1 << 20).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Corrupt, "{e}");
}

#[test]
fn dictionaries() {
    let raw = raw_dict(&text(100_000, 11));
    let trained = trained_dict(12);
    let data = text(300_000, 11); // shares content with `raw`
    for linked in [true, false] {
        let p = params(1, 64 << 10, linked, true, false);
        // raw dictionary: no dict id in the frame
        let c = compress(F, &p, Some(&raw), &data);
        assert_eq!(formats::frame_info(F, &c).unwrap().dict_id, 0);
        assert!(c.len() < compress(F, &p, None, &data).len(), "the dictionary helps");
        assert_eq!(decode(Some(F), Some(&raw), &c), data);
        assert_eq!(try_decode(Some(F), Some(&raw), &c, 333, 1000).unwrap(), data);
        // Without it the first block references missing history: corrupt, or a checksum error.
        let e = try_decode(Some(F), None, &c, usize::MAX, 1 << 20).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Corrupt | ErrorKind::Checksum), "{e}");
        // trained (zstd-format) dictionary: id recorded and enforced
        let c = compress(F, &p, Some(&trained), &data);
        let id = formats::frame_info(F, &c).unwrap().dict_id;
        assert_eq!(id, trained.id());
        assert_eq!(decode(Some(F), Some(&trained), &c), data);
        let e = try_decode(Some(F), None, &c, usize::MAX, 1 << 20).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Dict, "{e}");
        let e = try_decode(Some(F), Some(&raw), &c, usize::MAX, 1 << 20).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Dict, "{e}");
        let other = trained_dict(13);
        assert_ne!(other.id(), trained.id());
        let e = try_decode(Some(F), Some(&other), &c, usize::MAX, 1 << 20).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Dict, "{e}");
    }
    if have_lz4_cli() {
        // lz4 -D FILE uses the last 64 KiB of FILE, as we do.
        let dir = std::env::temp_dir().join(format!("codec-lz4-dict-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("dict");
        std::fs::write(&path, raw.bytes()).unwrap();
        let ps = path.to_str().unwrap();
        for flags in [&["-BD"][..], &["-B4"][..]] {
            let mut args = vec!["-c", "-z", "-D", ps];
            args.extend_from_slice(flags);
            let (ok, c) = lz4_cli(&args, &data);
            assert!(ok);
            assert_eq!(decode(Some(F), Some(&raw), &c), data, "{flags:?}");
        }
        for linked in [true, false] {
            let c = compress(F, &params(9, 64 << 10, linked, true, true), Some(&raw), &data);
            let (ok, o) = lz4_cli(&["-d", "-c", "-D", ps], &c);
            assert!(ok && o == data, "CLI decodes our dictionary frame (linked {linked})");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn corruption_is_detected() {
    let data = mixed(150_000, 14);
    let c = compress(F, &params(1, 64 << 10, true, true, true), None, &data);
    let mut r = Rng(15);
    for i in 0..400 {
        let mut bad = c.clone();
        let at = if i < 40 { i % c.len() } else { r.range(0, c.len() - 1) };
        bad[at] ^= 1 << r.range(0, 7);
        match try_decode(Some(F), None, &bad, r.range(1, 70_000), r.range(1, 70_000)) {
            Ok(out) => panic!("flip at {at} accepted ({} bytes out)", out.len()),
            Err(e) => assert!(
                matches!(
                    e.kind,
                    ErrorKind::Corrupt | ErrorKind::Checksum | ErrorKind::Truncated | ErrorKind::Unsupported
                ),
                "flip at {at}: {e:?}"
            ),
        }
    }
    // Truncations: never an error, never output beyond the data, not at a frame edge.
    for cut in [0, 1, 4, 6, 7, 10, 11, 100, c.len() / 2, c.len() - 5, c.len() - 4, c.len() - 1] {
        let mut d = Decoder::new(Some(F)).unwrap();
        let mut out = vec![0u8; data.len() + 1];
        let s = d.decode(&c[..cut], &mut out);
        assert_eq!(s.result.unwrap(), Status::Ok);
        assert_eq!(&out[..s.written], &data[..s.written]);
        assert_eq!(d.at_frame_edge(), cut == 0);
    }
    // Garbage and the legacy format.
    let e = try_decode(Some(F), None, b"invalidheader", usize::MAX, 100).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Corrupt);
    assert!(e.msg.contains("at input byte 0"), "{}", e.msg);
    if have_lz4_cli() {
        let (ok, legacy) = lz4_cli(&["-c", "-z", "-l"], &data);
        assert!(ok);
        let e = try_decode(Some(F), None, &legacy, usize::MAX, 1 << 20).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unsupported, "{e}");
        assert_eq!(formats::frame_info(F, &legacy).unwrap_err().kind, ErrorKind::Unsupported);
    }
    // A block larger than the descriptor's maximum.
    let mut bad = compress(F, &params(1, 64 << 10, true, false, false), None, &data);
    bad[7..11].copy_from_slice(&((64u32 << 10) + 1).to_le_bytes());
    let e = try_decode(Some(F), None, &bad, usize::MAX, 1 << 20).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Corrupt);
    assert!(e.msg.contains("maximum block size") && e.msg.contains("at input byte 7"), "{}", e.msg);
    // Header and checksum errors name what failed.
    let mut bad = c.clone();
    bad[6] ^= 0xFF; // header checksum byte
    let e = try_decode(Some(F), None, &bad, usize::MAX, 1 << 20).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Checksum);
    assert!(e.msg.contains("header checksum"), "{}", e.msg);
    let mut bad = c.clone();
    let n = bad.len();
    bad[n - 1] ^= 1; // content checksum
    let e = try_decode(Some(F), None, &bad, usize::MAX, 1 << 20).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Checksum);
    assert!(e.msg.contains("content checksum") && e.msg.contains(&format!("at input byte {}", n - 4)), "{}", e.msg);
    let mut bad = c.clone();
    bad[20] ^= 1; // inside the first block: its block checksum fails
    let e = try_decode(Some(F), None, &bad, usize::MAX, 1 << 20).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Checksum);
    assert!(e.msg.contains("block checksum") && e.msg.contains("at input byte 7"), "{}", e.msg);
}

#[test]
fn frame_info_and_parameters() {
    let c = compress(F, &params(1, 1 << 20, false, true, true), None, b"abc");
    let h = formats::frame_info(F, &c).unwrap();
    assert_eq!(h.format, CODEC_FORMAT_LZ4_FRAME);
    assert_eq!(h.header_size, 7);
    assert_eq!(h.content_size, CODEC_CONTENT_SIZE_UNKNOWN);
    assert_eq!(h.block_size, 1 << 20);
    assert_eq!(h.flags, CODEC_FRAME_FLAG_BLOCK_CHECKSUM);
    assert_eq!(h.checksum, CODEC_CHECK_XXH32);
    for n in 0..7 {
        assert_eq!(formats::frame_info(F, &c[..n]).unwrap_err().kind, ErrorKind::Truncated);
    }
    for n in 0..c.len() {
        assert_eq!(formats::frame_size(F, &c[..n]).unwrap_err().kind, ErrorKind::Truncated);
    }
    assert_eq!(formats::frame_info(Format::Lz4Blocks, &c).unwrap_err().kind, ErrorKind::Unsupported);
    // Bounds and values.
    let spec = formats::param_spec(F, CODEC_PARAM_LEVEL).unwrap();
    assert_eq!((spec.lo, spec.hi, spec.encoder, spec.decoder), (-65537, 12, true, false));
    let spec = formats::param_spec(F, CODEC_PARAM_LZ4_BLOCK_SIZE).unwrap();
    assert_eq!((spec.lo, spec.hi), (65536, 4194304));
    assert!(formats::param_spec(F, CODEC_PARAM_ZSTD_WINDOW_LOG).is_none());
    assert!(formats::param_spec(F, CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE).is_none());
    let mut e = codec::Encoder::new(F).unwrap();
    assert_eq!(e.set_param(CODEC_PARAM_LZ4_BLOCK_SIZE, 100_000).unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(e.set_param(CODEC_PARAM_LEVEL, 13).unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(e.set_param(CODEC_PARAM_LEVEL, -65538).unwrap_err().kind, ErrorKind::Invalid);
    e.set_param(CODEC_PARAM_LEVEL, -65537).unwrap();
    e.set_param(CODEC_PARAM_THREADS, 1).unwrap();
    // Parallel compression of independent blocks (tests/parallel.rs): 0..=256.
    e.set_param(CODEC_PARAM_THREADS, 2).unwrap();
    assert_eq!(e.set_param(CODEC_PARAM_THREADS, 257).unwrap_err().kind, ErrorKind::Invalid);
    let mut d = Decoder::new(Some(F)).unwrap();
    // Decoders: 1 (sequential, default) ..= 256.
    assert_eq!(d.set_param(CODEC_PARAM_THREADS, 0).unwrap_err().kind, ErrorKind::Invalid);
    d.set_param(CODEC_PARAM_THREADS, 4).unwrap();
    assert_eq!(d.set_param(CODEC_PARAM_LEVEL, 1).unwrap_err().kind, ErrorKind::Unsupported);
    // CHECKSUM is an alias of the content checksum.
    let a = compress(F, &[(CODEC_PARAM_CHECKSUM, 1)], None, b"hello hello hello");
    let b = compress(F, &[(CODEC_PARAM_LZ4_CONTENT_CHECKSUM, 1)], None, b"hello hello hello");
    assert_eq!(a, b);
    assert_eq!(formats::frame_info(F, &a).unwrap().checksum, CODEC_CHECK_XXH32);
    // Negative levels: fast mode with acceleration -level (lz4 --fast=N is our level -(N+1)).
    let data = text(200_000, 16);
    let l0 = compress(F, &[(CODEC_PARAM_LEVEL, 0)], None, &data);
    assert_eq!(compress(F, &[(CODEC_PARAM_LEVEL, -1)], None, &data), l0);
    assert_eq!(compress(F, &[(CODEC_PARAM_LEVEL, 2)], None, &data), l0);
    let fast = compress(F, &[(CODEC_PARAM_LEVEL, -20)], None, &data);
    assert!(fast.len() > l0.len());
    let hc = compress(F, &[(CODEC_PARAM_LEVEL, 9)], None, &data);
    assert!(hc.len() < l0.len());
    // compress_bound holds for incompressible data.
    let rnd = Rng(17).bytes(1 << 20);
    let c = compress(F, &[], None, &rnd);
    assert!(c.len() <= formats::compress_bound(F, rnd.len()));
}

#[test]
fn silesia_xml_interop_if_present() {
    let zip = "/work/shared/corpus/silesia/xml.zip";
    if !std::path::Path::new(zip).exists() || !have_lz4_cli() {
        eprintln!("{zip} or the lz4 CLI not present: skipping");
        return;
    }
    let out = std::process::Command::new("unzip").args(["-p", zip]).output().unwrap();
    assert!(out.status.success());
    let data = out.stdout;
    assert!(data.len() > 1 << 20);
    let c = compress(F, &params(1, 4 << 20, false, true, false), None, &data);
    let (ok, o) = lz4_cli(&["-d", "-c"], &c);
    assert!(ok && o == data);
    let (ok, c) = lz4_cli(&["-c", "-z", "-9", "-BD", "-B4"], &data);
    assert!(ok);
    assert_eq!(try_decode(None, None, &c, 100_003, 65_536).unwrap(), data);
}

#[test]
fn garbage_never_panics() {
    let mut r = Rng(77);
    let good = compress(F, &params(1, 64 << 10, true, true, true), None, &text(5000, 78));
    for i in 0..3000 {
        let mut g = Vec::new();
        if i % 3 != 2 {
            g.extend_from_slice(&[0x04, 0x22, 0x4D, 0x18]);
        }
        if i % 3 == 1 {
            // a valid descriptor, then garbage
            g.extend_from_slice(&good[4..7]);
        }
        let n = r.range(0, 300);
        g.extend(r.bytes(n));
        let _ = try_decode(Some(F), None, &g, r.range(1, 50), r.range(1, 5000));
        let _ = formats::frame_info(F, &g);
        let _ = formats::frame_size(F, &g);
    }
}
