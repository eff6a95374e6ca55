//! Writes the seed corpus of every fuzz target into `<dir>/<target>/`: valid streams of every
//! format (several parameter sets, dictionaries, flushes, concatenated frames), real
//! marshalled states taken at various points, and dictionaries. Deterministic.
//!
//! usage: gen_corpus DIR

use std::path::Path;
use std::sync::Arc;

use codec::abi::*;
use codec::{Dict, Encoder, Format};
use codec_fuzz::*;

fn encode(f: Format, params: &[(codec_param, i64)], dict: bool, data: &[u8], flush_pct: u64) -> Vec<u8> {
    let mut enc = Encoder::new(f).unwrap();
    for &(p, v) in params {
        enc.set_param(p, v).unwrap_or_else(|e| panic!("{}: {p}={v}: {e}", f.name()));
    }
    if dict {
        enc.set_dict(Some(codec_fuzz::dict())).unwrap();
    }
    encode_script(&mut enc, data, &mut Rng::new(data.len() as u64), flush_pct).unwrap().0
}

struct Out {
    dir: std::path::PathBuf,
    n: usize,
}

impl Out {
    fn put(&mut self, target: &str, bytes: &[u8]) {
        let d = self.dir.join(target);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("seed-{:04}", self.n)), bytes).unwrap();
        self.n += 1;
    }
}

/// The data sets every format is seeded with.
fn datasets() -> Vec<Vec<u8>> {
    let mut r = Rng::new(5);
    vec![
        vec![],
        b"x".to_vec(),
        text(100, 1),
        text(3000, 2),
        (0..600).map(|_| r.next() as u8).collect(),
        vec![b'a'; 5000],
        text(6000, 3),
    ]
}

/// One stream per (format, parameter set): the decode header bytes 5 and 6, the encoder's
/// parameters, whether it used the dictionary.
struct Variant {
    h5: u8,
    h6: u8,
    enc: Vec<(codec_param, i64)>,
    dict: bool,
}

fn variants(f: Format) -> Vec<Variant> {
    let v = |h5, h6, enc: Vec<(codec_param, i64)>, dict| Variant { h5, h6, enc, dict };
    match f {
        Format::Zstd => vec![
            v(14, 0, vec![(CODEC_PARAM_LEVEL, 1)], false),
            v(14, 0, vec![(CODEC_PARAM_LEVEL, 3), (CODEC_PARAM_CHECKSUM, 1)], false),
            v(14, 0, vec![(CODEC_PARAM_LEVEL, 19), (CODEC_PARAM_ZSTD_WINDOW_LOG, 10)], false),
            v(14, 0, vec![(CODEC_PARAM_LEVEL, -5)], false),
            v(14, 0, vec![(CODEC_PARAM_LEVEL, 3)], true),
        ],
        Format::Lz4Frame => vec![
            v(0, 0, vec![], false),
            v(0, 0, vec![(CODEC_PARAM_LZ4_CONTENT_CHECKSUM, 1), (CODEC_PARAM_LZ4_BLOCK_CHECKSUM, 1)], false),
            v(0, 0, vec![(CODEC_PARAM_LEVEL, 9), (CODEC_PARAM_LZ4_LINKED_BLOCKS, 0)], false),
            v(0, 0, vec![], true),
        ],
        Format::Lz4Blocks => {
            let mut out = Vec::new();
            for (h5, h6) in [(0u8, 0u8), (1, 1), (3, 2), (4, 0), (2, 1)] {
                let page = LZ4BLOCKS_PAGES[h5 as usize % 8];
                let width = LZ4BLOCKS_WIDTHS[h6 as usize % 4];
                let p = vec![(CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE, page), (CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH, width)];
                out.push(v(h5, h6, p.clone(), false));
                if h5 == 0 {
                    let mut q = p.clone();
                    q.push((CODEC_PARAM_LZ4BLOCKS_HC_LEVEL, 9));
                    out.push(v(h5, h6, q, true));
                }
            }
            out
        }
        Format::Xz => vec![
            v(12, 0, vec![(CODEC_PARAM_LEVEL, 0)], false),
            v(12, 0, vec![(CODEC_PARAM_LEVEL, 1), (CODEC_PARAM_CHECKSUM, CODEC_CHECK_SHA256 as i64)], false),
            v(12, 0, vec![(CODEC_PARAM_LEVEL, 0), (CODEC_PARAM_CHECKSUM, CODEC_CHECK_NONE as i64)], false),
            v(12, 0, vec![(CODEC_PARAM_LEVEL, 0), (CODEC_PARAM_XZ_DELTA_DIST, 2)], false),
            v(12, 0, vec![(CODEC_PARAM_LEVEL, 0), (CODEC_PARAM_XZ_BCJ_X86, 1)], false),
            v(0, 0, vec![(CODEC_PARAM_LEVEL, 0), (CODEC_PARAM_XZ_DICT_SIZE, 4096)], false),
        ],
        Format::Lzma2Raw => vec![
            v(4, 0, vec![(CODEC_PARAM_LEVEL, 0), (CODEC_PARAM_XZ_DICT_SIZE, 65536)], false),
            v(4, 0, vec![(CODEC_PARAM_LEVEL, 1), (CODEC_PARAM_XZ_DICT_SIZE, 65536)], true),
            v(
                0,
                6,
                vec![(CODEC_PARAM_LEVEL, 0), (CODEC_PARAM_XZ_DICT_SIZE, 4096), (CODEC_PARAM_XZ_DELTA_DIST, 1)],
                false,
            ),
            v(0, 7, vec![(CODEC_PARAM_LEVEL, 0), (CODEC_PARAM_XZ_DICT_SIZE, 4096), (CODEC_PARAM_XZ_BCJ_X86, 1)], false),
        ],
        Format::LzmaAlone => vec![
            v(12, 0, vec![(CODEC_PARAM_LEVEL, 0)], false),
            v(12, 0, vec![(CODEC_PARAM_LEVEL, 1), (CODEC_PARAM_XZ_LC, 0), (CODEC_PARAM_XZ_LP, 2)], false),
            v(0, 0, vec![(CODEC_PARAM_LEVEL, 0), (CODEC_PARAM_XZ_DICT_SIZE, 4096)], false),
        ],
    }
}

