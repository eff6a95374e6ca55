//! LZ4 frame: our encoder and decoder (through `codec::Encoder` / `codec::Decoder`, the path
//! the C API takes, with big buffers) against liblz4's own `LZ4F_compressFrame` and
//! `LZ4F_decompress` called directly. Data: `common::samples()` concatenated.
//!
//! `CODEC_BENCH_DATA=/tmp/silesia cargo bench --bench lz4`

mod common;

use std::ffi::{c_int, c_uint, c_ulonglong, c_void};

use codec::abi::*;
use codec::{Action, Decoder, Encoder, Format, Status};

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct FrameInfo {
    block_size_id: c_uint,
    block_mode: c_uint,
    content_checksum_flag: c_uint,
    frame_type: c_uint,
    content_size: c_ulonglong,
    dict_id: c_uint,
    block_checksum_flag: c_uint,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct Prefs {
    frame_info: FrameInfo,
    compression_level: c_int,
    auto_flush: c_uint,
    favor_dec_speed: c_uint,
    reserved: [c_uint; 3],
}

extern "C" {
    fn LZ4F_compressFrame(dst: *mut c_void, cap: usize, src: *const c_void, n: usize, prefs: *const Prefs) -> usize;
    fn LZ4F_compressFrameBound(n: usize, prefs: *const Prefs) -> usize;
    fn LZ4F_isError(code: usize) -> c_uint;
}

/// One frame with LZ4F_compressFrame.
fn lz4f_compress(data: &[u8], prefs: &Prefs, out: &mut Vec<u8>) -> usize {
    // SAFETY: `out` has LZ4F_compressFrameBound bytes; buffers valid for their lengths.
    unsafe {
        let bound = LZ4F_compressFrameBound(data.len(), prefs);
        out.resize(bound, 0);
        let n = LZ4F_compressFrame(out.as_mut_ptr().cast(), out.len(), data.as_ptr().cast(), data.len(), prefs);
        assert_eq!(LZ4F_isError(n), 0);
        n
    }
}

/// Decode one frame with LZ4F_decompress (one context reused, like a long-lived decoder).
fn lz4f_decompress(ctx: lz4_sys::LZ4FDecompressionContext, src: &[u8], dst: &mut [u8]) -> usize {
    let (mut r, mut w) = (0usize, 0usize);
    loop {
        let mut src_size = src.len() - r;
        let mut dst_size = dst.len() - w;
        // SAFETY: valid context; pointers and sizes describe live buffers.
        let hint = unsafe {
            lz4_sys::LZ4F_decompress(
                ctx,
                dst[w..].as_mut_ptr(),
                &mut dst_size,
                src[r..].as_ptr(),
                &mut src_size,
                std::ptr::null(),
            )
        };
        // SAFETY: pure function.
        assert_eq!(unsafe { lz4_sys::LZ4F_isError(hint) }, 0);
        r += src_size;
        w += dst_size;
        if hint == 0 {
            return w;
        }
    }
}

fn ours_compress(data: &[u8], params: &[(codec_param, i64)], out: &mut Vec<u8>) -> usize {
    let mut e = Encoder::new(Format::Lz4Frame).unwrap();
    for &(p, v) in params {
        e.set_param(p, v).unwrap();
    }
    e.set_pledged_size(data.len() as u64).unwrap();
    out.resize(codec::formats::compress_bound(Format::Lz4Frame, data.len()) + 64, 0);
    let s = e.encode(data, out, Action::Finish);
    assert_eq!(s.result.unwrap(), Status::Ok);
    s.written
}

fn ours_decompress(src: &[u8], dst: &mut [u8]) -> usize {
    let mut d = Decoder::new(Some(Format::Lz4Frame)).unwrap();
    let s = d.decode(src, dst);
    assert_eq!(s.result.unwrap(), Status::FrameEnd);
    s.written
}

const DEC_REPEAT: usize = 4;

/// (name, our parameters, the same frame's LZ4F preferences)
type Config = (String, Vec<(codec_param, i64)>, Prefs);

fn main() {
    let samples = common::samples();
    let data = common::concatenated(&samples);
    let n = data.len();
    let mut rows = Vec::new();
    let mut ctx = lz4_sys::LZ4FDecompressionContext(std::ptr::null_mut());
    // SAFETY: out-pointer valid.
    unsafe { lz4_sys::LZ4F_createDecompressionContext(&mut ctx, 100) };

    // (name, our params, LZ4F prefs): the defaults (64 KiB linked blocks), and the lz4 CLI's
    // defaults (4 MiB independent blocks with a content checksum).
    let configs: Vec<Config> = [1i64, 9]
        .iter()
        .flat_map(|&level| {
            let mut p = Prefs { compression_level: level as i32, ..Default::default() };
            p.frame_info.content_size = n as u64;
            let mut cli = p;
            cli.frame_info.block_size_id = 7;
            cli.frame_info.block_mode = 1;
            cli.frame_info.content_checksum_flag = 1;
            [
                (format!("level {level}, 64 KiB linked"), vec![(CODEC_PARAM_LEVEL, level)], p),
                (
                    format!("level {level}, 4 MiB independent, checksum"),
                    vec![
                        (CODEC_PARAM_LEVEL, level),
                        (CODEC_PARAM_LZ4_BLOCK_SIZE, 4 << 20),
                        (CODEC_PARAM_LZ4_LINKED_BLOCKS, 0),
                        (CODEC_PARAM_CHECKSUM, 1),
                    ],
                    cli,
                ),
            ]
        })
        .collect();

    for (name, params, prefs) in &configs {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut na = 0;
        let mut nb = 0;
        let t = common::race(&mut [&mut || na = ours_compress(&data, params, &mut a), &mut || {
            nb = lz4f_compress(&data, prefs, &mut b)
        }]);
        // Decode the frame our encoder made (it decodes with LZ4F too).
        let comp = a[..na].to_vec();
        // One output buffer for both, so that neither gets luckier memory.
        let out = std::cell::RefCell::new(vec![0u8; n]);
        // Decoding is fast: each round decodes the frame DEC_REPEAT times, to be less
        // sensitive to scheduling noise.
        let d = common::race(&mut [
            &mut || (0..DEC_REPEAT).for_each(|_| assert_eq!(ours_decompress(&comp, &mut out.borrow_mut()), n)),
            &mut || (0..DEC_REPEAT).for_each(|_| assert_eq!(lz4f_decompress(ctx, &comp, &mut out.borrow_mut()), n)),
        ]);
        assert!(*out.borrow() == data);
        let (ea, eb) = (common::mbps(n, t[0]), common::mbps(n, t[1]));
        let (da, db) = (common::mbps(n * DEC_REPEAT, d[0]), common::mbps(n * DEC_REPEAT, d[1]));
        rows.push(vec![
            name.clone(),
            format!("{:.3} / {:.3}", n as f64 / na as f64, n as f64 / nb as f64),
            format!("{ea:.0}"),
            format!("{eb:.0}"),
            format!("{:.3}", ea / eb),
            format!("{da:.0}"),
            format!("{db:.0}"),
            format!("{:.3}", da / db),
        ]);
    }
    // SAFETY: created above, freed once.
    unsafe { lz4_sys::LZ4F_freeDecompressionContext(ctx) };
    common::table(
        &format!("LZ4 frame vs liblz4 ({} MB: {})", n / 1_000_000, samples.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")),
        &format!(
            "MB/s of uncompressed data, best of {} interleaved rounds (a decode round decodes the frame {DEC_REPEAT} times). Encoder: `codec::Encoder` (FINISH, one call) vs `LZ4F_compressFrame`; decoder: `codec::Decoder` (the Rust frame parser) vs `LZ4F_decompress`, both into one big buffer. Both decoders decode the frame our encoder made.",
            common::rounds()
        ),
        &["frame", "ratio ours / LZ4F", "encode ours", "encode LZ4F", "enc ours/LZ4F", "decode ours", "decode LZ4F", "dec ours/LZ4F"],
        &rows,
    );
}
