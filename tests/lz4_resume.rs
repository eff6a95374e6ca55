//! Resumable LZ4 frame decoding: the py-lz4framed fork's continuation / clone / marshal tests
//! re-created, random chunking with marshal / clone at random points, state sizes, and
//! corrupted or mismatched states.

mod lz4_common;
use lz4_common::*;

use std::sync::Arc;

use codec::abi::*;
use codec::state;
use codec::{Action, Decoder, Dict, ErrorKind, Format, Status};

const F: Format = Format::Lz4Frame;

fn long_input() -> Vec<u8> {
    b"abcdefghijklmnopqrstuvwxyz0123456789".repeat(100_000)
}

/// py-lz4framed's `compress(LONG_INPUT, level, checksum, block_mode_linked)`: the frame
/// records its content size.
fn lz4framed_compress(data: &[u8], linked: bool, checksum: bool, hc: bool) -> Vec<u8> {
    let mut e = enc(
        F,
        &[
            (CODEC_PARAM_LEVEL, if hc { 9 } else { 0 }),
            (CODEC_PARAM_LZ4_LINKED_BLOCKS, linked as i64),
            (CODEC_PARAM_LZ4_CONTENT_CHECKSUM, checksum as i64),
        ],
        None,
    );
    e.set_pledged_size(data.len() as u64).unwrap();
    encode_all(&mut e, data, data.len(), data.len() + 100_000, Action::Finish)
}

/// Feed all of `src` to `d` with `out_cap`-byte output buffers; returns the output.
fn feed(d: &mut Decoder, src: &[u8], out_cap: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; out_cap];
    let mut pos = 0;
    loop {
        let s = d.decode(&src[pos..], &mut buf);
        pos += s.read;
        out.extend_from_slice(&buf[..s.written]);
        match s.result.unwrap() {
            Status::Ok => return out,
            Status::MoreOutput | Status::FrameEnd => {}
        }
    }
}

fn unm_err(blob: &[u8], dict: Option<Arc<Dict>>) -> codec::Error {
    match Decoder::unmarshal(blob, dict) {
        Ok(_) => panic!("state accepted"),
        Err(e) => e,
    }
}

fn roundtrip_state(d: &Decoder, dict: Option<&Arc<Dict>>) -> Decoder {
    let blob = d.marshal().unwrap();
    Decoder::unmarshal(&blob, dict.cloned()).unwrap()
}

/// Offsets of each block start (after the header), from the frame structure.
fn block_boundaries(c: &[u8]) -> Vec<usize> {
    let flg = c[4];
    let mut pos = 4 + 3 + 8 * ((flg >> 3) & 1) as usize + 4 * (flg & 1) as usize;
    let mut v = vec![pos];
    loop {
        let h = u32::from_le_bytes(c[pos..pos + 4].try_into().unwrap());
        pos += 4;
        if h == 0 {
            break;
        }
        pos += (h & 0x7FFF_FFFF) as usize + 4 * ((flg >> 4) & 1) as usize;
        v.push(pos);
    }
    v
}

