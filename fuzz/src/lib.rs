//! Shared bodies of libcodec's fuzz targets, and the helpers the seed-corpus generator uses to
//! build inputs in the layouts the targets read.
//!
//! Decode targets (`fuzz_decode`) read an 8-byte header, then the compressed stream:
//!
//! | byte | meaning |
//! |---|---|
//! | 0 | bit 0: use the fixed raw dictionary (`dict()`); bits 1-2: interruption kind (0 none, 1 marshal → unmarshal, 2 clone, 3 marshal → unmarshal twice) |
//! | 1 | largest input chunk (index into `IN_SIZES`) |
//! | 2 | largest output buffer (index into `OUT_SIZES`) |
//! | 3 | the decode call before which the decoder is interrupted |
//! | 4 | seed of the chunking RNG |
//! | 5, 6 | format parameters (see `Setup::parse`) |
//! | 7 | second interruption, this many calls after the first (0 = none) |
//!
//! Every input is decoded twice: once in large chunks without interruption (the reference) and
//! once with random chunking, output limits and the interruption. Invariants checked (a
//! violation panics, which libFuzzer reports as a crash):
//! - no call consumes or produces more than it was given room for;
//! - errors carry a message, and a failed decoder refuses further work (`Sequence`) until reset;
//! - a decoder never stops making progress while it has input and output room;
//! - marshal → unmarshal of a live decoder succeeds, reports the same position, and marshals
//!   back to the same bytes;
//! - both runs produce the same bytes (one a prefix of the other when either fails), and the
//!   same outcome (success vs error) when neither hit the output cap.

use std::sync::{Arc, OnceLock};

use codec::abi::*;
use codec::{Action, Decoder, Dict, Encoder, Error, ErrorKind, Format, Status};

/// Output beyond this is not decoded (bounds time and memory on decompression bombs).
pub const OUT_CAP: usize = 1 << 18;
/// Decode calls per run beyond which the run counts as capped (1-byte buffers on a bomb).
pub const CALL_CAP: usize = 25_000;
/// Calls without progress (given input and room) before the decoder is declared stuck.
const STALL_MAX: usize = 64;

pub const IN_SIZES: [usize; 12] = [1, 2, 3, 5, 8, 16, 64, 256, 1024, 4096, 1 << 16, usize::MAX];
pub const OUT_SIZES: [usize; 11] = [1, 2, 3, 7, 16, 64, 256, 1024, 4096, 1 << 16, 1 << 18];
pub const HEADER: usize = 8;

#[path = "../../tests/common/rng.rs"]
mod rng;
pub use rng::Rng;

/// Text-like test data.
pub fn text(n: usize, seed: u64) -> Vec<u8> {
    let words: [&[u8]; 8] = [b"alpha ", b"beta ", b"gamma ", b"delta ", b"stream ", b"frame ", b"block ", b"window "];
    let mut r = Rng::new(seed);
    let mut v = Vec::with_capacity(n + 16);
    while v.len() < n {
        match r.next() % 16 {
            0 => {
                let k = r.range(1, 24);
                v.extend((0..k).map(|_| r.next() as u8));
            }
            1 if v.len() > 200 => {
                let start = r.range(0, v.len() - 100);
                let len = r.range(4, 90);
                let copy = v[start..start + len].to_vec();
                v.extend(copy);
            }
            _ => v.extend_from_slice(words[(r.next() % 8) as usize]),
        }
    }
    v.truncate(n);
    v
}

/// The fixed raw-content dictionary the targets use (and the seed generator used).
pub fn dict() -> Arc<Dict> {
    static D: OnceLock<Arc<Dict>> = OnceLock::new();
    D.get_or_init(|| Arc::new(Dict::load(&text(2048, 77)).unwrap())).clone()
}

/// Formats that take a dictionary.
pub fn takes_dict(f: Option<Format>) -> bool {
    matches!(f, Some(Format::Zstd | Format::Lz4Frame | Format::Lz4Blocks | Format::Lzma2Raw))
}

/// Decoder configuration read from the header.
#[derive(Debug, Clone)]
pub struct Setup {
    pub format: Option<Format>,
    pub params: Vec<(codec_param, i64)>,
    pub dict: bool,
    /// `CODEC_PARAM_THREADS` of the second decoder (LZ4 frame, .xz, AUTO: their parallel
    /// decoders are checked against the sequential one).
    pub threads: i64,
}

