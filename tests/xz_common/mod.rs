//! Helpers shared by the tests/xz_*.rs files: our encoder and decoder driven through the
//! public wrappers, liblzma's decoders as the reference, deterministic data.
#![allow(dead_code)]

use std::sync::Arc;

use codec::abi::*;
use codec::xz::sys::{self, LzAction, PreFilter};
use codec::{Action, Decoder, Dict, Encoder, ErrorKind, Format, Status};

/// xorshift64*: deterministic pseudo-random numbers.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Text-like data with repeats, numbers, runs and some noise.
pub fn text(n: usize, seed: u64) -> Vec<u8> {
    let words: [&[u8]; 12] = [
        b"the ", b"quick ", b"brown ", b"fox ", b"jumps ", b"over ", b"lazy ", b"dog ", b"stream ", b"window ", b"\n",
        b"xz ",
    ];
    let mut r = Rng(seed | 1);
    let mut v = Vec::with_capacity(n + 64);
    while v.len() < n {
        match r.below(20) {
            0 => {
                let n = 1 + r.below(8);
                v.extend_from_slice(&r.bytes(n));
            }
            1 => {
                let b = r.next() as u8;
                let n = 1 + r.below(300);
                v.extend(std::iter::repeat(b).take(n));
            }
            2 if v.len() > 1000 => {
                let start = r.below(v.len() - 500);
                let len = 4 + r.below(400);
                let _ = &mut r;
                let chunk = v[start..(start + len).min(v.len())].to_vec();
                v.extend_from_slice(&chunk);
            }
            3 => v.extend_from_slice(format!("{} ", r.next() % 100000).as_bytes()),
            _ => v.extend_from_slice(words[r.below(words.len())]),
        }
    }
    v.truncate(n);
    v
}

/// Fake x86 code: lots of E8/E9 calls with plausible displacements.
pub fn x86ish(n: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng(seed | 1);
    let mut v = Vec::with_capacity(n + 8);
    while v.len() < n {
        match r.below(6) {
            0 => {
                v.push(0xE8);
                let d = (r.below(1 << 16) as i32 - (1 << 15)) as u32;
                v.extend_from_slice(&d.to_le_bytes());
            }
            1 => {
                v.push(0xE9);
                let d = r.below(1 << 20) as u32;
                v.extend_from_slice(&d.to_le_bytes());
            }
            2 => v.extend_from_slice(&[0x55, 0x48, 0x89, 0xE5]),
            3 => v.extend_from_slice(&[0x0F, 0xFF, 0x00, 0xE8]),
            _ => v.push(r.next() as u8 & 0x0F),
        }
    }
    v.truncate(n);
    v
}

pub fn encoder(f: Format, params: &[(i32, i64)], dict: Option<Arc<Dict>>) -> Encoder {
    let mut e = Encoder::new(f).unwrap();
    for &(p, v) in params {
        e.set_param(p, v).unwrap();
    }
    if dict.is_some() {
        e.set_dict(dict).unwrap();
    }
    e
}

/// Encode `data` in one go (Continue on pieces of `piece` bytes, then Finish) into a Vec,
/// with an output buffer of `out` bytes per call.
pub fn encode_with(e: &mut Encoder, data: &[u8], action: Action, out: usize) -> Vec<u8> {
    let mut res = Vec::new();
    let mut buf = vec![0u8; out];
    let mut pos = 0;
    loop {
        let s = e.encode(&data[pos..], &mut buf, action);
        pos += s.read;
        res.extend_from_slice(&buf[..s.written]);
        match s.result.unwrap() {
            Status::Ok => {
                assert_eq!(pos, data.len());
                return res;
            }
            Status::MoreOutput => {}
            Status::FrameEnd => unreachable!(),
        }
    }
}

pub fn compress(f: Format, params: &[(i32, i64)], data: &[u8]) -> Vec<u8> {
    let mut e = encoder(f, params, None);
    encode_with(&mut e, data, Action::Finish, 1 << 16)
}

pub fn decoder(f: Option<Format>, params: &[(i32, i64)], dict: Option<Arc<Dict>>) -> Decoder {
    let mut d = Decoder::new(f).unwrap();
    for &(p, v) in params {
        d.set_param(p, v).unwrap();
    }
    d.set_dict(dict).unwrap();
    d
}

/// Outcome of a whole decode: output so far, frames seen, and the verdict.
#[derive(Debug)]
pub struct Outcome {
    pub out: Vec<u8>,
    pub frames: usize,
    pub err: Option<(ErrorKind, String)>,
    /// Input ended at a frame edge with at least one frame.
    pub ok: bool,
}

