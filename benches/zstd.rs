//! zstd through libcodec's C ABI (the exported `codec_*` functions, as a C program calls them)
//! vs zstd's own API called directly, same process, same data, interleaved rounds.
#![allow(unsafe_code)]

mod common;

use std::ffi::c_void;
use std::ptr;

use codec::abi::*;
use codec::ffi::decoder::*;
use codec::ffi::encoder::*;
use zstd_sys as z;

fn ours_compress(level: i32, src: &[u8], dst: &mut [u8]) -> usize {
    let mut e = ptr::null_mut();
    let (mut r, mut w) = (0usize, 0usize);
    unsafe {
        assert_eq!(codec_encoder_new(CODEC_FORMAT_ZSTD, &mut e), CODEC_OK);
        assert_eq!(codec_encoder_set_param(e, CODEC_PARAM_LEVEL, level as i64), CODEC_OK);
        let st =
            codec_encoder_encode(e, src.as_ptr(), src.len(), &mut r, dst.as_mut_ptr(), dst.len(), &mut w, CODEC_FINISH);
        assert_eq!(st, CODEC_OK);
        codec_encoder_free(e);
    }
    w
}

fn direct_compress(level: i32, src: &[u8], dst: &mut [u8]) -> usize {
    let n = unsafe {
        z::ZSTD_compress(dst.as_mut_ptr() as *mut c_void, dst.len(), src.as_ptr() as *const c_void, src.len(), level)
    };
    assert_eq!(unsafe { z::ZSTD_isError(n) }, 0);
    n
}

/// Decode through our streaming API with `chunk`-sized input and output pieces.
fn ours_decompress(src: &[u8], dst: &mut [u8], chunk: usize) -> usize {
    let mut d = ptr::null_mut();
    let (mut pos, mut out) = (0, 0);
    unsafe {
        assert_eq!(codec_decoder_new(CODEC_FORMAT_ZSTD, &mut d), CODEC_OK);
        loop {
            let (mut r, mut w) = (0usize, 0usize);
            let n = chunk.min(src.len() - pos);
            let m = chunk.min(dst.len() - out);
            let st = codec_decoder_decode(d, src.as_ptr().add(pos), n, &mut r, dst.as_mut_ptr().add(out), m, &mut w);
            assert!(st >= 0, "decode failed: {st}");
            pos += r;
            out += w;
            if pos == src.len() && w == 0 && st != CODEC_MORE_OUTPUT {
                break;
            }
        }
        codec_decoder_free(d);
    }
    out
}

fn direct_decompress(src: &[u8], dst: &mut [u8]) -> usize {
    let n = unsafe {
        z::ZSTD_decompress(dst.as_mut_ptr() as *mut c_void, dst.len(), src.as_ptr() as *const c_void, src.len())
    };
    assert_eq!(unsafe { z::ZSTD_isError(n) }, 0);
    n
}

/// zstd's own streaming decoder with the same chunking, for the chunked row.
fn direct_decompress_stream(src: &[u8], dst: &mut [u8], chunk: usize) -> usize {
    unsafe {
        let d = z::ZSTD_createDStream();
        let (mut pos, mut out) = (0, 0);
        loop {
            let n = chunk.min(src.len() - pos);
            let m = chunk.min(dst.len() - out);
            let mut i = z::ZSTD_inBuffer { src: src.as_ptr().add(pos) as *const c_void, size: n, pos: 0 };
            let mut o = z::ZSTD_outBuffer { dst: dst.as_mut_ptr().add(out) as *mut c_void, size: m, pos: 0 };
            let ret = z::ZSTD_decompressStream(d, &mut o, &mut i);
            assert_eq!(z::ZSTD_isError(ret), 0);
            pos += i.pos;
            out += o.pos;
            if ret == 0 && pos == src.len() {
                break;
            }
        }
        z::ZSTD_freeDStream(d);
        out
    }
}