pub const LZ4BLOCKS_PAGES: [i64; 8] = [65536, 4096, 1024, 100, 1, 65537, 1 << 20, 200_000];
pub const LZ4BLOCKS_WIDTHS: [i64; 4] = [4, 2, 1, 4];

impl Setup {
    pub fn parse(format: Option<Format>, h: &[u8; HEADER]) -> Setup {
        let (a, b) = (h[5], h[6]);
        let params = match format {
            Some(Format::Zstd) => vec![(CODEC_PARAM_ZSTD_WINDOW_LOG_MAX, 10 + (a % 15) as i64)],
            Some(Format::Lz4Frame) => vec![],
            Some(Format::Lz4Blocks) => vec![
                (CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, LZ4BLOCKS_PAGES[(a % 8) as usize]),
                (CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH, LZ4BLOCKS_WIDTHS[(b % 4) as usize]),
            ],
            Some(Format::Xz | Format::LzmaAlone) | None => vec![(CODEC_PARAM_MEMLIMIT, 1i64 << (12 + a % 13))],
            Some(Format::Lzma2Raw) => {
                let mut p = vec![(CODEC_PARAM_XZ_DICT_SIZE, 4096i64 << (a % 9))];
                match b % 8 {
                    6 => p.push((CODEC_PARAM_XZ_DELTA_DIST, 1 + ((b >> 3) % 4) as i64)),
                    7 => p.push((CODEC_PARAM_XZ_BCJ_X86, 1)),
                    _ => {}
                }
                p
            }
        };
        let threads = match format {
            Some(Format::Lz4Frame) => 1 + (a % 3) as i64,
            Some(Format::Xz) | None => 1 + (b % 3) as i64,
            _ => 1,
        };
        Setup { format, params, dict: h[0] & 1 != 0 && takes_dict(format), threads }
    }

    /// The same decoder with `threads` set (when it is more than one).
    pub fn parallel_decoder(&self) -> Option<Decoder> {
        let mut d = self.decoder()?;
        if self.threads > 1 {
            d.set_param(CODEC_PARAM_THREADS, self.threads).ok()?;
        }
        Some(d)
    }

    /// A configured decoder, or `None` when the configuration is refused.
    pub fn decoder(&self) -> Option<Decoder> {
        let mut d = Decoder::new(self.format).ok()?;
        for &(p, v) in &self.params {
            d.set_param(p, v).ok()?;
        }
        if self.dict {
            d.set_dict(Some(dict())).ok()?;
        }
        Some(d)
    }
}

/// Interruption of a decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    None,
    Marshal,
    Clone,
}

/// How a stream is fed to a decoder.
#[derive(Debug, Clone)]
pub struct Plan {
    pub seed: u64,
    pub max_in: usize,
    pub max_out: usize,
    pub interrupt: Interrupt,
    /// Calls before which to interrupt.
    pub at: Vec<usize>,
}

impl Plan {
    pub fn whole() -> Plan {
        Plan { seed: 1, max_in: usize::MAX, max_out: 1 << 16, interrupt: Interrupt::None, at: vec![] }
    }
    pub fn parse(h: &[u8; HEADER]) -> Plan {
        let (interrupt, twice) = match (h[0] >> 1) & 3 {
            0 => (Interrupt::None, false),
            1 => (Interrupt::Marshal, false),
            2 => (Interrupt::Clone, false),
            _ => (Interrupt::Marshal, true),
        };
        let mut at = vec![h[3] as usize];
        if twice || h[7] != 0 {
            at.push(h[3] as usize + h[7].max(1) as usize);
        }
        Plan {
            seed: h[4] as u64 + 1,
            max_in: IN_SIZES[h[1] as usize % IN_SIZES.len()],
            max_out: OUT_SIZES[h[2] as usize % OUT_SIZES.len()],
            interrupt,
            at,
        }
    }
}

/// What a decode run produced.
#[derive(Debug)]
pub struct Outcome {
    pub out: Vec<u8>,
    pub err: Option<Error>,
    /// Stopped at `OUT_CAP`.
    pub capped: bool,
    pub edge: bool,
    pub frames: usize,
}