#[test]
fn lz4framed_continuation_clone_marshal_matrix() {
    let long = long_input();
    let mut r = Rng(0x1234);
    for linked in [true, false] {
        for checksum in [true, false] {
            for hc in [false, true] {
                let comp = lz4framed_compress(&long, linked, checksum, hc);
                assert_eq!(decode(Some(F), None, &comp), long);
                let mut offsets = vec![1, 11, 15, 16, 31, 32, 33, 63, 64, 65, 1023, 1025];
                for _ in 0..10 {
                    offsets.push(r.range(1, comp.len() - 64));
                }
                for &off in &offsets {
                    let (head, tail) = comp.split_at(comp.len() - off);
                    let mut d = Decoder::new(Some(F)).unwrap();
                    let cap = [1024, 65_536, 1 << 22][off % 3];
                    let first = feed(&mut d, head, cap);
                    assert!(!d.at_frame_edge(), "cut {off}: the frame is not complete");
                    assert_eq!(d.position().0, head.len() as u64);
                    assert_eq!(first, long[..first.len()], "cut {off}: correct prefix");
                    let blob = d.marshal().unwrap();
                    assert!(blob.len() > 16);
                    let clone = d.try_clone().unwrap();
                    for (name, mut dec) in
                        [("clone", clone), ("unmarshal", Decoder::unmarshal(&blob, None).unwrap()), ("same", d)]
                    {
                        let mut out = first.clone();
                        out.extend(feed(&mut dec, tail, cap));
                        assert!(dec.at_frame_edge(), "{name} cut {off}");
                        assert_eq!(
                            out.len(),
                            long.len(),
                            "{name} cut {off} linked {linked} checksum {checksum} hc {hc}"
                        );
                        assert!(out == long, "{name} cut {off}");
                        assert_eq!(dec.position(), (comp.len() as u64, long.len() as u64));
                    }
                }
                // At block boundaries: small states with independent blocks.
                let bounds = block_boundaries(&comp);
                let mut breaks = vec![1, 2, 3, 30];
                for _ in 0..8 {
                    breaks.push(r.range(3, bounds.len() - 1));
                }
                for &b in &breaks {
                    let at = bounds[b.min(bounds.len() - 1)];
                    let mut d = Decoder::new(Some(F)).unwrap();
                    let first = feed(&mut d, &comp[..at], 1 << 22);
                    let blob = d.marshal().unwrap();
                    assert!(blob.len() > 16);
                    if linked {
                        assert!(blob.len() < (64 << 10) + 256, "{}", blob.len());
                    } else {
                        assert!(blob.len() < 256, "independent-block boundary state is {} bytes", blob.len());
                    }
                    let mut d2 = Decoder::unmarshal(&blob, None).unwrap();
                    let mut out = first;
                    out.extend(feed(&mut d2, &comp[at..], 1 << 22));
                    assert!(out == long);
                }
            }
        }
    }
}

#[test]
fn state_size_at_every_independent_block_boundary() {
    let data = mixed_data(1 << 20);
    for (cc, bc, cs) in [(false, false, false), (true, true, true)] {
        let mut e = enc(
            F,
            &[
                (CODEC_PARAM_LZ4_LINKED_BLOCKS, 0),
                (CODEC_PARAM_LZ4_CONTENT_CHECKSUM, cc as i64),
                (CODEC_PARAM_LZ4_BLOCK_CHECKSUM, bc as i64),
            ],
            None,
        );
        if cs {
            e.set_pledged_size(data.len() as u64).unwrap();
        }
        let comp = encode_all(&mut e, &data, data.len(), 2 << 20, Action::Finish);
        let mut d = Decoder::new(Some(F)).unwrap();
        let mut prev = 0;
        let mut max = 0;
        for &b in &block_boundaries(&comp) {
            feed(&mut d, &comp[prev..b], 1 << 20);
            prev = b;
            max = max.max(d.marshal().unwrap().len());
        }
        assert!(max < 256, "largest boundary state {max} bytes");
        eprintln!("independent blocks (content checksum {cc}, block checksum {bc}, content size {cs}): largest block-boundary state {max} bytes");
    }
}

fn mixed_data(n: usize) -> Vec<u8> {
    let mut v = text(n / 2, 40);
    v.extend_from_slice(&Rng(41).bytes(n / 4));
    v.extend_from_slice(&text(n - v.len(), 42));
    v
}

