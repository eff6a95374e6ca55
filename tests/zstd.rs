//! zstd and the format-independent stream layer, through the Rust API.

mod common;

use codec::abi::*;
use codec::stream::{compress, decompress};
use codec::{Action, Decoder, Encoder, ErrorKind, Format, Status};
use common::{decode_chunked, encode_all, text, Rng};

fn zstd_frame(data: &[u8], level: i64) -> Vec<u8> {
    encode_all(&mut zstd_encoder(&[(CODEC_PARAM_LEVEL, level)]), data)
}

fn zstd_encoder(params: &[(codec_param, i64)]) -> Encoder {
    common::encoder(Format::Zstd, params)
}

#[test]
fn random_chunking_and_output_limits_match_one_shot() {
    let mut rng = Rng::new(7);
    for (i, level) in [1, 3, 19, -5].into_iter().enumerate() {
        let data = text(150_000 + i * 10_000, i as u64);
        let mut e = Encoder::new(Format::Zstd).unwrap();
        e.set_param(CODEC_PARAM_LEVEL, level).unwrap();
        e.set_param(CODEC_PARAM_CHECKSUM, 1).unwrap();
        // a mix of flushes and frames
        let mut blob = Vec::new();
        let mut buf = vec![0u8; 1 << 18];
        for (j, piece) in data.chunks(40_000).enumerate() {
            let action = if j % 2 == 0 { Action::Flush } else { Action::Finish };
            let s = e.encode(piece, &mut buf, action);
            assert_eq!(s.result.unwrap(), Status::Ok);
            blob.extend_from_slice(&buf[..s.written]);
        }
        let s = e.encode(&[], &mut buf, Action::Finish);
        blob.extend_from_slice(&buf[..s.written]);
        for (max_in, max_out) in [(1, 1), (7, 3), (5000, 1), (1, 70_000), (100_000, 100_000)] {
            let fmt = if max_in % 2 == 1 { None } else { Some(Format::Zstd) };
            let mut d = Decoder::new(fmt).unwrap();
            let (out, frames, err) = decode_chunked(&mut d, &blob, &mut rng, max_in, max_out);
            assert!(err.is_none(), "{err:?}");
            assert_eq!(out, data);
            assert_eq!(frames, 3);
            assert!(d.at_frame_edge());
            assert_eq!(d.position(), (blob.len() as u64, data.len() as u64));
        }
    }
}

#[test]
fn auto_detection_byte_by_byte_and_skippable_prefix() {
    let data = text(10_000, 3);
    let frame = zstd_frame(&data, 3);
    let mut skippable = 0x184D_2A5Fu32.to_le_bytes().to_vec();
    skippable.extend(5u32.to_le_bytes());
    skippable.extend(b"12345");
    let stream = [skippable.clone(), frame.clone(), skippable].concat();
    let mut rng = Rng::new(1);
    let mut d = Decoder::new(None).unwrap();
    let (out, frames, err) = decode_chunked(&mut d, &stream, &mut rng, 1, 1000);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(out, data);
    assert_eq!(frames, 1);
    assert_eq!(d.format(), Some(Format::Zstd));
    assert!(d.at_frame_edge());
}

#[test]
fn unknown_data_is_refused_with_the_offset() {
    let mut d = Decoder::new(None).unwrap();
    let mut out = [0u8; 64];
    let s = d.decode(b"\x00\x01\x02", &mut out);
    assert_eq!(s.result.unwrap(), Status::Ok);
    assert!(!d.at_frame_edge());
    let s = d.decode(b"\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d", &mut out);
    let e = s.result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Corrupt);
    assert!(e.msg.contains("unrecognised"), "{}", e.msg);
    // junk after a valid frame is reported at its absolute offset
    let frame = zstd_frame(b"hello", 1);
    let mut d = Decoder::new(Some(Format::Zstd)).unwrap();
    let mut stream = frame.clone();
    stream.extend_from_slice(b"JUNKJUNK");
    let mut buf = vec![0u8; 100];
    let s = d.decode(&stream, &mut buf);
    assert_eq!(s.result.unwrap(), Status::FrameEnd);
    let s2 = d.decode(&stream[s.read..], &mut buf);
    let e = s2.result.unwrap_err();
    assert!(e.msg.contains(&format!("at input byte {}", frame.len())), "{}", e.msg);
}