/// Marshal `dec`, check the state, and restore it. `None` when the format cannot marshal here.
pub fn marshal_roundtrip(dec: &Decoder) -> Option<Decoder> {
    let blob = match dec.marshal() {
        Ok(b) => b,
        Err(e) if e.kind == ErrorKind::Unsupported => return None,
        Err(e) => panic!("marshal of a live decoder failed: {e}"),
    };
    let env = codec::state::open(&blob).expect("own state does not open");
    assert_eq!((env.consumed, env.produced), dec.position(), "state position differs");
    // Restored into a decoder with the same limits (a state does not carry them).
    let mut restored = Decoder::new(dec.requested_format()).expect("a decoder of the same format");
    for (p, v) in dec.limit_params() {
        restored.set_param(p, v).expect("the same limits");
    }
    restored.set_dict(dec.dict().cloned()).expect("the same dictionary");
    restored.restore(&blob).unwrap_or_else(|e| panic!("restore of a freshly marshalled state failed: {e}"));
    assert_eq!(restored.position(), dec.position());
    assert_eq!(restored.at_frame_edge(), dec.at_frame_edge(), "restored decoder's frame edge differs");
    let again = restored.marshal().expect("marshal of a restored decoder failed");
    assert!(
        again == blob,
        "marshal(unmarshal(state)) differs from state at {:?} (limits {:?}, {} vs {} bytes)",
        again.iter().zip(&blob).position(|(a, b)| a != b),
        dec.limit_params(),
        again.len(),
        blob.len()
    );
    Some(restored)
}

/// Decode `data` following `plan`. Checks the per-call invariants.
pub fn run(mut dec: Decoder, data: &[u8], plan: &Plan) -> Outcome {
    let mut rng = Rng::new(plan.seed);
    let mut out = Vec::new();
    let mut buf = vec![0u8; plan.max_out.min(1 << 18)];
    let (mut pos, mut calls, mut stalls, mut frames) = (0usize, 0usize, 0usize, 0usize);
    loop {
        if plan.at.contains(&calls) {
            match plan.interrupt {
                Interrupt::None => {}
                Interrupt::Marshal => {
                    if let Some(d) = marshal_roundtrip(&dec) {
                        dec = d;
                    }
                }
                Interrupt::Clone => {
                    let copy = dec.try_clone().unwrap_or_else(|e| panic!("clone of a live decoder failed: {e}"));
                    assert_eq!(copy.position(), dec.position());
                    dec = copy;
                }
            }
        }
        let n =
            if plan.max_in == usize::MAX { data.len() - pos } else { rng.range(0, plan.max_in).min(data.len() - pos) };
        let m = rng.range(1, buf.len());
        let s = dec.decode(&data[pos..pos + n], &mut buf[..m]);
        calls += 1;
        assert!(s.read <= n && s.written <= m, "call reported more than it was given: {s:?} for {n} in, {m} out");
        pos += s.read;
        out.extend_from_slice(&buf[..s.written]);
        let progress = s.read + s.written;
        match s.result {
            Err(e) => {
                assert!(e.status() < 0 && !e.msg.is_empty(), "error without a message: {e:?}");
                if e.kind.poisons_stream() {
                    let again = dec.decode(&data[pos..], &mut buf);
                    assert!(again.read == 0 && again.written == 0, "a failed decoder made progress");
                    assert!(
                        matches!(&again.result, Err(x) if x.kind == ErrorKind::Sequence),
                        "a failed decoder did not refuse work: {again:?}"
                    );
                    dec.reset();
                    let fresh = dec.decode(&[], &mut buf);
                    assert!(fresh.result.is_ok(), "decoder unusable after reset: {fresh:?}");
                }
                return Outcome { out, err: Some(e), capped: false, edge: false, frames };
            }
            Ok(Status::FrameEnd) => frames += 1,
            Ok(Status::Ok) if pos == data.len() && s.written == 0 => break,
            Ok(_) => {}
        }
        if out.len() > OUT_CAP || calls > CALL_CAP {
            return Outcome { out, err: None, capped: true, edge: false, frames };
        }
        if progress == 0 && (n > 0 || pos == data.len()) {
            stalls += 1;
            assert!(stalls <= STALL_MAX, "decoder makes no progress: {n} bytes in, {m} bytes of room, {s:?}");
        } else if progress > 0 {
            stalls = 0;
        }
    }
    let edge = dec.at_frame_edge();
    Outcome { out, err: None, capped: false, edge, frames }
}