/// Drive a decoder over `data` with input pieces of `inp` bytes and output room of `out`
/// bytes (0 = random 1..=64 KiB from `rng`).
pub fn run_decoder(d: &mut Decoder, data: &[u8], inp: usize, out: usize, rng: &mut Rng) -> Outcome {
    let mut res = Vec::new();
    let mut frames = 0;
    let mut pos = 0;
    let mut buf = vec![0u8; 1 << 16];
    let mut idle = 0;
    loop {
        let n_in = if inp == 0 { 1 + rng.below(70_000) } else { inp };
        let n_out = if out == 0 { 1 + rng.below(1 << 16) } else { out.min(buf.len()) };
        let end = (pos + n_in).min(data.len());
        let s = d.decode(&data[pos..end], &mut buf[..n_out]);
        pos += s.read;
        res.extend_from_slice(&buf[..s.written]);
        match s.result {
            Err(e) => {
                return Outcome { out: res, frames, err: Some((e.kind, e.msg)), ok: false };
            }
            Ok(Status::FrameEnd) => frames += 1,
            Ok(Status::MoreOutput) => {}
            Ok(Status::Ok) => {
                if pos == data.len() {
                    break;
                }
            }
        }
        if s.read == 0 && s.written == 0 {
            idle += 1;
            assert!(idle < 1000, "decoder made no progress");
        } else {
            idle = 0;
        }
    }
    let ok = d.at_frame_edge() && frames > 0;
    Outcome { out: res, frames, err: None, ok }
}

pub fn decode(f: Format, params: &[(i32, i64)], data: &[u8]) -> Outcome {
    let mut d = decoder(Some(f), params, None);
    run_decoder(&mut d, data, data.len().max(1), 1 << 16, &mut Rng(1))
}

/// liblzma's verdict on `data`: (output, accepted).
pub fn liblzma(f: Format, data: &[u8], raw: (u32, &[PreFilter], Option<&[u8]>)) -> (Vec<u8>, bool) {
    let (o, ok, _) = liblzma_n(f, data, raw);
    (o, ok)
}

/// liblzma's verdict on `data`: (output, accepted, bytes consumed). Its raw and .lzma
/// decoders stop at the end of the first stream and leave the rest unread.
pub fn liblzma_n(f: Format, data: &[u8], raw: (u32, &[PreFilter], Option<&[u8]>)) -> (Vec<u8>, bool, usize) {
    let mut s = match f {
        Format::Xz => sys::stream_decoder(u64::MAX).unwrap(),
        Format::LzmaAlone => sys::alone_decoder(u64::MAX).unwrap(),
        _ => sys::raw_decoder(raw.1, raw.0, raw.2).unwrap(),
    };
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut pos = 0;
    let mut idle = 0;
    loop {
        let p = s.code(&data[pos..], &mut buf, LzAction::Finish);
        pos += p.read;
        out.extend_from_slice(&buf[..p.written]);
        match p.ret {
            sys::LZMA_STREAM_END => return (out, true, pos),
            sys::LZMA_OK => {
                if p.read == 0 && p.written == 0 {
                    idle += 1;
                    if idle > 2 {
                        return (out, false, pos);
                    }
                }
            }
            _ => return (out, false, pos),
        }
    }
}

pub fn liblzma_simple(f: Format, data: &[u8]) -> (Vec<u8>, bool) {
    liblzma(f, data, (8 << 20, &[], None))
}

pub fn xz_available() -> bool {
    std::process::Command::new("xz").arg("--version").output().is_ok()
}

pub const LEVEL: i32 = CODEC_PARAM_LEVEL;

/// `xz` with the LZMA2 dictionary byte of its first block header rewritten to `b` (and the
/// header's CRC32 fixed): the same data declaring another dictionary size (37: 1.5 GiB,
/// 40: 4 GiB - 1). Needs a single-filter header without sizes (liblzma's single-threaded
/// encoder).
pub fn with_dict_byte(xz: &[u8], b: u8) -> Vec<u8> {
    let mut v = xz.to_vec();
    let size = (v[12] as usize + 1) * 4;
    assert_eq!(v[13], 0, "single filter, no sizes");
    assert_eq!(&v[14..16], &[0x21, 0x01]);
    v[16] = b;
    let c = crc32fast::hash(&v[12..12 + size - 4]);
    v[12 + size - 4..12 + size].copy_from_slice(&c.to_le_bytes());
    v
}