#[test]
fn parameters_are_sequenced_and_bounded() {
    let mut e = Encoder::new(Format::Zstd).unwrap();
    assert_eq!(e.set_param(CODEC_PARAM_LEVEL, 23).unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(e.set_param(CODEC_PARAM_XZ_LC, 1).unwrap_err().kind, ErrorKind::Unsupported);
    e.set_param(CODEC_PARAM_ZSTD_WINDOW_LOG, 0).unwrap(); // 0 = from the level
    let mut buf = [0u8; 1000];
    let s = e.encode(b"abc", &mut buf, Action::Continue);
    assert_eq!(s.result.unwrap(), Status::Ok);
    assert_eq!(e.set_param(CODEC_PARAM_LEVEL, 1).unwrap_err().kind, ErrorKind::Sequence);
    let s = e.encode(&[], &mut buf, Action::Finish);
    assert_eq!(s.result.unwrap(), Status::Ok);
    e.set_param(CODEC_PARAM_LEVEL, 1).unwrap();
    // every zstd compression parameter has bounds and accepts them
    for p in codec::params::ALL_PARAMS.iter().copied() {
        if let Some(spec) = codec::formats::param_spec(Format::Zstd, p) {
            if spec.encoder {
                let mut e = Encoder::new(Format::Zstd).unwrap();
                e.set_param(p, spec.hi).unwrap_or_else(|err| panic!("{}: {err}", codec::params::param_name(p)));
                let mut e = Encoder::new(Format::Zstd).unwrap();
                e.set_param(p, spec.lo).unwrap_or_else(|err| panic!("{}: {err}", codec::params::param_name(p)));
            }
        }
    }
}

#[test]
fn pledged_size_is_recorded_and_enforced() {
    let data = text(5000, 9);
    let mut e = Encoder::new(Format::Zstd).unwrap();
    e.set_pledged_size(data.len() as u64).unwrap();
    let blob = encode_all(&mut e, &data);
    assert_eq!(codec::formats::frame_info(Format::Zstd, &blob).unwrap().content_size, data.len() as u64);
    let mut e = Encoder::new(Format::Zstd).unwrap();
    e.set_pledged_size(10).unwrap();
    let mut buf = vec![0u8; 10_000];
    let s = e.encode(&data, &mut buf, Action::Finish);
    let err = s.result.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(err.msg.contains("pledged"), "{}", err.msg);
    assert_eq!((s.read, s.written), (0, 0));
    // a refused call changes nothing: the right amount still works
    let s = e.encode(&data[..10], &mut buf, Action::Finish);
    assert_eq!(s.result.unwrap(), Status::Ok);
    // a FINISH short of the pledge is refused too
    e.set_pledged_size(100).unwrap();
    let s = e.encode(&data[..50], &mut buf, Action::Continue);
    assert_eq!(s.result.unwrap(), Status::Ok);
    let err = e.encode(&data[50..60], &mut buf, Action::Finish).result.unwrap_err();
    assert!(err.msg.contains("pledged size is 100"), "{}", err.msg);
    let s = e.encode(&data[50..100], &mut buf, Action::Finish);
    assert_eq!(s.result.unwrap(), Status::Ok);
}

#[test]
fn one_shot_functions() {
    let data = text(100_000, 11);
    let mut comp = vec![0u8; codec::formats::compress_bound(Format::Zstd, data.len())];
    let n = compress(Format::Zstd, Some(5), &data, &mut comp).unwrap();
    let mut out = vec![0u8; data.len()];
    assert_eq!(decompress(None, &comp[..n], &mut out, None).unwrap(), data.len());
    assert_eq!(out, data);
    let mut small = vec![0u8; data.len() - 1];
    assert_eq!(decompress(None, &comp[..n], &mut small, None).unwrap_err().kind, ErrorKind::Buffer);
    assert_eq!(decompress(None, &comp[..n - 1], &mut out, None).unwrap_err().kind, ErrorKind::Truncated);
    assert_eq!(decompress(None, &[], &mut out, None).unwrap_err().kind, ErrorKind::Truncated);
    let mut tiny = [0u8; 8];
    assert_eq!(compress(Format::Zstd, None, &data, &mut tiny).unwrap_err().kind, ErrorKind::Buffer);
}

#[test]
fn zstd_cli_streams_decode() {
    let data = text(400_000, 12);
    let dir = std::env::temp_dir().join(format!("codec-zstd-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("data");
    std::fs::write(&src, &data).unwrap();
    for args in [
        &["-1"][..],
        &["-19", "--check"],
        &["--ultra", "-22", "--long=27"],
        &["-3", "--no-check", "--stream-size=400000"],
    ] {
        let out = match std::process::Command::new("zstd").args(args).arg("-c").arg(&src).output() {
            Ok(o) if o.status.success() => o.stdout,
            _ => {
                eprintln!("zstd CLI not available; skipping");
                return;
            }
        };
        let mut back = vec![0u8; data.len()];
        let mut d = Decoder::new(Some(Format::Zstd)).unwrap();
        d.set_param(CODEC_PARAM_ZSTD_WINDOW_LOG_MAX, 27).unwrap();
        let (got, frames, err) = decode_chunked(&mut d, &out, &mut Rng::new(3), 10_000, 50_000);
        assert!(err.is_none(), "{args:?}: {err:?}");
        assert_eq!(frames, 1);
        assert_eq!(got, data, "{args:?}");
        back.clear();
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Marshal at random points with random chunking, restore (in-process here; the fresh-process
/// test is in tests/resume.rs), continue from `consumed`: output identical.
#[test]
fn marshal_and_clone_mid_frame_are_exact() {
    let data = text(600_000, 21);
    let mut e = Encoder::new(Format::Zstd).unwrap();
    e.set_param(CODEC_PARAM_LEVEL, 3).unwrap();
    e.set_param(CODEC_PARAM_CHECKSUM, 1).unwrap();
    e.set_param(CODEC_PARAM_ZSTD_WINDOW_LOG, 17).unwrap(); // small window: the ring buffer wraps
    let mut blob = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    for (j, piece) in data.chunks(70_000).enumerate() {
        let action = if j % 3 == 2 { Action::Finish } else { Action::Flush };
        let s = e.encode(piece, &mut buf, action);
        assert_eq!(s.result.unwrap(), Status::Ok);
        blob.extend_from_slice(&buf[..s.written]);
    }
    let s = e.encode(&[], &mut buf, Action::Finish);
    blob.extend_from_slice(&buf[..s.written]);

    let mut rng = Rng::new(99);
    let mut sizes = Vec::new();
    for round in 0..60 {
        let mut d = Decoder::new(if round % 2 == 0 { None } else { Some(Format::Zstd) }).unwrap();
        let mut out = Vec::new();
        let mut pos = 0;
        let stop = rng.range(0, blob.len());
        let mut obuf = vec![0u8; 200_000];
        while pos < stop {
            let n = rng.range(1, 30_000).min(stop - pos);
            let m = rng.range(1, 200_000);
            let s = d.decode(&blob[pos..pos + n], &mut obuf[..m]);
            s.result.unwrap();
            pos += s.read;
            out.extend_from_slice(&obuf[..s.written]);
        }
        let state = d.marshal().unwrap();
        sizes.push(state.len());
        let clone = d.try_clone().unwrap();
        drop(d);
        for mut r in [Decoder::unmarshal(&state, None).unwrap(), clone] {
            let (consumed, produced) = r.position();
            assert_eq!(consumed as usize, pos);
            assert_eq!(produced as usize, out.len());
            let (rest, _, err) = decode_chunked(&mut r, &blob[pos..], &mut rng, 50_000, 100_000);
            assert!(err.is_none(), "{err:?}");
            assert_eq!([&out[..], &rest[..]].concat(), data, "round {round}: output differs after resume at {pos}");
        }
    }
    // Only the live window is saved: a 128 KiB window, plus buffered data and a small header.
    let max = *sizes.iter().max().unwrap();
    assert!(max < (1 << 17) + (1 << 17) + 40_000, "state of {max} bytes");
}

#[test]
fn corrupted_zstd_states_are_refused() {
    let data = text(300_000, 22);
    let blob = zstd_frame(&data, 3);
    let mut d = Decoder::new(Some(Format::Zstd)).unwrap();
    let mut out = vec![0u8; 100_000];
    let s = d.decode(&blob[..blob.len() / 2], &mut out);
    s.result.unwrap();
    let state = d.marshal().unwrap();
    // every truncation
    for n in (0..state.len()).step_by(97).chain([state.len() - 1]) {
        assert_eq!(
            Decoder::unmarshal(&state[..n], None).err().map(|e| e.kind),
            Some(ErrorKind::State),
            "truncated to {n}"
        );
    }
    // flips anywhere are caught by the checksum
    let mut rng = Rng::new(5);
    for _ in 0..300 {
        let mut bad = state.clone();
        let i = rng.range(0, bad.len() - 1);
        bad[i] ^= 1 << rng.range(0, 7);
        assert_eq!(Decoder::unmarshal(&bad, None).err().map(|e| e.kind), Some(ErrorKind::State));
    }
}

#[test]
fn fed_input_is_decoded_first_and_carried_by_marshal() {
    let data = text(200_000, 31);
    let blob = zstd_frame(&data, 3);
    for auto in [false, true] {
        let mut d = Decoder::new(if auto { None } else { Some(Format::Zstd) }).unwrap();
        // decode a little, then hand over the rest of this chunk without decoding it
        let mut out = vec![0u8; 1000];
        let s = d.decode(&blob[..5000], &mut out);
        assert!(s.result.is_ok());
        d.feed(&blob[s.read..5000]).unwrap();
        assert_eq!(d.position().0, 5000);
        assert!(!d.at_frame_edge());
        let mut got = out[..s.written].to_vec();
        // the state carries the fed bytes: resume from 5000 in a restored copy
        let state = d.marshal().unwrap();
        let mut r = Decoder::unmarshal(&state, None).unwrap();
        assert_eq!(r.position().0, 5000);
        let (rest, frames, err) = decode_chunked(&mut r, &blob[5000..], &mut Rng::new(4), 3000, 700);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(frames, 1);
        got.extend(rest);
        assert_eq!(got, data);
    }
    // a whole stream fed to an AUTO decoder before any decode call
    let mut d = Decoder::new(None).unwrap();
    d.feed(&blob).unwrap();
    let (out, frames, err) = decode_chunked(&mut d, &[], &mut Rng::new(5), 0, 4096);
    assert!(err.is_none() && frames == 1);
    assert_eq!(out, data);
}

/// zstd with workers: FLUSH must complete (pyzstd once looped forever here), CONTINUE must
/// not spin, and the output must decode to the input at every flush.
#[test]
fn multithreaded_compression_flushes_without_hanging() {
    let data = text(3_000_000, 41);
    for workers in [1, 2, 4] {
        let mut e = Encoder::new(Format::Zstd).unwrap();
        e.set_param(CODEC_PARAM_THREADS, workers).unwrap();
        e.set_param(CODEC_PARAM_LEVEL, 3).unwrap();
        e.set_param(CODEC_PARAM_ZSTD_JOB_SIZE, 1 << 20).unwrap();
        let mut blob = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut fed = 0;
        for (i, piece) in data.chunks(250_000).enumerate() {
            let action = if i % 3 == 2 { Action::Flush } else { Action::Continue };
            let mut pos = 0;
            loop {
                let s = e.encode(&piece[pos..], &mut buf, action);
                pos += s.read;
                blob.extend_from_slice(&buf[..s.written]);
                if s.result.unwrap() == Status::Ok {
                    break;
                }
            }
            fed += piece.len();
            if action == Action::Flush {
                // everything so far decodes now
                let mut d = Decoder::new(Some(Format::Zstd)).unwrap();
                let (out, _, err) = decode_chunked(&mut d, &blob, &mut Rng::new(1), 1 << 20, 1 << 20);
                assert!(err.is_none(), "{err:?}");
                assert_eq!(out.len(), fed, "workers {workers}: flush at {fed} left data behind");
                assert_eq!(out, data[..fed]);
            }
        }
        loop {
            let s = e.encode(&[], &mut buf, Action::Finish);
            blob.extend_from_slice(&buf[..s.written]);
            if s.result.unwrap() == Status::Ok {
                break;
            }
        }
        let mut d = Decoder::new(None).unwrap();
        let (out, frames, err) = decode_chunked(&mut d, &blob, &mut Rng::new(2), 1 << 20, 1 << 20);
        assert!(err.is_none() && frames == 1);
        assert_eq!(out, data);
    }
}

#[test]
fn one_shot_over_mixed_frames_takes_the_fast_path_or_the_exact_one() {
    let a = text(100_000, 51);
    let b = text(70_000, 52);
    let mut skippable = 0x184D_2A50u32.to_le_bytes().to_vec();
    skippable.extend(3u32.to_le_bytes());
    skippable.extend(b"xyz");
    let mut e = Encoder::new(Format::Zstd).unwrap();
    let empty = encode_all(&mut e, b"");
    let stream = [zstd_frame(&a, 1), skippable.clone(), zstd_frame(&b, 9), empty.clone()].concat();
    let mut out = vec![0u8; a.len() + b.len()];
    for fmt in [None, Some(Format::Zstd)] {
        assert_eq!(decompress(fmt, &stream, &mut out, None).unwrap(), a.len() + b.len());
        assert_eq!(out, [&a[..], &b[..]].concat());
    }
    // a frame without a recorded size mixes in fine (streaming path)
    let mut e = Encoder::new(Format::Zstd).unwrap();
    let mut buf = vec![0u8; 1 << 18];
    let s1 = e.encode(&a, &mut buf, Action::Continue);
    let mut unsized_frame = buf[..s1.written].to_vec();
    let s2 = e.encode(&[], &mut buf, Action::Finish);
    unsized_frame.extend_from_slice(&buf[..s2.written]);
    let stream2 = [unsized_frame, zstd_frame(&b, 3)].concat();
    assert_eq!(decompress(None, &stream2, &mut out, None).unwrap(), a.len() + b.len());
    assert_eq!(out, [&a[..], &b[..]].concat());
    // errors keep their exact kinds
    let mut legacy = vec![0x27, 0xB5, 0x2F, 0xFD];
    legacy.extend([0u8; 16]);
    assert_eq!(decompress(None, &legacy, &mut out, None).unwrap_err().kind, ErrorKind::Unsupported);
    assert_eq!(decompress(None, &stream[..stream.len() - 1], &mut out, None).unwrap_err().kind, ErrorKind::Truncated);
    assert_eq!(decompress(None, &empty, &mut out, None).unwrap(), 0);
    let mut junk = stream.clone();
    junk.extend(b"junk!");
    assert_eq!(decompress(None, &junk, &mut out, None).unwrap_err().kind, ErrorKind::Corrupt);
}

#[test]
fn state_info_reads_offsets_without_the_dictionary() {
    use codec::ffi::decoder::codec_state_info;
    let data = text(50_000, 61);
    let blob = zstd_frame(&data, 3);
    let mut d = Decoder::new(None).unwrap();
    let mut out = vec![0u8; 10_000];
    let s = d.decode(&blob[..blob.len() / 2], &mut out);
    s.result.unwrap();
    let state = d.marshal().unwrap();
    let mut h = codec_state_header::default();
    assert_eq!(unsafe { codec_state_info(state.as_ptr(), state.len(), &mut h) }, CODEC_OK);
    assert_eq!(
        (h.format, h.needs_dict, h.consumed, h.produced),
        (CODEC_FORMAT_AUTO, 0, s.read as u64, s.written as u64)
    );
    let mut bad = state.clone();
    bad[20] ^= 1;
    assert_eq!(unsafe { codec_state_info(bad.as_ptr(), bad.len(), &mut h) }, CODEC_E_STATE);
    assert_eq!(h, codec_state_header::default());
}

/// Found by fuzzing (decode_zstd): a single-segment frame declaring no content has a window of
/// 0 and zstd sets its block size limit to 0; a state marshalled inside such a frame was
/// refused on restore ("frame block size out of range"). Marshal / unmarshal at every byte of
/// frames with tiny declared contents.
#[test]
fn marshal_inside_frames_declaring_tiny_contents() {
    let mut frames: Vec<Vec<u8>> = vec![
        // magic, FHD single segment + 1-byte content size 0, last raw block of 0 bytes
        vec![0x28, 0xB5, 0x2F, 0xFD, 0x20, 0x00, 0x01, 0x00, 0x00],
    ];
    for n in [0usize, 1, 3] {
        let mut e = Encoder::new(Format::Zstd).unwrap();
        e.set_pledged_size(n as u64).unwrap();
        frames.push(encode_all(&mut e, &text(n, 1)));
    }
    for z in frames {
        for cut in 0..=z.len() {
            let mut d = Decoder::new(Some(Format::Zstd)).unwrap();
            let mut buf = [0u8; 16];
            let s = d.decode(&z[..cut], &mut buf);
            s.result.unwrap();
            let mut out = buf[..s.written].to_vec();
            let blob = d.marshal().unwrap();
            let mut r = Decoder::unmarshal(&blob, None).unwrap_or_else(|e| panic!("cut {cut} of {z:02x?}: {e}"));
            let mut pos = s.read;
            loop {
                let s = r.decode(&z[pos..], &mut buf);
                pos += s.read;
                out.extend_from_slice(&buf[..s.written]);
                if s.result.unwrap() == Status::Ok && pos == z.len() && s.written == 0 {
                    break;
                }
            }
            assert!(r.at_frame_edge());
            let mut whole = vec![0u8; 16];
            let n = decompress(Some(Format::Zstd), &z, &mut whole, None).unwrap();
            assert_eq!(out, whole[..n]);
        }
    }
}

/// Found by fuzzing (decode_zstd): a frame declaring no content (single segment, content size
/// 0, so zstd's block limit is 0) holding an RLE block of 0 bytes was accepted when the whole
/// frame arrived at once (zstd's one-pass decoder) and refused as corrupt when it arrived in
/// pieces (zstd's streaming decoder compares the RLE block's one stored byte with the limit).
/// Every way of decoding it must agree; the same frame with a raw block decodes everywhere.
#[test]
fn empty_frames_with_an_rle_block_decode_the_same_however_they_arrive() {
    let rle = [0x28u8, 0xB5, 0x2F, 0xFD, 0x20, 0x00, 0x03, 0x00, 0x00, 0x40];
    let raw = [0x28u8, 0xB5, 0x2F, 0xFD, 0x20, 0x00, 0x01, 0x00, 0x00];
    for (z, ok) in [(&rle[..], false), (&raw[..], true)] {
        for dict in [false, true] {
            let new = || {
                let mut d = Decoder::new(Some(Format::Zstd)).unwrap();
                if dict {
                    d.set_dict(Some(std::sync::Arc::new(codec::Dict::load(&text(4096, 7)).unwrap()))).unwrap();
                }
                d
            };
            // Whole frame, one call.
            let mut buf = [0u8; 16];
            let whole = new().decode(z, &mut buf);
            // One byte at a time, one byte of room.
            let mut d = new();
            let mut pieces = Ok(Status::Ok);
            for i in 0..z.len() {
                let s = d.decode(&z[i..i + 1], &mut buf[..1]);
                assert_eq!(s.written, 0);
                pieces = s.result.map(|_| Status::Ok);
                if pieces.is_err() {
                    break;
                }
            }
            let oneshot = decompress(Some(Format::Zstd), z, &mut buf, None);
            assert_eq!(whole.result.is_ok(), ok, "whole, dict {dict}: {:?}", whole.result);
            assert_eq!(pieces.is_ok(), ok, "in pieces, dict {dict}: {pieces:?}");
            assert_eq!(oneshot.is_ok(), ok, "one-shot, dict {dict}: {oneshot:?}");
            if !ok {
                assert_eq!(whole.result.unwrap_err().kind, ErrorKind::Corrupt);
                assert_eq!(oneshot.unwrap_err().kind, ErrorKind::Corrupt);
            }
        }
    }
}

/// Found by fuzzing (decode_zstd): an invalid frame header (reserved bit set) whose bytes after
/// the magic look like a legacy v0.7 magic (0xFD2FB527) was refused or silently handed to
/// zstd's legacy decoder depending on how the input was chunked: zstd tests the *call's* input
/// for a legacy magic before reporting a bad header that arrived in pieces. Every split of such
/// headers must be refused, the same way.
#[test]
fn invalid_headers_are_refused_however_they_are_split() {
    let streams: Vec<Vec<u8>> = vec![
        // reserved bit (0x08) in the descriptor; then b5 2f fd ... reads as a legacy magic
        vec![
            0x28, 0xb5, 0x2f, 0xfd, 0x2b, 0x27, 0xb5, 0x2f, 0xfd, 0xb5, 0x00, 0x2f, 0xfd, 0x00, 0x00, 0x00, 0x08, 0x61,
            0x01, 0x20, 0xfc, 0x2b, 0x20, 0x04, 0xea,
        ],
        // descriptor 0x0c (reserved bit + checksum), window byte 0x27 then a legacy v0.7 magic
        vec![0x28, 0xb5, 0x2f, 0xfd, 0x0c, 0x27, 0xb5, 0x2f, 0xfd, 0x01, 0x00, 0x00, 0xaa, 0xbb],
        // window log 10 + 25 = 35 (beyond zstd's maximum), then a legacy v0.5 magic
        vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xc8, 0x25, 0xb5, 0x2f, 0xfd, 0x01, 0x00, 0x00],
    ];
    for z in &streams {
        for split in 1..z.len() {
            for tail in [1, 3, z.len()] {
                let mut d = Decoder::new(Some(Format::Zstd)).unwrap();
                let mut buf = [0u8; 64];
                let mut pos = 0;
                let mut failed = None;
                let mut first = true;
                while pos < z.len() {
                    let n = if first { split } else { tail.min(z.len() - pos) };
                    first = false;
                    let s = d.decode(&z[pos..pos + n], &mut buf);
                    pos += s.read;
                    assert_eq!(s.written, 0);
                    if let Err(e) = s.result {
                        failed = Some(e);
                        break;
                    }
                    if s.read == 0 {
                        break;
                    }
                }
                let e = failed.unwrap_or_else(|| panic!("split at {split}, then {tail}: accepted {z:02x?}"));
                assert!(matches!(e.kind, ErrorKind::Corrupt | ErrorKind::MemLimit), "{e}");
                assert!(!d.at_frame_edge());
            }
        }
        // and the one-shot call
        let mut out = [0u8; 64];
        assert!(decompress(Some(Format::Zstd), z, &mut out, None).is_err());
    }
}

/// Found by fuzzing (decode_zstd): a state taken between an RLE block's header and its byte,
/// when the header declares more than the frame's block limit (zstd keeps the size from the
/// 21-bit header and refuses it only when it expands the block), was refused on restore ('RLE
/// size'). Marshal at every byte of such frames: the restored decoder must reach the same
/// outcome as an uninterrupted one.
#[test]
fn marshal_before_an_oversized_rle_block() {
    let mut frames = Vec::new();
    for (fhd_tail, header) in [
        // single segment, content size 6; RLE block (last) declaring 0x3b3b3b >> 3 bytes
        (vec![0x20u8, 0x06], [0x3bu8, 0x3b, 0x3b]),
        // window 1 KiB; RLE block declaring the largest 21-bit size
        (vec![0x00, 0x00], [0xfb, 0xff, 0xff]),
        // a valid RLE block for comparison: 5 bytes of 'x'
        (vec![0x20, 0x05], [0x2b, 0x00, 0x00]),
    ] {
        let mut z = vec![0x28, 0xb5, 0x2f, 0xfd];
        z.extend_from_slice(&fhd_tail);
        z.extend_from_slice(&header);
        z.push(b'x');
        frames.push(z);
    }
    for z in frames {
        let whole = {
            let mut d = Decoder::new(Some(Format::Zstd)).unwrap();
            let mut buf = vec![0u8; 1 << 16];
            let s = d.decode(&z, &mut buf);
            (s.result.map_err(|e| e.kind), buf[..s.written].to_vec())
        };
        for cut in 0..z.len() {
            let mut d = Decoder::new(Some(Format::Zstd)).unwrap();
            let mut buf = vec![0u8; 1 << 16];
            let s = d.decode(&z[..cut], &mut buf);
            let mut out = buf[..s.written].to_vec();
            let first = s.result.map_err(|e| e.kind);
            if first.is_err() {
                assert_eq!(first, whole.0, "cut {cut} of {z:02x?}");
                continue;
            }
            let blob = d.marshal().unwrap();
            let mut r = Decoder::unmarshal(&blob, None).unwrap_or_else(|e| panic!("cut {cut} of {z:02x?}: {e}"));
            let s = r.decode(&z[s.read..], &mut buf);
            out.extend_from_slice(&buf[..s.written]);
            assert_eq!(s.result.map_err(|e| e.kind), whole.0, "cut {cut} of {z:02x?}");
            assert_eq!(out, whole.1);
        }
    }
}

/// With workers and no job size from the caller, libcodec picks 4 MiB jobs where zstd's own
/// would be larger (level 3: 8 MiB) and keeps zstd's elsewhere (level 1: 2 MiB); an explicit
/// job size, 0 included, is the caller's. The output does not depend on the number of workers,
/// follows parameter changes between frames, and decodes to the input.
#[test]
fn workers_get_smaller_jobs_unless_the_caller_chose() {
    let data = text(13_000_000, 61);
    let enc = |p: &[(codec_param, i64)]| encode_all(&mut zstd_encoder(p), &data);
    let chosen = enc(&[(CODEC_PARAM_LEVEL, 3), (CODEC_PARAM_THREADS, 2)]);
    assert_eq!(chosen, enc(&[(CODEC_PARAM_LEVEL, 3), (CODEC_PARAM_THREADS, 2), (CODEC_PARAM_ZSTD_JOB_SIZE, 4 << 20)]));
    assert_eq!(chosen, enc(&[(CODEC_PARAM_LEVEL, 3), (CODEC_PARAM_THREADS, 4)]));
    let zstds = enc(&[(CODEC_PARAM_LEVEL, 3), (CODEC_PARAM_THREADS, 2), (CODEC_PARAM_ZSTD_JOB_SIZE, 0)]);
    assert_ne!(chosen, zstds, "4 MiB and 8 MiB jobs give the same frame");
    assert_eq!(zstds, enc(&[(CODEC_PARAM_LEVEL, 3), (CODEC_PARAM_THREADS, 2), (CODEC_PARAM_ZSTD_JOB_SIZE, 8 << 20)]));
    for blob in [&chosen, &zstds] {
        let mut out = vec![0u8; data.len()];
        assert_eq!(decompress(Some(Format::Zstd), blob, &mut out, None).unwrap(), data.len());
        assert!(out == data);
    }
    // Level 1: zstd's 2 MiB jobs stay.
    let l1 = enc(&[(CODEC_PARAM_LEVEL, 1), (CODEC_PARAM_THREADS, 2)]);
    assert_eq!(l1, enc(&[(CODEC_PARAM_LEVEL, 1), (CODEC_PARAM_THREADS, 2), (CODEC_PARAM_ZSTD_JOB_SIZE, 0)]));
    // Between frames: level 3 then level 1 on one encoder, each frame as a fresh encoder's.
    let mut e = zstd_encoder(&[(CODEC_PARAM_THREADS, 2), (CODEC_PARAM_LEVEL, 3)]);
    assert_eq!(encode_all(&mut e, &data), chosen);
    e.set_param(CODEC_PARAM_LEVEL, 1).unwrap();
    assert_eq!(encode_all(&mut e, &data), l1);
    e.set_param(CODEC_PARAM_LEVEL, 3).unwrap();
    assert_eq!(encode_all(&mut e, &data), chosen);
}

/// With workers, a level change inside a frame is refused (as for every format) and the frame
/// goes on; after FINISH the new level applies, with its job size, as in a fresh encoder.
#[test]
fn level_change_waits_for_the_next_multithreaded_frame() {
    let data = text(6_000_000, 62);
    let mut e = zstd_encoder(&[(CODEC_PARAM_THREADS, 2), (CODEC_PARAM_LEVEL, 1)]);
    let mut blob = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let (a, b) = data.split_at(2_000_000);
    let mut pos = 0;
    while pos < a.len() {
        let s = e.encode(&a[pos..], &mut buf, Action::Continue);
        pos += s.read;
        blob.extend_from_slice(&buf[..s.written]);
        s.result.unwrap();
    }
    assert_eq!(e.set_param(CODEC_PARAM_LEVEL, 3).unwrap_err().kind, ErrorKind::Sequence);
    blob.extend(encode_all(&mut e, b));
    e.set_param(CODEC_PARAM_LEVEL, 3).unwrap();
    let second = encode_all(&mut e, &data);
    let fresh = [(CODEC_PARAM_THREADS, 2), (CODEC_PARAM_LEVEL, 3)];
    assert!(second == encode_all(&mut zstd_encoder(&fresh), &data));
    let zstds = [(CODEC_PARAM_THREADS, 2), (CODEC_PARAM_LEVEL, 3), (CODEC_PARAM_ZSTD_JOB_SIZE, 0)];
    assert!(second != encode_all(&mut zstd_encoder(&zstds), &data), "the second frame has libcodec's job size");
    blob.extend(second);
    let mut d = Decoder::new(None).unwrap();
    let (out, frames, err) = decode_chunked(&mut d, &blob, &mut Rng::new(3), 1 << 20, 1 << 20);
    assert!(err.is_none() && frames == 2, "{err:?}");
    assert!(out.len() == 2 * data.len() && out[..data.len()] == data[..] && out[data.len()..] == data[..]);
}

/// A call that moves no byte (an empty FLUSH at a frame start) opens zstd's session although
/// no frame byte exists yet, so a parameter may still be set; the job size then waits for the
/// next frame instead of failing the encoder.
#[test]
fn parameter_after_an_empty_flush() {
    let data = text(5_000_000, 63);
    for threads in [0, 2] {
        let mut e = zstd_encoder(&[(CODEC_PARAM_THREADS, threads)]);
        let mut buf = vec![0u8; 1 << 16];
        let s = e.encode(&[], &mut buf, Action::Flush);
        assert_eq!((s.read, s.result.unwrap()), (0, Status::Ok));
        let mut blob = buf[..s.written].to_vec();
        // level 3 had 4 MiB jobs (with workers), level 1 keeps zstd's: a different job size
        e.set_param(CODEC_PARAM_LEVEL, 1).unwrap();
        blob.extend(encode_all(&mut e, &data));
        // and the next frame gets the new parameters, job size included
        e.set_param(CODEC_PARAM_LEVEL, 3).unwrap();
        let second = encode_all(&mut e, &data);
        let mut fresh = zstd_encoder(&[(CODEC_PARAM_THREADS, threads), (CODEC_PARAM_LEVEL, 3)]);
        assert!(second == encode_all(&mut fresh, &data), "threads {threads}");
        blob.extend(second);
        let mut d = Decoder::new(None).unwrap();
        let (out, frames, err) = decode_chunked(&mut d, &blob, &mut Rng::new(4), 1 << 20, 1 << 20);
        assert!(err.is_none() && frames == 2, "threads {threads}: {err:?}");
        assert!(out.len() == 2 * data.len() && out[data.len()..] == data[..], "threads {threads}");
    }
}