/// Compare two runs of the same stream.
pub fn compare(a: &Outcome, b: &Outcome) {
    let n = a.out.len().min(b.out.len());
    if a.out[..n] != b.out[..n] {
        let i = (0..n).find(|&i| a.out[i] != b.out[i]).unwrap();
        panic!("outputs differ at byte {i} (lengths {} and {})", a.out.len(), b.out.len());
    }
    if a.capped || b.capped {
        return;
    }
    match (&a.err, &b.err) {
        (None, None) => {
            assert_eq!(a.out.len(), b.out.len(), "complete decodes differ in length");
            assert_eq!(a.edge, b.edge, "frame edge differs");
        }
        (Some(e), None) | (None, Some(e)) => {
            panic!("outcome depends on chunking: one run failed ({e}), the other did not")
        }
        (Some(_), Some(_)) => {}
    }
}

/// Split the decode header off `data`.
pub fn header(data: &[u8]) -> Option<(&[u8; HEADER], &[u8])> {
    if data.len() < HEADER {
        return None;
    }
    let (h, rest) = data.split_at(HEADER);
    Some((h.try_into().unwrap(), rest))
}

/// Body of the decode_* targets.
pub fn fuzz_decode(format: Option<Format>, data: &[u8]) {
    let Some((h, stream)) = header(data) else { return };
    let setup = Setup::parse(format, h);
    let plan = Plan::parse(h);
    let Some(a) = setup.decoder() else { return };
    let Some(b) = setup.parallel_decoder() else { return };
    let reference = run(a, stream, &Plan::whole());
    let chunked = run(b, stream, &plan);
    compare(&reference, &chunked);
}

// ------------------------------------------------------------------ unmarshal

/// Unmarshal target layout: `[mode][format][len u16 LE][len bytes][data to decode...]`.
///
/// mode & 3: 0 = the bytes are a whole state; 1 = a whole state whose checksum is recomputed
/// (so mutations reach the payload parser); 2, 3 = the bytes are a payload, sealed here with the
/// format byte's format (bit 7: zstd's build fingerprint instead of the format's own).
/// mode bit 2: supply the fixed dictionary (and, when sealing, declare it). The remaining mode
/// bits and the format byte's bits 3-6 drive the follow-up decode.
pub fn fuzz_unmarshal(data: &[u8]) {
    if data.len() < 4 {
        return;
    }
    let (mode, fbyte) = (data[0], data[1]);
    let len = u16::from_le_bytes([data[2], data[3]]) as usize;
    let body = &data[4..];
    let len = len.min(body.len());
    let (blob, rest) = body.split_at(len);
    let with_dict = mode & 4 != 0;
    let blob: Vec<u8> = match mode & 3 {
        0 => blob.to_vec(),
        1 => codec::state::reseal(blob),
        _ => {
            let fmt = (fbyte & 7) as i32;
            let fp = if fbyte & 0x80 != 0 {
                codec::formats::state_fingerprint(Format::Zstd)
            } else {
                Format::from_raw(fmt).map(codec::formats::state_fingerprint).unwrap_or_default()
            };
            let d = dict();
            codec::state::seal(fmt, &fp, with_dict.then(|| d.identity()), 0, 0, blob)
        }
    };
    let d = with_dict.then(dict);
    let Ok(dec) = Decoder::unmarshal(&blob, d) else { return };
    // A state the library accepted must marshal again, and that state must be accepted.
    if let Some(restored) = marshal_roundtrip(&dec) {
        drop(restored);
    }
    let plan = Plan {
        seed: mode as u64,
        max_in: IN_SIZES[(mode >> 3) as usize % IN_SIZES.len()],
        max_out: OUT_SIZES[((fbyte >> 3) & 15) as usize % OUT_SIZES.len()],
        interrupt: if mode & 0x80 != 0 { Interrupt::Marshal } else { Interrupt::Clone },
        at: vec![1 + (fbyte as usize >> 6)],
    };
    let copy = dec.try_clone().expect("clone of an unmarshalled decoder failed");
    // An LZ4 block stream restored with prefix width 0 (sizes out of band) takes each call's
    // input as one block: its meaning depends on the chunking, so the copy gets the same
    // chunking (without the interruption) instead of the whole input at once.
    let same_chunks = dec.format() == Some(Format::Lz4Blocks);
    let whole = if same_chunks {
        Plan { seed: plan.seed, max_in: plan.max_in, max_out: plan.max_out, interrupt: Interrupt::None, at: vec![] }
    } else {
        Plan::whole()
    };
    let a = run(dec, rest, &plan);
    let b = run(copy, rest, &whole);
    compare(&a, &b);
}

