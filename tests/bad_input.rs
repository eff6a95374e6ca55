//! Bad input, every format: thousands of mutations of valid streams (bit flips, byte sets,
//! truncations, insertions, garbage after valid frames, garbage after valid headers), each
//! decoded with random chunking under a call budget and an output cap, by the format's decoder
//! and by an AUTO decoder. Each must end in an error with a message, or in output equal to the
//! original (formats with an integrity check, when the decoder says the stream is complete) —
//! never a panic, a hang, an internal error or unbounded output.
//!
//! `CODEC_BAD_INPUT_ROUNDS=N` multiplies the number of mutations (default 1).

mod common;
use codec::abi::*;
use codec::{Action, Decoder, Encoder, ErrorKind, Format, Status};
use common::*;

const ALL: [Format; 6] =
    [Format::Zstd, Format::Lz4Frame, Format::Lz4Blocks, Format::Xz, Format::Lzma2Raw, Format::LzmaAlone];
/// Output cap per decode: mutations of LZ4 and LZMA streams can expand enormously.
const OUT_CAP: usize = 16 << 20;
/// Calls per decode before the decoder is declared stuck.
const CALL_BUDGET: usize = 200_000;

fn rounds() -> usize {
    std::env::var("CODEC_BAD_INPUT_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(1).max(1)
}

/// Whether a complete decode of a mutant must reproduce the original (content is checked).
fn checked(f: Format) -> bool {
    matches!(f, Format::Zstd | Format::Lz4Frame | Format::Xz)
}

fn encode(f: Format, data: &[u8]) -> Vec<u8> {
    let mut enc = Encoder::new(f).unwrap();
    let level = if matches!(f, Format::Xz | Format::Lzma2Raw | Format::LzmaAlone) { 0 } else { 1 };
    enc.set_param(CODEC_PARAM_LEVEL, level).unwrap();
    if matches!(f, Format::Zstd | Format::Lz4Frame) {
        enc.set_param(CODEC_PARAM_CHECKSUM, 1).unwrap();
    }
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let half = data.len() / 2;
    let parts: Vec<(&[u8], Action)> = if f == Format::LzmaAlone {
        vec![(data, Action::Finish)]
    } else {
        vec![(&data[..half], Action::Flush), (&data[half..], Action::Finish)]
    };
    for (mut src, a) in parts {
        loop {
            let s = enc.encode(src, &mut buf, a);
            src = &src[s.read..];
            out.extend_from_slice(&buf[..s.written]);
            if s.result.unwrap() == Status::Ok {
                break;
            }
        }
    }
    out
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Error(ErrorKind),
    /// Decoded without error; whether the decoder was at a frame edge, and the output matched.
    Done {
        edge: bool,
        equal: bool,
    },
    Capped,
}

fn decode(format: Option<Format>, m: &[u8], orig: &[u8], rng: &mut Rng) -> Outcome {
    let mut dec = Decoder::new(format).unwrap();
    if !matches!(format, Some(Format::Lz4Frame | Format::Lz4Blocks)) {
        dec.set_param(CODEC_PARAM_MEMLIMIT, 16 << 20).unwrap();
    }
    let mut buf = vec![0u8; 4096];
    let (mut pos, mut out_len, mut equal) = (0, 0usize, true);
    for _ in 0..CALL_BUDGET {
        let n = rng.range(1, 700).min(m.len() - pos);
        let room = rng.range(1, buf.len());
        let s = dec.decode(&m[pos..pos + n], &mut buf[..room]);
        assert!(s.read <= n && s.written <= room);
        let w = &buf[..s.written];
        equal &= out_len + w.len() <= orig.len() && orig[out_len..out_len + w.len()] == *w;
        pos += s.read;
        out_len += s.written;
        match s.result {
            Err(e) => {
                assert!(!e.msg.is_empty(), "error without message");
                assert!(
                    !matches!(e.kind, ErrorKind::Internal | ErrorKind::Panic | ErrorKind::Sequence),
                    "unexpected error kind: {e:?}"
                );
                return Outcome::Error(e.kind);
            }
            Ok(Status::Ok) if pos == m.len() && s.written == 0 => {
                return Outcome::Done { edge: dec.at_frame_edge(), equal: equal && out_len == orig.len() }
            }
            Ok(_) => {}
        }
        if out_len > OUT_CAP {
            return Outcome::Capped;
        }
    }
    panic!("decoder did not finish within {CALL_BUDGET} calls ({} of {} bytes consumed)", pos, m.len());
}

const GARBAGE: &[u8] = b"garbage after a valid stream \x00\xff\x28\xb5\x2f\xfd";

/// The i-th mutation of `z` (kind = i % 6).
fn mutate(z: &[u8], i: usize, rng: &mut Rng) -> (Vec<u8>, bool) {
    let at = rng.range(0, z.len() - 1);
    let mut m;
    let mut doubled = false;
    match i % 6 {
        0 => {
            m = z.to_vec();
            m[at] ^= 1 << rng.range(0, 7);
        }
        1 => {
            m = z.to_vec();
            m[at] = if rng.next() % 3 == 0 { 0xFF } else { rng.next() as u8 };
        }
        2 => m = z[..at].to_vec(),
        3 => {
            m = z[..at].to_vec();
            let k = rng.range(1, 8);
            m.extend(rng.bytes(k));
            m.extend_from_slice(&z[at..]);
        }
        4 => {
            m = z.to_vec();
            if i % 12 == 4 {
                m.extend_from_slice(z);
                doubled = true;
            }
            m.extend_from_slice(&GARBAGE[..rng.range(1, GARBAGE.len())]);
        }
        _ => {
            m = z[..rng.range(4, 24).min(z.len())].to_vec();
            let k = rng.range(0, 200);
            m.extend(rng.bytes(k));
        }
    }
    (m, doubled)
}

fn run_format(f: Format) {
    let data = text(3000, 7 + f.raw() as u64);
    let z = encode(f, &data);
    let mut rng = Rng::new(99 + f.raw() as u64);
    let n = 3000 * rounds();
    let (mut errors, mut done) = (0, 0);
    for i in 0..n {
        let (m, doubled) = mutate(&z, i, &mut rng);
        // an empty mutant (truncation at 0) is a valid, empty stream
        let orig: Vec<u8> = match (m.is_empty(), doubled) {
            (true, _) => Vec::new(),
            (false, true) => [&data[..], &data[..]].concat(),
            (false, false) => data.clone(),
        };
        let o = decode(Some(f), &m, &orig, &mut rng);
        match o {
            Outcome::Error(_) => errors += 1,
            Outcome::Done { edge, equal } => {
                done += 1;
                if checked(f) && edge {
                    assert!(equal, "{}: mutant {i} decoded without error to different output", f.name());
                }
            }
            Outcome::Capped => {}
        }
        // AUTO must come to a verdict too (formats it can detect).
        if f != Format::Lz4Blocks && f != Format::Lzma2Raw && i % 3 == 0 {
            let a = decode(None, &m, &orig, &mut rng);
            if let (Outcome::Done { edge: true, equal }, true) = (&a, checked(f)) {
                assert!(*equal, "{}: mutant {i} decoded by AUTO to different output", f.name());
            }
        }
    }
    eprintln!("{}: {n} mutants, {errors} errors, {done} decoded", f.name());
    assert!(errors > n / 3, "{}: too few mutations were detected ({errors} of {n})", f.name());
}

#[test]
fn zstd() {
    run_format(Format::Zstd);
}
#[test]
fn lz4_frame() {
    run_format(Format::Lz4Frame);
}
#[test]
fn lz4_blocks() {
    run_format(Format::Lz4Blocks);
}
#[test]
fn xz() {
    run_format(Format::Xz);
}
#[test]
fn lzma2() {
    run_format(Format::Lzma2Raw);
}
#[test]
fn lzma() {
    run_format(Format::LzmaAlone);
}

/// Truncation at every offset: never an error for a prefix (streaming), never at a frame edge
/// before the end, and the output a prefix of the original.
#[test]
fn every_truncation() {
    for f in ALL {
        let data = text(2000, 3);
        let z = encode(f, &data);
        let mut rng = Rng::new(5);
        for cut in 1..z.len() {
            match decode(Some(f), &z[..cut], &data, &mut rng) {
                Outcome::Done { edge, .. } => {
                    if f != Format::Lz4Blocks {
                        assert!(!edge, "{}: truncated to {cut} of {} bytes reports a frame edge", f.name(), z.len())
                    }
                }
                o => panic!("{}: truncated to {cut}: {o:?}", f.name()),
            }
        }
    }
}