/// A stream that visits every decoder stage: frames of several kinds (flushed small blocks,
/// stored blocks, checksums, content size), a skippable frame, an empty frame.
fn varied_stream(dict: Option<&Arc<Dict>>) -> (Vec<u8>, Vec<u8>) {
    let data = mixed_data(600_000);
    let mut comp = Vec::new();
    let mut want = Vec::new();
    let kinds: [(&[(codec_param, i64)], bool); 3] = [
        (&[(CODEC_PARAM_LZ4_CONTENT_CHECKSUM, 1), (CODEC_PARAM_LZ4_BLOCK_CHECKSUM, 1)], true),
        (&[(CODEC_PARAM_LZ4_LINKED_BLOCKS, 0), (CODEC_PARAM_LZ4_BLOCK_SIZE, 256 << 10), (CODEC_PARAM_LEVEL, 9)], false),
        (&[(CODEC_PARAM_LZ4_CONTENT_CHECKSUM, 1), (CODEC_PARAM_LEVEL, -3)], true),
    ];
    for (i, (p, flushes)) in kinds.iter().enumerate() {
        let part = &data[i * 150_000..i * 150_000 + 250_000];
        let mut e = enc(F, p, dict);
        if i == 1 {
            e.set_pledged_size(part.len() as u64).unwrap();
        }
        if *flushes {
            for c in part.chunks(23_456) {
                comp.extend(encode_all(&mut e, c, c.len(), 1 << 20, Action::Flush));
            }
            comp.extend(encode_all(&mut e, &[], 1, 1 << 20, Action::Finish));
        } else {
            comp.extend(encode_all(&mut e, part, part.len(), 1 << 20, Action::Finish));
        }
        want.extend_from_slice(part);
        if i == 0 {
            comp.extend_from_slice(&[0x51, 0x2A, 0x4D, 0x18, 9, 0, 0, 0]);
            comp.extend_from_slice(b"skip me!!");
            comp.extend(encode_all(&mut enc(F, &[], dict), &[], 1, 100, Action::Finish));
        }
    }
    (comp, want)
}

/// Stage byte of an LZ4 frame decoder state (after the wrapper's 13-byte section).
fn stage_of(blob: &[u8]) -> u8 {
    state::open(blob).unwrap().payload[13]
}

fn random_resume(dict: Option<&Arc<Dict>>, seed: u64) {
    let (comp, want) = varied_stream(dict);
    let mut r = Rng(seed);
    let mut d = Decoder::new(Some(F)).unwrap();
    if let Some(x) = dict {
        d.set_dict(Some(x.clone())).unwrap();
    }
    let mut out = Vec::new();
    let mut pos = 0;
    let (mut marshals, mut clones) = (0, 0);
    let mut stages = [0u32; 8];
    let mut buf = vec![0u8; 200_000];
    let mut pending_calls = 0;
    while pos < comp.len() || pending_calls > 0 {
        let n = match r.range(0, 2) {
            0 => r.range(0, 6),
            1 => r.range(0, 300),
            _ => r.range(0, 5000),
        }
        .min(comp.len() - pos);
        let cap = if r.range(0, 3) == 0 { r.range(1, 20) } else { r.range(1, 200_000) };
        let s = d.decode(&comp[pos..pos + n], &mut buf[..cap]);
        pos += s.read;
        out.extend_from_slice(&buf[..s.written]);
        let st = s.result.unwrap();
        pending_calls = (st == Status::MoreOutput) as u32;
        match r.range(0, 19) {
            0..=4 => {
                let blob = d.marshal().unwrap();
                stages[stage_of(&blob) as usize] += 1;
                d = Decoder::unmarshal(&blob, dict.cloned()).unwrap();
                marshals += 1;
            }
            5..=7 => {
                d = d.try_clone().unwrap();
                clones += 1;
            }
            _ => {}
        }
    }
    assert!(d.at_frame_edge());
    assert_eq!(d.position(), (comp.len() as u64, want.len() as u64));
    assert!(out == want, "identical output");
    assert!(marshals >= 50, "{marshals} marshals");
    assert!(clones >= 10);
    // (Every stage is covered exhaustively by `marshal_between_any_two_bytes`.)
    eprintln!("{marshals} marshals, {clones} clones; states per stage {stages:?}");
}