/// Build an unmarshal-target input.
pub fn unmarshal_input(mode: u8, fbyte: u8, blob: &[u8], data: &[u8]) -> Vec<u8> {
    let mut v = vec![mode, fbyte];
    v.extend_from_slice(&(blob.len().min(65535) as u16).to_le_bytes());
    v.extend_from_slice(&blob[..blob.len().min(65535)]);
    v.extend_from_slice(data);
    v
}

// ------------------------------------------------------------------ dict_load

/// Dict-load target layout: `[len u16 LE][dictionary bytes][level][data to decode...]`. A
/// dictionary that loads must round-trip sample data through every format that takes one,
/// and `data` is then decoded (zstd, LZ4 frame, raw LZMA2) with it.
pub fn fuzz_dict_load(data: &[u8]) {
    if data.len() < 3 {
        return;
    }
    let len = (u16::from_le_bytes([data[0], data[1]]) as usize).min(data.len() - 2);
    let (bytes, rest) = data[2..].split_at(len);
    let d = match Dict::load(bytes) {
        Ok(d) => Arc::new(d),
        Err(e) => {
            assert!(!e.msg.is_empty());
            return;
        }
    };
    assert_eq!(d.bytes(), bytes);
    let level = rest.first().copied().unwrap_or(0);
    let rest = rest.get(1..).unwrap_or(&[]);
    let sample = text(3000, level as u64);
    for f in [Format::Zstd, Format::Lz4Frame, Format::Lz4Blocks, Format::Lzma2Raw] {
        let mut enc = Encoder::new(f).unwrap();
        let lv = match f {
            Format::Zstd => (level % 8) as i64 - 1,
            Format::Lzma2Raw => (level % 3) as i64,
            _ => (level % 13) as i64,
        };
        enc.set_param(CODEC_PARAM_LEVEL, lv).unwrap();
        if enc.set_dict(Some(d.clone())).is_err() {
            continue;
        }
        let Ok(z) = encode_script(&mut enc, &sample, &mut Rng::new(level as u64), 0) else { continue };
        let mut dec = Decoder::new(Some(f)).unwrap();
        dec.set_dict(Some(d.clone())).unwrap();
        let o = run(dec, &z.0, &Plan::whole());
        assert!(o.err.is_none(), "{}: decoding with a loaded dictionary failed: {:?}", f.name(), o.err);
        assert!(o.out == sample, "{}: round trip with a loaded dictionary differs", f.name());
    }
    for f in [Format::Zstd, Format::Lz4Frame, Format::Lzma2Raw] {
        let mut dec = Decoder::new(Some(f)).unwrap();
        if f == Format::Lzma2Raw {
            dec.set_param(CODEC_PARAM_XZ_DICT_SIZE, 1 << 16).unwrap();
        }
        if f == Format::Zstd {
            dec.set_param(CODEC_PARAM_ZSTD_WINDOW_LOG_MAX, 20).unwrap();
        }
        if dec.set_dict(Some(d.clone())).is_err() {
            continue;
        }
        let plan = Plan { seed: level as u64, max_in: 64, max_out: 256, interrupt: Interrupt::Marshal, at: vec![2] };
        run(dec, rest, &plan);
    }
}

// ------------------------------------------------------------------ round trip