fn target_name(f: Format) -> String {
    format!("decode_{}", f.name())
}

/// A decode-target input: header + stream.
fn decode_input(h0: u8, h5: u8, h6: u8, k: usize, stream: &[u8]) -> Vec<u8> {
    let mut v = vec![h0, (k % 12) as u8, (k * 7 % 11) as u8, (k % 5) as u8, k as u8, h5, h6, (k % 3) as u8];
    v.extend_from_slice(stream);
    v
}

fn main() {
    let dir = std::env::args().nth(1).expect("usage: gen_corpus DIR");
    let mut out = Out { dir: Path::new(&dir).to_path_buf(), n: 0 };
    let data = datasets();
    let all = [Format::Zstd, Format::Lz4Frame, Format::Lz4Blocks, Format::Xz, Format::Lzma2Raw, Format::LzmaAlone];
    let mut k = 0usize;
    let mut auto_streams = Vec::new();
    for f in all {
        for (vi, var) in variants(f).into_iter().enumerate() {
            for (i, d) in data.iter().enumerate() {
                let flush = if f == Format::LzmaAlone { 0 } else { [0, 10, 30][i % 3] };
                let z = encode(f, &var.enc, var.dict, d, flush);
                if z.len() > 8192 {
                    continue;
                }
                k += 1;
                let h0 = var.dict as u8 | (((k % 4) as u8) << 1);
                out.put(&target_name(f), &decode_input(h0, var.h5, var.h6, k, &z));
                if matches!(f, Format::Zstd | Format::Lz4Frame | Format::Xz | Format::LzmaAlone) && !var.dict {
                    auto_streams.push(z.clone());
                }
                // Round-trip target: same format, data as input.
                if d.len() <= 4096 && i % 2 == 0 {
                    let fi = all.iter().position(|&x| x == f).unwrap() as u8;
                    let kb = k as u8;
                    let mut rt =
                        vec![fi, kb, kb.wrapping_mul(3), var.h5, var.h6, kb.wrapping_shl(1) | var.dict as u8, kb];
                    rt.extend_from_slice(d);
                    out.put("roundtrip", &rt);
                }
                // Unmarshal target: real states at several points, whole, resealed and as payloads.
                if i % 2 == 1 && (vi < 2 || var.dict) {
                    let setup = Setup::parse(Some(f), &[var.dict as u8, 0, 0, 0, 0, var.h5, var.h6, 0]);
                    for stop in [1usize, z.len() / 2, z.len()] {
                        let Some(mut dec) = setup.decoder() else { continue };
                        let mut buf = vec![0u8; 97];
                        let mut pos = 0;
                        let mut calls = 0;
                        while pos < stop.min(z.len()) && calls < 1000 {
                            let end = (pos + 13).min(stop);
                            let s = dec.decode(&z[pos..end], &mut buf);
                            pos += s.read;
                            calls += 1;
                            if s.result.is_err() {
                                break;
                            }
                        }
                        let Ok(blob) = dec.marshal() else { continue };
                        if blob.len() > 60000 {
                            continue;
                        }
                        let rest = &z[pos..];
                        let dbit = (var.dict as u8) << 2;
                        let fb = f.raw() as u8;
                        out.put("unmarshal", &unmarshal_input(dbit, fb, &blob, rest));
                        out.put("unmarshal", &unmarshal_input(dbit | 1 | 0x80, fb | 0x48, &blob, rest));
                        let env = codec::state::open(&blob).unwrap();
                        let zfp = if f == Format::Zstd { 0x80 } else { 0 };
                        out.put("unmarshal", &unmarshal_input(dbit | 2 | 0x18, fb | zfp, env.payload, rest));
                    }
                }
            }
        }
    }
    // AUTO: single streams, a skippable frame first, and concatenations of different formats.
    let skippable = [0x50u8, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 1, 2, 3];
    for (i, z) in auto_streams.iter().enumerate() {
        if i % 2 == 0 {
            out.put("decode_auto", &decode_input((i % 4) as u8 * 2, 12, 0, i, z));
        }
        if i % 5 == 0 {
            let mut s = skippable.to_vec();
            s.extend_from_slice(z);
            out.put("decode_auto", &decode_input(2, 12, 0, i, &s));
        }
    }
    for (i, w) in auto_streams.chunks(2).enumerate().step_by(3) {
        let cat: Vec<u8> = w.concat();
        if cat.len() <= 8192 {
            out.put("decode_auto", &decode_input(4, 12, 0, i, &cat));
            // AUTO states too.
            let setup = Setup::parse(None, &[0, 0, 0, 0, 0, 12, 0, 0]);
            let mut dec = setup.decoder().unwrap();
            let mut buf = vec![0u8; 50];
            let s = dec.decode(&cat[..cat.len() / 3], &mut buf);
            if let Ok(blob) = dec.marshal() {
                out.put("unmarshal", &unmarshal_input(1, 0, &blob, &cat[s.read..]));
            }
        }
    }
    // Dictionaries: raw content and trained zstd dictionaries, each followed by a stream made
    // with it.
    let samples: Vec<Vec<u8>> = (0..200).map(|i| text(300, 1000 + i)).collect();
    let sizes: Vec<usize> = samples.iter().map(|s| s.len()).collect();
    let flat = samples.concat();
    let mut dicts = vec![text(512, 9), text(40, 10), vec![0u8; 300]];
    for cap in [256usize, 1024, 4096] {
        if let Ok(d) = Dict::train(&flat, &sizes, cap, None) {
            dicts.push(d.bytes().to_vec());
        }
    }
    for (i, dbytes) in dicts.iter().enumerate() {
        let d = Arc::new(Dict::load(dbytes).unwrap());
        let mut enc = Encoder::new(Format::Zstd).unwrap();
        enc.set_dict(Some(d)).unwrap();
        let sample = text(500, i as u64);
        let z = encode_script(&mut enc, &sample, &mut Rng::new(3), 0).unwrap().0;
        let mut v = (dbytes.len() as u16).to_le_bytes().to_vec();
        v.extend_from_slice(dbytes);
        v.push(i as u8);
        v.extend_from_slice(&z);
        out.put("dict_load", &v);
    }
    eprintln!("gen_corpus: {} seeds in {dir}", out.n);
}
