//! Helpers shared by the LZ4 integration tests.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use codec::abi::*;
use codec::{Action, Decoder, Dict, Encoder, Format, Status};

/// Deterministic xorshift generator.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// Uniform in lo..=hi.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Compressible text-like data with some noise.
pub fn text(n: usize, seed: u64) -> Vec<u8> {
    let words: [&[u8]; 12] = [
        b"lorem ",
        b"ipsum ",
        b"dolor ",
        b"sit ",
        b"amet ",
        b"codec ",
        b"stream ",
        b"frame ",
        b"block ",
        b"window ",
        b"flush\n",
        b"history ",
    ];
    let mut r = Rng(seed | 1);
    let mut v = Vec::with_capacity(n + 16);
    while v.len() < n {
        let x = r.next();
        match x % 16 {
            0 => v.extend_from_slice(&x.to_le_bytes()[..3]),
            1 => v.extend_from_slice(format!("{} ", x % 10007).as_bytes()),
            _ => v.extend_from_slice(words[(x >> 8) as usize % words.len()]),
        }
    }
    v.truncate(n);
    v
}

pub fn enc(format: Format, params: &[(codec_param, i64)], dict: Option<&Arc<Dict>>) -> Encoder {
    let mut e = Encoder::new(format).unwrap();
    for &(p, v) in params {
        e.set_param(p, v).unwrap_or_else(|err| panic!("param {p}={v}: {err}"));
    }
    if let Some(d) = dict {
        e.set_dict(Some(d.clone())).unwrap();
    }
    e
}

/// Compress `data` with one FINISH into a big buffer.
pub fn compress(format: Format, params: &[(codec_param, i64)], dict: Option<&Arc<Dict>>, data: &[u8]) -> Vec<u8> {
    let mut e = enc(format, params, dict);
    let mut out = vec![0u8; data.len() + data.len() / 200 + 1024];
    let s = e.encode(data, &mut out, Action::Finish);
    assert_eq!(s.result.unwrap(), Status::Ok);
    assert_eq!(s.read, data.len());
    out.truncate(s.written);
    out
}

/// Encode with the given input chunk sizes and output buffer size, applying `action` to the
/// last call; loops on MoreOutput. Returns the output.
pub fn encode_all(e: &mut Encoder, data: &[u8], chunk: usize, out_cap: usize, action: Action) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; out_cap];
    let mut pos = 0;
    loop {
        let end = (pos + chunk).min(data.len());
        let last = end == data.len();
        let act = if last { action } else { Action::Continue };
        let s = e.encode(&data[pos..end], &mut buf, act);
        out.extend_from_slice(&buf[..s.written]);
        pos += s.read;
        match s.result.unwrap() {
            Status::Ok if last && pos == data.len() => return out,
            Status::Ok => assert!(pos <= end),
            Status::MoreOutput => assert_eq!(s.written, buf.len().min(s.written.max(buf.len()))),
            Status::FrameEnd => unreachable!(),
        }
    }
}

/// Decode everything with a fresh decoder (big buffers); panics on errors.
pub fn decode(format: Option<Format>, dict: Option<&Arc<Dict>>, comp: &[u8]) -> Vec<u8> {
    try_decode(format, dict, comp, usize::MAX, 1 << 20).unwrap()
}

/// Decode feeding `chunk` input bytes at a time with `out_cap`-byte output buffers.
/// Returns the output, or the error kind and message.
pub fn try_decode(
    format: Option<Format>,
    dict: Option<&Arc<Dict>>,
    comp: &[u8],
    chunk: usize,
    out_cap: usize,
) -> Result<Vec<u8>, codec::Error> {
    let mut d = Decoder::new(format).unwrap();
    if let Some(x) = dict {
        d.set_dict(Some(x.clone())).unwrap();
    }
    let mut out = Vec::new();
    let mut buf = vec![0u8; out_cap];
    let mut pos: usize = 0;
    loop {
        let end = pos.saturating_add(chunk).min(comp.len());
        let s = d.decode(&comp[pos..end], &mut buf);
        pos += s.read;
        out.extend_from_slice(&buf[..s.written]);
        match s.result? {
            Status::MoreOutput | Status::FrameEnd => {}
            Status::Ok => {
                assert_eq!(pos, end, "Ok must mean all input consumed");
                if pos == comp.len() {
                    break;
                }
            }
        }
    }
    if !d.at_frame_edge() {
        return Err(codec::Error::truncated("input ended inside a frame"));
    }
    Ok(out)
}

pub fn have_lz4_cli() -> bool {
    Command::new("lz4").arg("--version").output().map(|o| o.status.success()).unwrap_or(false)
}

/// Run the lz4 CLI with `args`, feeding `input` on stdin; returns (success, stdout).
pub fn lz4_cli(args: &[&str], input: &[u8]) -> (bool, Vec<u8>) {
    let mut child = Command::new("lz4")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run lz4");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    (out.status.success(), out.stdout)
}

/// A zstd-format dictionary (non-zero id) trained on text samples, so LZ4 frames carry a
/// dictionary id.
pub fn trained_dict(seed: u64) -> Arc<Dict> {
    let mut samples = Vec::new();
    let mut sizes = Vec::new();
    for i in 0..200 {
        let s = text(600, seed * 1000 + i);
        sizes.push(s.len());
        samples.extend_from_slice(&s);
    }
    let mut buf = vec![0u8; 16 << 10];
    // SAFETY: buffers valid for the lengths given.
    let n = unsafe {
        zstd_sys::ZDICT_trainFromBuffer(
            buf.as_mut_ptr().cast(),
            buf.len(),
            samples.as_ptr().cast(),
            sizes.as_ptr(),
            sizes.len() as u32,
        )
    };
    // SAFETY: pure function.
    assert_eq!(unsafe { zstd_sys::ZDICT_isError(n) }, 0, "training failed");
    buf.truncate(n);
    let d = Dict::load(&buf).unwrap();
    assert_ne!(d.id(), 0);
    Arc::new(d)
}

pub fn raw_dict(bytes: &[u8]) -> Arc<Dict> {
    Arc::new(Dict::load(bytes).unwrap())
}

/// Run the lz4 CLI on `input` stored in a temporary file (appended as the last argument);
/// returns (success, stdout).
pub fn lz4_cli_file(args: &[&str], input: &[u8]) -> (bool, Vec<u8>) {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "codec-lz4-in-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::write(&path, input).unwrap();
    let mut a = args.to_vec();
    a.push(path.to_str().unwrap());
    let r = lz4_cli(&a, b"");
    std::fs::remove_file(&path).unwrap();
    r
}