/// Encode `data` in random chunks with random actions into random-sized output buffers.
/// Returns the compressed bytes and, for each completed flush, (input so far, output so far).
#[allow(clippy::type_complexity)]
pub fn encode_script(
    enc: &mut Encoder,
    data: &[u8],
    rng: &mut Rng,
    flush_pct: u64,
) -> Result<(Vec<u8>, Vec<(usize, usize)>), Error> {
    let mut out = Vec::new();
    let mut flushes = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut pos = 0;
    loop {
        let last = pos == data.len();
        let n = rng.range(0, 4096).min(data.len() - pos);
        let r = rng.next() % 100;
        let action = if last {
            Action::Finish
        } else if r < flush_pct {
            Action::Flush
        } else if r < flush_pct + 2 {
            Action::Finish
        } else {
            Action::Continue
        };
        let mut chunk = &data[pos..pos + n];
        loop {
            let m = if rng.next() % 4 == 0 { rng.range(1, 64) } else { buf.len() };
            let s = enc.encode(chunk, &mut buf[..m], action);
            assert!(s.read <= chunk.len() && s.written <= m);
            chunk = &chunk[s.read..];
            pos += s.read;
            out.extend_from_slice(&buf[..s.written]);
            match s.result {
                Err(e) if e.kind == ErrorKind::Unsupported && action == Action::Flush => {
                    assert!(s.read == 0 && s.written == 0, "refused flush consumed or produced");
                    break;
                }
                Err(e) => return Err(e),
                Ok(Status::Ok) => {
                    assert!(chunk.is_empty(), "Ok with input left");
                    if action == Action::Flush {
                        flushes.push((pos, out.len()));
                    }
                    break;
                }
                Ok(_) => {}
            }
        }
        if last {
            return Ok((out, flushes));
        }
    }
}

