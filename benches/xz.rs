//! xz benchmark: our Rust decoder (through `codec::Decoder`, the path the C API uses) against
//! liblzma's decoder, and our encoder wrapper against liblzma's encoder called directly, on the
//! same data in the same process (`common::race` interleaves the contenders).
//!
//! `cargo bench --bench xz` (CODEC_BENCH_DATA / CODEC_BENCH_LIMIT / CODEC_BENCH_ROUNDS as in
//! benches/common).

mod common;

use codec::abi::*;
use codec::xz::sys::{self, LzAction, LzmaOpts};
use codec::{Decoder, Encoder, Format, Status};

const OUT_CHUNK: usize = 1 << 20;

fn ours_decode(comp: &[u8], expect: usize) -> usize {
    let mut d = Decoder::new(Some(Format::Xz)).unwrap();
    let mut buf = vec![0u8; OUT_CHUNK];
    let (mut pos, mut total) = (0, 0);
    loop {
        let s = d.decode(&comp[pos..], &mut buf);
        pos += s.read;
        total += s.written;
        match s.result.unwrap() {
            Status::FrameEnd | Status::Ok if pos == comp.len() && s.written == 0 => break,
            _ => {}
        }
    }
    assert_eq!(total, expect);
    total
}

fn lib_decode(comp: &[u8], expect: usize) -> usize {
    let mut s = sys::stream_decoder(u64::MAX).unwrap();
    let mut buf = vec![0u8; OUT_CHUNK];
    let (mut pos, mut total) = (0, 0);
    loop {
        let p = s.code(&comp[pos..], &mut buf, LzAction::Finish);
        pos += p.read;
        total += p.written;
        match p.ret {
            sys::LZMA_STREAM_END => break,
            sys::LZMA_OK => {}
            r => panic!("liblzma decode failed: {r}"),
        }
    }
    assert_eq!(total, expect);
    total
}

fn ours_encode(data: &[u8], preset: i64, extreme: bool) -> Vec<u8> {
    let mut e = Encoder::new(Format::Xz).unwrap();
    e.set_param(CODEC_PARAM_LEVEL, preset).unwrap();
    e.set_param(CODEC_PARAM_XZ_EXTREME, extreme as i64).unwrap();
    common::finish_all(&mut e, data, OUT_CHUNK)
}

fn lib_encode(data: &[u8], preset: u32, extreme: bool) -> Vec<u8> {
    let o = LzmaOpts { preset, extreme, ..Default::default() };
    let mut s = sys::stream_encoder(&[], &o, CODEC_CHECK_CRC64 as u32).unwrap();
    let mut out = Vec::with_capacity(data.len() / 2);
    let mut buf = vec![0u8; OUT_CHUNK];
    let mut pos = 0;
    loop {
        let p = s.code(&data[pos..], &mut buf, LzAction::Finish);
        pos += p.read;
        out.extend_from_slice(&buf[..p.written]);
        match p.ret {
            sys::LZMA_STREAM_END => return out,
            sys::LZMA_OK => {}
            r => panic!("liblzma encode failed: {r}"),
        }
    }
}

fn main() {
    let samples = common::samples();
    let data = common::concatenated(&samples);
    let skip_enc = std::env::var_os("CODEC_BENCH_XZ_DECODE_ONLY").is_some();
    let mut drows = Vec::new();
    let mut erows = Vec::new();
    for (name, preset, extreme) in [("1", 1u32, false), ("6", 6, false), ("9e", 9, true)] {
        let comp = lib_encode(&data, preset, extreme);
        // Our encoder makes the same stream as liblzma's (same options, same library).
        let head = &data[..data.len().min(1 << 20)];
        assert!(ours_encode(head, preset as i64, extreme) == lib_encode(head, preset, extreme));
        let n = data.len();
        let t = common::race(&mut [
            &mut || {
                ours_decode(&comp, n);
            },
            &mut || {
                lib_decode(&comp, n);
            },
        ]);
        let (o, l) = (common::mbps(n, t[0]), common::mbps(n, t[1]));
        drows.push(vec![
            name.to_string(),
            format!("{:.3}", comp.len() as f64 / n as f64),
            format!("{o:.1}"),
            format!("{l:.1}"),
            format!("{:.2}×", o / l),
        ]);
        if !skip_enc {
            let t = common::race(&mut [
                &mut || {
                    ours_encode(&data, preset as i64, extreme);
                },
                &mut || {
                    lib_encode(&data, preset, extreme);
                },
            ]);
            let (o, l) = (common::mbps(n, t[0]), common::mbps(n, t[1]));
            erows.push(vec![
                name.to_string(),
                format!("{o:.2}"),
                format!("{l:.2}"),
                format!("{:+.1}%", (t[0].as_secs_f64() / t[1].as_secs_f64() - 1.0) * 100.0),
            ]);
        }
    }
    let note = format!(
        "{} bytes ({} samples concatenated), best of {} interleaved rounds; MB/s of uncompressed data.",
        data.len(),
        samples.len(),
        common::rounds()
    );
    common::table(
        "xz decoding: our Rust decoder vs liblzma 5.2.5",
        &note,
        &["preset", "ratio", "ours MB/s", "liblzma MB/s", "ours / liblzma"],
        &drows,
    );
    if !skip_enc {
        common::table(
            "xz encoding: libcodec's encoder vs liblzma called directly",
            &note,
            &["preset", "ours MB/s", "liblzma MB/s", "overhead"],
            &erows,
        );
    }
}