/// Cut a small multi-frame stream at every byte offset: decode up to it (with a small output
/// buffer, so output is often pending), marshal, unmarshal, decode the rest.
fn marshal_at_every_offset(dict: Option<&Arc<Dict>>) {
    let data = mixed_data(6000);
    let mut comp = Vec::new();
    let mut e = enc(F, &[(CODEC_PARAM_LZ4_CONTENT_CHECKSUM, 1), (CODEC_PARAM_LZ4_BLOCK_CHECKSUM, 1)], dict);
    e.set_pledged_size(4000).unwrap();
    for c in data[..4000].chunks(700) {
        comp.extend(encode_all(&mut e, c, c.len(), 1 << 16, Action::Flush));
    }
    comp.extend(encode_all(&mut e, &[], 1, 1 << 16, Action::Finish));
    comp.extend_from_slice(&[0x5F, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    let mut e = enc(F, &[(CODEC_PARAM_LZ4_LINKED_BLOCKS, 0)], dict);
    comp.extend(encode_all(&mut e, &data[4000..], 2000, 1 << 16, Action::Finish));
    let mut stages = [0u32; 8];
    for cut in 0..=comp.len() {
        for cap in [1usize, 300, 1 << 16] {
            let mut d = Decoder::new(Some(F)).unwrap();
            if let Some(x) = dict {
                d.set_dict(Some(x.clone())).unwrap();
            }
            // Feed the prefix (past frame ends), stopping early only when output is pending.
            let mut buf = vec![0u8; cap];
            let (mut pos, mut out) = (0, Vec::new());
            loop {
                let s = d.decode(&comp[pos..cut], &mut buf);
                pos += s.read;
                out.extend_from_slice(&buf[..s.written]);
                match s.result.unwrap() {
                    Status::FrameEnd => {}
                    Status::MoreOutput if out.len() % 7 == 0 => {}
                    _ => break,
                }
            }
            let blob = d.marshal().unwrap();
            stages[stage_of(&blob) as usize] += 1;
            let mut d2 = Decoder::unmarshal(&blob, dict.cloned()).unwrap();
            out.extend(feed(&mut d2, &comp[pos..], 1 << 16));
            assert!(out == data, "cut {cut} cap {cap}");
            assert!(d2.at_frame_edge());
        }
    }
    for (i, c) in stages.iter().take(7).enumerate() {
        assert!(*c > 0, "stage {i} never marshalled: {stages:?}");
    }
}

#[test]
fn marshal_between_any_two_bytes() {
    marshal_at_every_offset(None);
    marshal_at_every_offset(Some(&raw_dict(&mixed_data(3000))));
}

#[test]
fn random_chunking_with_marshal_and_clone() {
    for seed in 1..=3 {
        random_resume(None, seed * 7919);
    }
}

#[test]
fn random_chunking_with_dictionary() {
    let dict = raw_dict(&mixed_data(120_000));
    random_resume(Some(&dict), 99);
    let trained = trained_dict(5);
    random_resume(Some(&trained), 101);
}

#[test]
fn states_need_the_same_dictionary() {
    let dict = trained_dict(7);
    let (comp, _) = varied_stream(Some(&dict));
    let mut d = Decoder::new(Some(F)).unwrap();
    d.set_dict(Some(dict.clone())).unwrap();
    feed(&mut d, &comp[..5000], 1 << 20);
    let blob = d.marshal().unwrap();
    assert_eq!(unm_err(&blob, None).kind, ErrorKind::Dict);
    let other = trained_dict(8);
    assert_eq!(unm_err(&blob, Some(other)).kind, ErrorKind::Dict);
    let raw = raw_dict(b"some other dictionary");
    assert_eq!(unm_err(&blob, Some(raw.clone())).kind, ErrorKind::Dict);
    roundtrip_state(&d, Some(&dict));
    // A state made without a dictionary refuses one.
    let mut d = Decoder::new(Some(F)).unwrap();
    feed(&mut d, &compress(F, &[], None, b"hello")[..6], 100);
    let blob = d.marshal().unwrap();
    assert_eq!(unm_err(&blob, Some(raw)).kind, ErrorKind::Dict);
}

/// Rebuild a container around a modified payload (a valid checksum), to reach the payload
/// validation behind it.
fn reseal(blob: &[u8], f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let env = state::open(blob).unwrap();
    let mut p = env.payload.to_vec();
    f(&mut p);
    state::seal(env.format, env.fingerprint, env.dict, env.consumed, env.produced, &p)
}

#[test]
fn corrupted_states_are_refused() {
    let data = mixed_data(300_000);
    let c = compress(F, &[(CODEC_PARAM_LZ4_CONTENT_CHECKSUM, 1), (CODEC_PARAM_LZ4_BLOCK_CHECKSUM, 1)], None, &data);
    // Small states at several stages: mid-magic, mid-header, mid-block-size, mid-block,
    // with pending output, mid-checksum.
    let mut states = Vec::new();
    for (cut, cap) in [(2, 100), (6, 100), (9, 100), (300, 100), (c.len() / 2, 10), (c.len() - 2, 1 << 20)] {
        let mut d = Decoder::new(Some(F)).unwrap();
        let s = d.decode(&c[..cut], &mut vec![0u8; cap]);
        s.result.unwrap();
        states.push((d.marshal().unwrap(), s.read, s.written));
    }
    for (blob, read, written) in &states {
        let rest = |dec: &mut Decoder| {
            // Decoding the rest must not panic (errors are fine).
            let mut buf = vec![0u8; 1 << 20];
            let mut pos = *read;
            let mut n = *written;
            for _ in 0..1000 {
                let s = dec.decode(&c[pos..], &mut buf);
                pos += s.read;
                n += s.written;
                match s.result {
                    Err(_) => return None,
                    Ok(Status::Ok) => break,
                    Ok(_) => {}
                }
            }
            Some(n)
        };
        assert_eq!(rest(&mut Decoder::unmarshal(blob, None).unwrap()), Some(data.len()));
        if blob.len() < 4096 {
            for i in 0..blob.len() {
                for bits in [0x01u8, 0x80, 0xFF] {
                    let mut b = blob.clone();
                    b[i] ^= bits;
                    let e = unm_err(&b, None);
                    assert_eq!(e.kind, ErrorKind::State, "flip {bits:#x} at {i}");
                }
            }
        }
        let sample = |len: usize| -> Vec<usize> {
            let mut r = Rng(len as u64 + 1);
            (0..len.min(300)).chain(len.saturating_sub(300)..len).chain((0..100).map(|_| r.range(0, len - 1))).collect()
        };
        for n in sample(blob.len()) {
            assert_eq!(unm_err(&blob[..n], None).kind, ErrorKind::State);
        }
        // Behind a valid container checksum: truncated payloads are refused, flipped ones
        // are refused or give a decoder that does not panic.
        let plen = state::open(blob).unwrap().payload.len();
        for n in sample(plen) {
            let b = reseal(blob, |p| p.truncate(n));
            assert_eq!(unm_err(&b, None).kind, ErrorKind::State, "payload truncated to {n}");
        }
        let mut refused = 0;
        let mut r = Rng(plen as u64);
        let positions: Vec<usize> = (0..plen.min(200)).chain((0..50).map(|_| r.range(0, plen - 1))).collect();
        for &i in &positions {
            for bits in [0x01u8, 0x80, 0xFF] {
                let b = reseal(blob, |p| p[i] ^= bits);
                match Decoder::unmarshal(&b, None) {
                    Err(e) => {
                        assert!(matches!(e.kind, ErrorKind::State | ErrorKind::Dict), "{e:?}");
                        refused += 1;
                    }
                    Ok(mut dec) => {
                        let _ = rest(&mut dec);
                    }
                }
            }
        }
        assert!(refused > 0);
    }
    // Targeted: an out-of-range stage, an impossible XXH32 buffer fill, an oversized
    // pending output, a history longer than 64 KiB.
    let (blob, _, _) = &states[4];
    let b = reseal(blob, |p| p[13] = 7);
    assert_eq!(unm_err(&b, None).kind, ErrorKind::State);
    let b = reseal(blob, |p| p[13] = 200);
    assert_eq!(unm_err(&b, None).kind, ErrorKind::State);
    // stage, have, flg, bd, content size, remaining, dict id, use_dict, then XXH32's 12
    // fields: memsize is the 11th.
    let memsize_at = 13 + 1 + 1 + 1 + 1 + 8 + 8 + 4 + 1 + 10 * 4;
    let b = reseal(blob, |p| p[memsize_at..memsize_at + 4].copy_from_slice(&16u32.to_le_bytes()));
    assert_eq!(unm_err(&b, None).kind, ErrorKind::State);
}
