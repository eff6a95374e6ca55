//! Marshalled decoder state: size against the live window, and marshal / unmarshal time
//! against copying the same number of bytes, per format and window size.
//!
//! Each stream is decoded to about 60% of its input (in 64 KiB pieces, with enough output room
//! that little decoded output is left pending), then marshalled and unmarshalled.

mod common;

use std::time::Instant;

use codec::abi::*;
use codec::{Decoder, Encoder, Format, Status};

struct Case {
    name: String,
    format: Format,
    enc: Vec<(codec_param, i64)>,
    dec: Vec<(codec_param, i64)>,
    /// The decoder's window (or dictionary) size: the history a state must keep.
    window: usize,
}

fn case(name: &str, format: Format, enc: &[(codec_param, i64)], dec: &[(codec_param, i64)], window: usize) -> Case {
    Case { name: name.into(), format, enc: enc.to_vec(), dec: dec.to_vec(), window }
}

fn encode(c: &Case, data: &[u8]) -> Vec<u8> {
    let mut e = Encoder::new(c.format).unwrap();
    for &(p, v) in &c.enc {
        e.set_param(p, v).unwrap();
    }
    common::finish_all(&mut e, data, 1 << 20)
}

/// Best time of `f` over the configured rounds.
fn best(mut f: impl FnMut()) -> f64 {
    f();
    (0..common::rounds())
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min)
}

fn main() {
    let all = common::concatenated(&common::samples());
    let data = &all[..all.len().min(24 << 20)];
    let lz4_indep = [(CODEC_PARAM_LZ4_LINKED_BLOCKS, 0), (CODEC_PARAM_LZ4_BLOCK_SIZE, 4 << 20)];
    let cases = [
        case("zstd, window 64 KiB", Format::Zstd, &[(CODEC_PARAM_ZSTD_WINDOW_LOG, 16)], &[], 1 << 16),
        case("zstd, window 1 MiB", Format::Zstd, &[(CODEC_PARAM_ZSTD_WINDOW_LOG, 20)], &[], 1 << 20),
        case("zstd, window 8 MiB", Format::Zstd, &[(CODEC_PARAM_ZSTD_WINDOW_LOG, 23)], &[], 1 << 23),
        case("lz4 frame, linked 64 KiB blocks", Format::Lz4Frame, &[], &[], 1 << 16),
        case("lz4 frame, independent 4 MiB blocks", Format::Lz4Frame, &lz4_indep, &[], 0),
        case("lz4 blocks, 64 KiB pages", Format::Lz4Blocks, &[], &[], 1 << 16),
        case(
            "xz, dictionary 1 MiB",
            Format::Xz,
            &[(CODEC_PARAM_LEVEL, 1), (CODEC_PARAM_XZ_DICT_SIZE, 1 << 20)],
            &[],
            1 << 20,
        ),
        case(
            "xz, dictionary 8 MiB",
            Format::Xz,
            &[(CODEC_PARAM_LEVEL, 1), (CODEC_PARAM_XZ_DICT_SIZE, 1 << 23)],
            &[],
            1 << 23,
        ),
        case(
            "raw LZMA2, dictionary 4 MiB",
            Format::Lzma2Raw,
            &[(CODEC_PARAM_LEVEL, 1), (CODEC_PARAM_XZ_DICT_SIZE, 1 << 22)],
            &[(CODEC_PARAM_XZ_DICT_SIZE, 1 << 22)],
            1 << 22,
        ),
        case(
            ".lzma, dictionary 2 MiB",
            Format::LzmaAlone,
            &[(CODEC_PARAM_LEVEL, 1), (CODEC_PARAM_XZ_DICT_SIZE, 1 << 21)],
            &[],
            1 << 21,
        ),
    ];
    let mut rows = Vec::new();
    for c in &cases {
        let comp = encode(c, data);
        let mut d = Decoder::new(Some(c.format)).unwrap();
        for &(p, v) in &c.dec {
            d.set_param(p, v).unwrap();
        }
        let stop = comp.len() * 6 / 10;
        let mut out = vec![0u8; 8 << 20];
        let mut pos = 0;
        while pos < stop {
            let n = (stop - pos).min(1 << 16);
            let s = d.decode(&comp[pos..pos + n], &mut out);
            s.result.unwrap();
            pos += s.read;
        }
        let (_, produced) = d.position();
        let live = (c.window as u64).min(produced) as usize;
        let state = d.marshal().unwrap();
        let t_marshal = best(|| {
            std::hint::black_box(d.marshal().unwrap());
        });
        let t_unmarshal = best(|| {
            std::hint::black_box(Decoder::unmarshal(&state, None).unwrap());
        });
        // The fair yardstick: copying the state's bytes into a new buffer, as marshal and
        // unmarshal must (fresh memory costs page faults a warm copy does not pay).
        let t_copy = best(|| {
            std::hint::black_box(std::hint::black_box(&state).to_vec());
        });
        // the restored decoder finishes the stream like the original
        let mut r = Decoder::unmarshal(&state, None).unwrap();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for (dec, sink) in [(&mut d, &mut a), (&mut r, &mut b)] {
            let mut p = pos;
            loop {
                let n = (comp.len() - p).min(1 << 16);
                let s = dec.decode(&comp[p..p + n], &mut out);
                p += s.read;
                sink.extend_from_slice(&out[..s.written]);
                if s.result.unwrap() == Status::Ok && p == comp.len() && s.written == 0 {
                    break;
                }
            }
        }
        assert!(a == b, "{}: the restored decoder's output differs", c.name);
        rows.push(vec![
            c.name.clone(),
            format!("{live}"),
            format!("{}", state.len()),
            format!("{:+}", state.len() as i64 - live as i64),
            format!("{:.1}", t_marshal * 1e6),
            format!("{:.1}", t_unmarshal * 1e6),
            format!("{:.1}", t_copy * 1e6),
            format!("{:.1}× / {:.1}×", t_marshal / t_copy, t_unmarshal / t_copy),
        ]);
    }
    common::table(
        "Marshalled decoder state: size and time",
        &format!(
            "Each stream ({:.1} MB of the data set, compressed) is decoded to 60% of its input in 64 KiB pieces, then marshalled. \
             Live window = the history the decoder must keep (window or dictionary size, at most what was produced; 0 for independent LZ4 blocks). \
             Extra = state - live window: buffered input or output (at most a block: zstd up to 128 KiB plus ~40 KiB of entropy tables, \
             LZ4 the partial block and undelivered output, LZMA the pending chunk) plus the container and fields. \
             Times: best of {} runs, µs; marshal = `Decoder::marshal` into a new buffer, unmarshal = `Decoder::unmarshal`, \
             copy = copying the state's bytes into a new buffer (`to_vec`). Targets: size ≤ live window + buffered data + 512 bytes; time within 2× of the copy.",
            data.len() as f64 / 1e6,
            common::rounds()
        ),
        &["stream", "live window B", "state B", "extra B", "marshal µs", "unmarshal µs", "copy µs", "vs copy (m / u)"],
        &rows,
    );
}