fn main() {
    let samples = common::samples();
    let all = common::concatenated(&samples);
    let mut comp_rows = Vec::new();
    let mut dec_rows = Vec::new();
    let levels: Vec<i32> = std::env::var("CODEC_BENCH_ZSTD_LEVELS")
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|_| vec![1, 3, 19]);
    let mut control = Vec::new();
    for &level in &levels {
        // level 19 runs at a few MB/s: measure it on the first 8 MiB.
        let data = if level >= 19 { &all[..all.len().min(8 << 20)] } else { &all[..] };
        let mut dst = vec![0u8; unsafe { z::ZSTD_compressBound(data.len()) }];
        let mut dst2 = dst.clone();
        let mut dst3 = dst.clone();
        let (mut a, mut b, mut c) = (0, 0, 0);
        let t = common::race(&mut [
            &mut || a = ours_compress(level, data, &mut dst),
            &mut || b = direct_compress(level, data, &mut dst2),
            // A/A control, as for decompression below.
            &mut || c = direct_compress(level, data, &mut dst3),
        ]);
        assert_eq!(&dst[..a], &dst2[..b], "our frame differs from ZSTD_compress's");
        assert_eq!(&dst2[..b], &dst3[..c]);
        let (ours, direct) = (common::mbps(data.len(), t[0]), common::mbps(data.len(), t[1]));
        comp_rows.push(vec![
            level.to_string(),
            format!("{:.1}", data.len() as f64 / 1e6),
            format!("{:.3}", data.len() as f64 / a as f64),
            format!("{ours:.1}"),
            format!("{direct:.1}"),
            format!("**{:.3}**", ours / direct),
            format!("{:.3}", t[2].as_secs_f64() / t[1].as_secs_f64()),
        ]);

        let comp = dst[..a].to_vec();
        let mut outs = vec![vec![0u8; data.len()]; 5];
        let [o1, o2, o3, o4, o5] = &mut outs[..] else { unreachable!() };
        let t = common::race(&mut [
            &mut || assert_eq!(ours_decompress(&comp, o1, usize::MAX), data.len()),
            &mut || assert_eq!(direct_decompress(&comp, o2), data.len()),
            &mut || assert_eq!(ours_decompress(&comp, o3, 1 << 16), data.len()),
            &mut || assert_eq!(direct_decompress_stream(&comp, o4, 1 << 16), data.len()),
            // A/A control: zstd against itself shows how much of a ratio is machine noise.
            &mut || assert_eq!(direct_decompress(&comp, o5), data.len()),
        ]);
        assert!(outs.iter().all(|o| o == data));
        control.push(format!("level {level}: {:.3}", t[4].as_secs_f64() / t[1].as_secs_f64()));
        let m: Vec<f64> = t.iter().map(|d| common::mbps(data.len(), *d)).collect();
        dec_rows.push(vec![
            level.to_string(),
            format!("{:.1}", m[0]),
            format!("{:.1}", m[1]),
            format!("**{:.3}**", m[0] / m[1]),
            format!("{:.1}", m[2]),
            format!("{:.1}", m[3]),
            format!("{:.3}", m[2] / m[3]),
        ]);
    }
    let names: Vec<&str> = samples.iter().map(|s| s.name.as_str()).collect();
    let control = format!(
        " Noise control (the same `ZSTD_decompress` raced against itself, direct / direct): {}.",
        control.join(", ")
    );
    let note = format!(
        "Data: {} ({:.1} MB). Ours = `codec_encoder_encode` / `codec_decoder_decode` (the C ABI, streaming API); direct = zstd {} called without libcodec. Best of {} interleaved rounds. Target: ours ≥ 0.98 of direct.",
        names.join(", "),
        all.len() as f64 / 1e6,
        codec::zstd::version_string(),
        common::rounds()
    );
    common::table(
        "zstd compression: C ABI streaming vs ZSTD_compress",
        &note,
        &[
            "level",
            "MB in",
            "ratio",
            "ours MB/s",
            "ZSTD_compress MB/s",
            "ours / direct",
            "noise control (direct / direct)",
        ],
        &comp_rows,
    );
    common::table(
        "zstd decompression: C ABI streaming vs zstd direct",
        &format!("Whole buffers: one `codec_decoder_decode` call with the whole input and output vs `ZSTD_decompress`. 64 KiB chunks: input and output given 64 KiB at a time to both ours and `ZSTD_decompressStream`.{control}"),
        &["level", "ours whole MB/s", "ZSTD_decompress MB/s", "ours / direct", "ours 64K MB/s", "ZSTD_decompressStream 64K MB/s", "ours / direct (64K)"],
        &dec_rows,
    );
}