/// Round-trip target layout: `[format][p1][p2][p3][p4][flags][seed][data...]`.
pub fn fuzz_roundtrip(data: &[u8]) {
    if data.len() < 7 {
        return;
    }
    let (h, input) = data.split_at(7);
    let f = [Format::Zstd, Format::Lz4Frame, Format::Lz4Blocks, Format::Xz, Format::Lzma2Raw, Format::LzmaAlone]
        [h[0] as usize % 6];
    let (p1, p2, p3, p4, flags) = (h[1] as i64, h[2] as i64, h[3] as i64, h[4] as i64, h[5]);
    let mut enc_params: Vec<(codec_param, i64)> = Vec::new();
    let mut dec_params: Vec<(codec_param, i64)> = Vec::new();
    match f {
        Format::Zstd => {
            enc_params.push((CODEC_PARAM_LEVEL, p1 % 12 - 3));
            enc_params.push((CODEC_PARAM_CHECKSUM, p2 & 1));
            if p2 & 2 != 0 {
                enc_params.push((CODEC_PARAM_ZSTD_WINDOW_LOG, 10 + p3 % 8));
            }
            if p2 & 4 != 0 {
                enc_params.push((CODEC_PARAM_ZSTD_STRATEGY, 1 + p4 % 9));
            }
            dec_params.push((CODEC_PARAM_ZSTD_WINDOW_LOG_MAX, 24));
        }
        Format::Lz4Frame => {
            enc_params.push((CODEC_PARAM_LEVEL, p1 % 15 - 2));
            enc_params.push((CODEC_PARAM_LZ4_BLOCK_SIZE, [65536, 262144][(p2 & 1) as usize]));
            enc_params.push((CODEC_PARAM_LZ4_LINKED_BLOCKS, (p2 >> 1) & 1));
            enc_params.push((CODEC_PARAM_LZ4_CONTENT_CHECKSUM, (p2 >> 2) & 1));
            enc_params.push((CODEC_PARAM_LZ4_BLOCK_CHECKSUM, (p2 >> 3) & 1));
            enc_params.push((CODEC_PARAM_LZ4_FAVOR_DEC_SPEED, (p2 >> 4) & 1));
        }
        Format::Lz4Blocks => {
            let page = LZ4BLOCKS_PAGES[(p2 % 8) as usize];
            let width = LZ4BLOCKS_WIDTHS[(p3 % 4) as usize];
            for q in [(CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, page), (CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH, width)] {
                enc_params.push(q);
                dec_params.push(q);
            }
            if p1 & 0x80 != 0 {
                enc_params.push((CODEC_PARAM_LZ4BLOCKS_HC_LEVEL, p1 % 13));
            } else {
                enc_params.push((CODEC_PARAM_LZ4BLOCKS_ACCELERATION, 1 + p4 % 20));
            }
        }
        Format::Xz | Format::Lzma2Raw | Format::LzmaAlone => {
            enc_params.push((CODEC_PARAM_LEVEL, p1 % 4));
            enc_params.push((CODEC_PARAM_XZ_EXTREME, (p1 >> 2) & 1));
            let dict_size = 4096i64 << (p3 % 8);
            enc_params.push((CODEC_PARAM_XZ_DICT_SIZE, dict_size));
            let (lc, lp, pb) = (p4 % 5, (p4 / 5) % 5, (p4 / 25) % 5);
            if lc + lp <= 4 {
                enc_params.push((CODEC_PARAM_XZ_LC, lc));
                enc_params.push((CODEC_PARAM_XZ_LP, lp));
                enc_params.push((CODEC_PARAM_XZ_PB, pb));
            }
            if f == Format::Xz {
                enc_params.push((CODEC_PARAM_CHECKSUM, [0, 1, 4, 10][(p2 & 3) as usize]));
            }
            if f == Format::Lzma2Raw {
                dec_params.push((CODEC_PARAM_XZ_DICT_SIZE, dict_size));
            }
            if f != Format::LzmaAlone {
                let filter = match (p2 >> 2) & 7 {
                    6 => Some((CODEC_PARAM_XZ_DELTA_DIST, 1 + (p2 >> 5) % 4)),
                    7 => Some((CODEC_PARAM_XZ_BCJ_X86, 1)),
                    _ => None,
                };
                if let Some(q) = filter {
                    enc_params.push(q);
                    if f == Format::Lzma2Raw {
                        dec_params.push(q);
                    }
                }
            }
        }
    }
    let use_dict = flags & 1 != 0 && takes_dict(Some(f));
    let mut enc = Encoder::new(f).unwrap();
    for &(p, v) in &enc_params {
        enc.set_param(p, v).unwrap_or_else(|e| panic!("{}: parameter {p} = {v} refused: {e}", f.name()));
    }
    if use_dict {
        enc.set_dict(Some(dict())).unwrap();
    }
    let mut rng = Rng::new(h[6] as u64);
    let (z, flushes) = match encode_script(&mut enc, input, &mut rng, (flags >> 1) as u64 % 16) {
        Ok(x) => x,
        // Only the LZ4 block stream can refuse data: a block that does not fit its prefix.
        Err(e) if f == Format::Lz4Blocks && e.kind == ErrorKind::Invalid => return,
        Err(e) => panic!("{}: encoding failed: {e}", f.name()),
    };
    let setup = Setup { format: Some(f), params: dec_params, dict: use_dict, threads: 1 };
    let plan = Plan {
        seed: h[6] as u64 + 7,
        max_in: IN_SIZES[(flags >> 5) as usize % IN_SIZES.len()],
        max_out: OUT_SIZES[h[6] as usize % OUT_SIZES.len()],
        interrupt: if flags & 0x10 != 0 { Interrupt::Marshal } else { Interrupt::Clone },
        at: vec![(h[6] >> 4) as usize],
    };
    let o = run(setup.decoder().expect("decoder setup"), &z, &plan);
    assert!(o.err.is_none(), "{}: decoding our own stream failed: {:?}", f.name(), o.err);
    if o.capped {
        // Stopped at the call or output cap (a 1-byte page fed 1 byte per call takes more
        // calls than the cap allows): nothing to compare.
        return;
    }
    assert!(o.out == input, "{}: round trip differs ({} bytes in, {} out)", f.name(), input.len(), o.out.len());
    assert!(o.edge, "{}: complete stream does not end at a frame edge", f.name());
    // Everything before a completed flush decodes from the bytes emitted up to it.
    for &(inp, outp) in flushes.iter().take(2) {
        let o = run(setup.decoder().unwrap(), &z[..outp], &Plan::whole());
        assert!(o.err.is_none(), "{}: flushed prefix fails to decode: {:?}", f.name(), o.err);
        assert!(
            o.out == input[..inp],
            "{}: flushed prefix decodes to {} bytes, {} were flushed",
            f.name(),
            o.out.len(),
            inp
        );
    }
}
