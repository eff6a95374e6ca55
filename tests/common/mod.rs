//! Helpers shared by the integration tests: a deterministic RNG, test data, and streaming
//! drivers with random input chunking and output limits.
#![allow(dead_code)]

use codec::abi::codec_param;
use codec::{Action, Decoder, Encoder, Error, Format, Status};

mod rng;
pub use rng::Rng;

/// An encoder of format `f` with these parameters set.
pub fn encoder(f: Format, params: &[(codec_param, i64)]) -> Encoder {
    let mut e = Encoder::new(f).unwrap();
    for &(p, v) in params {
        e.set_param(p, v).unwrap_or_else(|err| panic!("param {p} = {v}: {err:?}"));
    }
    e
}

/// Compressible text-like data with incompressible bursts and long repeats.
pub fn text(n: usize, seed: u64) -> Vec<u8> {
    let words: [&[u8]; 8] = [b"alpha ", b"beta ", b"gamma ", b"delta ", b"stream ", b"frame ", b"block ", b"window "];
    let mut r = Rng::new(seed);
    let mut v = Vec::with_capacity(n + 64);
    while v.len() < n {
        match r.next() % 20 {
            0 => {
                let n = r.range(1, 64);
                v.extend(r.bytes(n))
            }
            1 if v.len() > 1000 => {
                let start = r.range(0, v.len() - 500);
                let len = r.range(8, 400);
                let copy: Vec<u8> = v[start..start + len].to_vec();
                v.extend(copy);
            }
            _ => v.extend_from_slice(words[(r.next() % 8) as usize]),
        }
    }
    v.truncate(n);
    v
}

/// Encode `data` in one go with FINISH.
pub fn encode_all(enc: &mut Encoder, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut pos = 0;
    loop {
        let s = enc.encode(&data[pos..], &mut buf, Action::Finish);
        pos += s.read;
        out.extend_from_slice(&buf[..s.written]);
        if s.result.expect("encode") == Status::Ok {
            return out;
        }
    }
}

/// Decode with random input chunks (1..=max_in) and output limits (1..=max_out); returns the
/// output and the number of frame ends, or the error with the output decoded before it.
pub fn decode_chunked(
    dec: &mut Decoder,
    data: &[u8],
    rng: &mut Rng,
    max_in: usize,
    max_out: usize,
) -> (Vec<u8>, usize, Option<Error>) {
    let mut out = Vec::new();
    let mut buf = vec![0u8; max_out];
    let (mut pos, mut frames) = (0, 0);
    loop {
        let n = rng.range(0, max_in).min(data.len() - pos);
        let m = rng.range(1, max_out);
        let s = dec.decode(&data[pos..pos + n], &mut buf[..m]);
        pos += s.read;
        out.extend_from_slice(&buf[..s.written]);
        match s.result {
            Err(e) => return (out, frames, Some(e)),
            Ok(Status::FrameEnd) => frames += 1,
            Ok(Status::Ok) if pos == data.len() && s.written == 0 => return (out, frames, None),
            Ok(_) => {}
        }
    }
}
