//! Parallel paths (CODEC_PARAM_THREADS > 1): LZ4 frame compression, LZ4 frame and .xz
//! decoding. Every parallel result is compared with the sequential path's: the same bytes
//! (encoders), the same output and the same error kind (decoders), with 1, 2 and 4 threads,
//! across parameters, chunkings, tiny buffers, flushes, edge cases and the Silesia subset
//! when present. Also: the shared pool's thread count returns to the baseline, and handles
//! freed with work in flight neither hang nor leak.

mod common;
use common::*;

use std::sync::{Arc, RwLock};

use codec::abi::*;
use codec::{Action, Decoder, Encoder, ErrorKind, Format, Status};

/// Tests that count threads take this for writing; every other test for reading, so no
/// handle of another test is alive while threads are counted.
static SERIAL: RwLock<()> = RwLock::new(());

fn shared() -> std::sync::RwLockReadGuard<'static, ()> {
    SERIAL.read().unwrap_or_else(|e| e.into_inner())
}

fn threads_now() -> usize {
    std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(0)
}

fn silesia(name: &str) -> Option<Vec<u8>> {
    let zip = format!("/work/shared/corpus/silesia/{name}.zip");
    if !std::path::Path::new(&zip).exists() {
        return None;
    }
    let out = std::process::Command::new("unzip").args(["-p", &zip]).output().ok()?;
    (out.status.success() && !out.stdout.is_empty()).then_some(out.stdout)
}

fn mixed(n: usize, seed: u64) -> Vec<u8> {
    let mut v = text(n / 2, seed);
    v.extend_from_slice(&Rng::new(seed + 99).bytes(n / 4));
    let rest = n - v.len();
    v.extend_from_slice(&text(rest, seed + 7));
    v
}

fn decoder(f: Option<Format>, params: &[(codec_param, i64)]) -> Decoder {
    let mut d = Decoder::new(f).unwrap();
    for &(p, v) in params {
        d.set_param(p, v).unwrap_or_else(|err| panic!("param {p} = {v}: {err:?}"));
    }
    d
}

/// Encode `parts` in turn, each with its action, through an output buffer of random sizes
/// in 1..=max_out and input chunks of random sizes in 1..=max_in.
fn encode_script(e: &mut Encoder, parts: &[(&[u8], Action)], rng: &mut Rng, max_in: usize, max_out: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; max_out];
    for &(data, action) in parts {
        let mut pos = 0;
        loop {
            let n = rng.range(0, max_in).min(data.len() - pos);
            let last = pos + n == data.len();
            let act = if last { action } else { Action::Continue };
            let m = rng.range(1, max_out);
            let s = e.encode(&data[pos..pos + n], &mut buf[..m], act);
            pos += s.read;
            out.extend_from_slice(&buf[..s.written]);
            match s.result.expect("encode") {
                Status::Ok if last && pos == data.len() => break,
                _ => {}
            }
        }
    }
    out
}

fn encode_once(e: &mut Encoder, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; data.len() + data.len() / 8 + 1024];
    let s = e.encode(data, &mut out, Action::Finish);
    assert_eq!(s.result.unwrap(), Status::Ok);
    assert_eq!(s.read, data.len());
    out.truncate(s.written);
    out
}

const LZ4: Format = Format::Lz4Frame;

fn lz4_params(level: i64, bs: i64, cc: bool, bc: bool, threads: i64) -> Vec<(codec_param, i64)> {
    vec![
        (CODEC_PARAM_LEVEL, level),
        (CODEC_PARAM_LZ4_BLOCK_SIZE, bs),
        (CODEC_PARAM_LZ4_LINKED_BLOCKS, 0),
        (CODEC_PARAM_LZ4_CONTENT_CHECKSUM, cc as i64),
        (CODEC_PARAM_LZ4_BLOCK_CHECKSUM, bc as i64),
        (CODEC_PARAM_THREADS, threads),
    ]
}

fn with_threads(p: &[(codec_param, i64)], t: i64) -> Vec<(codec_param, i64)> {
    let mut p: Vec<_> = p.iter().copied().filter(|&(q, _)| q != CODEC_PARAM_THREADS).collect();
    p.push((CODEC_PARAM_THREADS, t));
    p
}

#[test]
fn lz4_parallel_compression_is_byte_identical() {
    let _g = shared();
    let data = mixed(1_300_000, 1);
    let mut rng = Rng::new(5);
    let mut i = 0;
    for level in [1, -3, 3, 9, 12] {
        for bs in [64 << 10, 256 << 10, 1 << 20] {
            for (cc, bc) in [(false, false), (true, false), (false, true), (true, true)] {
                i += 1;
                if i % 3 != 0 && level == 12 {
                    continue; // level 12 is slow; a third of its combinations is enough
                }
                let p = lz4_params(level, bs, cc, bc, 1);
                let want = encode_once(&mut encoder(LZ4, &p), &data);
                for t in [2, 4] {
                    let pt = with_threads(&p, t);
                    let got = encode_once(&mut encoder(LZ4, &pt), &data);
                    assert!(got == want, "level {level} block {bs} cc {cc} bc {bc} threads {t}: one call");
                }
                if i % 4 == 0 {
                    let mut e = encoder(LZ4, &with_threads(&p, 2));
                    let got = encode_script(&mut e, &[(&data, Action::Finish)], &mut rng, 300_000, 70_000);
                    assert!(got == want, "level {level} block {bs} cc {cc} bc {bc}: chunked");
                }
            }
        }
    }
}

#[test]
fn lz4_parallel_compression_flush_and_pledge() {
    let _g = shared();
    let data = mixed(600_000, 2);
    let mut rng = Rng::new(9);
    // Flush at random points, then FINISH; concatenated frames; content size pledged.
    let cuts = [0usize, 1, 65_536, 70_000, 200_000, 200_001, 400_000, 600_000];
    let parts: Vec<(&[u8], Action)> = cuts
        .windows(2)
        .enumerate()
        .map(|(i, w)| (&data[w[0]..w[1]], if i % 3 == 2 { Action::Finish } else { Action::Flush }))
        .collect();
    for (level, bs) in [(1, 64 << 10), (9, 256 << 10), (-2, 64 << 10)] {
        let p = lz4_params(level, bs, true, true, 1);
        let mut rng_a = Rng::new(1);
        let want = encode_script(&mut encoder(LZ4, &p), &parts, &mut rng_a, 1 << 20, 1 << 20);
        for t in [1, 2, 4] {
            for (max_in, max_out) in [(1 << 20, 1 << 20), (50_000, 3_000), (7_000, 1)] {
                let mut e = encoder(LZ4, &with_threads(&p, t));
                let got = encode_script(&mut e, &parts, &mut rng, max_in, max_out);
                assert!(got == want, "level {level} threads {t} in {max_in} out {max_out}");
            }
        }
        // Pledged size (recorded in the header).
        let mut a = encoder(LZ4, &p);
        a.set_pledged_size(data.len() as u64).unwrap();
        let want = encode_once(&mut a, &data);
        let mut b = encoder(LZ4, &with_threads(&p, 2));
        b.set_pledged_size(data.len() as u64).unwrap();
        assert!(encode_once(&mut b, &data) == want);
    }
}

#[test]
fn lz4_parallel_compression_edge_cases() {
    let _g = shared();
    for t in [1, 2, 4] {
        for (cc, bc) in [(false, false), (true, true)] {
            let p = lz4_params(1, 64 << 10, cc, bc, 1);
            for data in
                [Vec::new(), b"x".to_vec(), text(65_536, 3), text(65_537, 3), text(3000, 4), Rng::new(3).bytes(200_000)]
            {
                let want = encode_once(&mut encoder(LZ4, &p), &data);
                let got = encode_once(&mut encoder(LZ4, &with_threads(&p, t)), &data);
                assert!(got == want, "threads {t} len {}", data.len());
                // A block larger than the input (4 MiB blocks).
                let p4 = lz4_params(1, 4 << 20, cc, bc, 1);
                let want = encode_once(&mut encoder(LZ4, &p4), &data);
                let got = encode_once(&mut encoder(LZ4, &with_threads(&p4, t)), &data);
                assert!(got == want, "4 MiB blocks, threads {t} len {}", data.len());
            }
        }
    }
    // FLUSH after every block-sized piece, and an empty FLUSH.
    let data = text(400_000, 8);
    let parts: Vec<(&[u8], Action)> = data
        .chunks(65_536)
        .map(|c| (c, Action::Flush))
        .chain([(&[][..], Action::Flush), (&[][..], Action::Finish)])
        .collect();
    let p = lz4_params(3, 64 << 10, true, false, 1);
    let want = encode_script(&mut encoder(LZ4, &p), &parts, &mut Rng::new(1), 1 << 20, 1 << 20);
    let got = encode_script(&mut encoder(LZ4, &with_threads(&p, 4)), &parts, &mut Rng::new(2), 30_000, 1);
    assert!(got == want);
    // Linked blocks with threads: the sequential path, same bytes.
    let mut pl = lz4_params(1, 64 << 10, false, false, 1);
    pl[2].1 = 1;
    let want = encode_once(&mut encoder(LZ4, &pl), &data);
    assert!(encode_once(&mut encoder(LZ4, &with_threads(&pl, 4)), &data) == want);
}

#[test]
fn lz4_parallel_compression_with_dictionary() {
    let _g = shared();
    let dict = Arc::new(codec::Dict::load(&text(50_000, 77)).unwrap());
    let data = text(700_000, 78);
    for level in [1, 9] {
        let p = lz4_params(level, 64 << 10, true, true, 1);
        let mut a = encoder(LZ4, &p);
        a.set_dict(Some(dict.clone())).unwrap();
        let want = encode_once(&mut a, &data);
        let mut b = encoder(LZ4, &with_threads(&p, 2));
        b.set_dict(Some(dict.clone())).unwrap();
        assert!(encode_once(&mut b, &data) == want, "level {level}");
    }
}

/// Decode in one call per `max_in` chunk with up to `max_out` bytes of output per call;
/// returns the output, frame ends and the error (with everything decoded before it).
fn decode_run(
    d: &mut Decoder,
    data: &[u8],
    rng: &mut Rng,
    max_in: usize,
    max_out: usize,
) -> (Vec<u8>, usize, Option<ErrorKind>) {
    let (out, frames, err) = decode_chunked(d, data, rng, max_in, max_out);
    (out, frames, err.map(|e| e.kind))
}

fn decode_big(f: Option<Format>, threads: i64, data: &[u8]) -> (Vec<u8>, usize, Option<ErrorKind>) {
    let mut d = decoder(f, &[(CODEC_PARAM_THREADS, threads)]);
    decode_run(&mut d, data, &mut Rng::new(0), data.len().max(1), 64 << 20)
}

/// Compare parallel decoding with the sequential decoder on `comp`: one big call, and random
/// chunkings with small and tiny output buffers.
fn same_decoding(f: Format, comp: &[u8], what: &str) {
    let want = decode_big(Some(f), 1, comp);
    for t in [2, 4] {
        let got = decode_big(Some(f), t, comp);
        assert!(
            got == want,
            "{what}: threads {t}, one call: got {:?} / want {:?}",
            (got.0.len(), got.1, got.2),
            (want.0.len(), want.1, want.2)
        );
        let auto = decode_big(None, t, comp);
        assert!(auto == want, "{what}: threads {t}, AUTO");
    }
    let mut rng = Rng::new(comp.len() as u64);
    for (max_in, max_out) in [(1 << 20, 1 << 20), (300_000, 5_000), (5_000, 300_000), (70_000, 1)] {
        if max_out == 1 && comp.len() > 300_000 {
            continue;
        }
        let mut d = decoder(Some(f), &[(CODEC_PARAM_THREADS, 2)]);
        let got = decode_run(&mut d, comp, &mut rng, max_in, max_out);
        assert!(
            got == want,
            "{what}: chunked in {max_in} out {max_out}: got {:?} / want {:?}",
            (got.0.len(), got.1, got.2),
            (want.0.len(), want.1, want.2)
        );
    }
}

fn lz4_frame(data: &[u8], level: i64, bs: i64, cc: bool, bc: bool) -> Vec<u8> {
    encode_once(&mut encoder(LZ4, &lz4_params(level, bs, cc, bc, 2)), data)
}

#[test]
fn lz4_parallel_decoding_matches_sequential() {
    let _g = shared();
    let data = mixed(2_000_000, 11);
    for (level, bs, cc, bc) in [
        (1, 64 << 10, false, false),
        (1, 64 << 10, true, true),
        (9, 256 << 10, true, false),
        (-5, 1 << 20, false, true),
        (1, 4 << 20, true, true),
    ] {
        let c = lz4_frame(&data, level, bs, cc, bc);
        same_decoding(LZ4, &c, &format!("lz4 level {level} block {bs} cc {cc} bc {bc}"));
        assert_eq!(decode_big(Some(LZ4), 4, &c).0, data);
    }
    // Content size recorded; concatenated frames with a skippable frame between; a linked frame.
    let mut e = encoder(LZ4, &lz4_params(1, 64 << 10, true, true, 1));
    e.set_pledged_size(data.len() as u64).unwrap();
    let mut c = encode_once(&mut e, &data);
    c.extend_from_slice(&[0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    c.extend(lz4_frame(&data[..300_000], 1, 64 << 10, false, false));
    let mut linked = lz4_params(1, 64 << 10, true, false, 1);
    linked[2].1 = 1;
    c.extend(encode_once(&mut encoder(LZ4, &linked), &data[..500_000]));
    c.extend(lz4_frame(&[], 1, 64 << 10, true, false));
    same_decoding(LZ4, &c, "concatenated");
    let (out, frames, err) = decode_big(Some(LZ4), 2, &c);
    assert_eq!((out.len(), frames, err), (data.len() + 800_000, 4, None));
}

#[test]
fn lz4_parallel_decoding_edge_cases() {
    let _g = shared();
    for data in [Vec::new(), b"a".to_vec(), text(65_536, 1), text(65_537, 2), Rng::new(4).bytes(150_000)] {
        for bs in [64 << 10, 4 << 20] {
            let c = lz4_frame(&data, 1, bs, true, true);
            same_decoding(LZ4, &c, &format!("len {} block {bs}", data.len()));
        }
    }
    // FLUSH between every block: many short blocks.
    let data = text(300_000, 5);
    let mut e = encoder(LZ4, &lz4_params(1, 64 << 10, true, false, 1));
    let parts: Vec<(&[u8], Action)> =
        data.chunks(10_000).map(|c| (c, Action::Flush)).chain([(&[][..], Action::Finish)]).collect();
    let c = encode_script(&mut e, &parts, &mut Rng::new(1), 1 << 20, 1 << 20);
    same_decoding(LZ4, &c, "flushed");
}

#[test]
fn lz4_parallel_decoding_errors() {
    let _g = shared();
    let data = mixed(1_500_000, 21);
    for (cc, bc) in [(true, true), (true, false), (false, false)] {
        let c = lz4_frame(&data, 1, 64 << 10, cc, bc);
        let mut rng = Rng::new(3);
        for k in 0..12 {
            let mut bad = c.clone();
            let at = rng.range(20, c.len() - 1);
            bad[at] ^= 1 << (k % 8);
            same_decoding(LZ4, &bad, &format!("cc {cc} bc {bc}: bit flipped at {at}"));
        }
        // Truncated.
        same_decoding(LZ4, &c[..c.len() - 3], "truncated");
        same_decoding(LZ4, &c[..c.len() / 2], "half");
    }
    // Content size smaller than the content.
    let mut e = encoder(LZ4, &lz4_params(1, 64 << 10, false, false, 1));
    e.set_pledged_size(300_000).unwrap();
    let c = encode_once(&mut e, &data[..300_000]);
    let mut bad = c.clone();
    // Content size field at offset 6 (magic 4, FLG, BD); patch and fix the header checksum.
    bad[6..14].copy_from_slice(&200_000u64.to_le_bytes());
    let hc = ((xxhash_rust::xxh32::xxh32(&bad[4..14], 0) >> 8) & 0xFF) as u8;
    bad[14] = hc;
    same_decoding(LZ4, &bad, "content size too small");
    assert_eq!(decode_big(Some(LZ4), 2, &bad).2, Some(ErrorKind::Corrupt));
}

/// Decode `comp` with a parallel decoder, marshalling (and restoring) or cloning it at random
/// points mid-stream; the output must equal the sequential decoder's.
fn resume_everywhere(f: Format, comp: &[u8], what: &str) {
    let want = decode_big(Some(f), 1, comp);
    let mut rng = Rng::new(77);
    for mode in 0..3 {
        let mut d = decoder(Some(f), &[(CODEC_PARAM_THREADS, 2)]);
        let mut out = Vec::new();
        let mut buf = vec![0u8; 200_000];
        let mut pos = 0;
        let mut frames = 0;
        let mut err = None;
        let mut resumed = 0;
        loop {
            let n = rng.range(0, 400_000).min(comp.len() - pos);
            let m = rng.range(1, buf.len());
            let s = d.decode(&comp[pos..pos + n], &mut buf[..m]);
            pos += s.read;
            out.extend_from_slice(&buf[..s.written]);
            match s.result {
                Err(e) => {
                    err = Some(e.kind);
                    break;
                }
                Ok(Status::FrameEnd) => frames += 1,
                Ok(Status::Ok) if pos == comp.len() && s.written == 0 => break,
                Ok(_) => {}
            }
            if rng.range(0, 2) == 0 {
                resumed += 1;
                d = match mode {
                    0 => Decoder::unmarshal(&d.marshal().unwrap(), None).unwrap(),
                    1 => d.try_clone().unwrap(),
                    _ => {
                        // Keep decoding the original and drop a clone with work in flight.
                        drop(d.try_clone().unwrap());
                        d
                    }
                };
                assert_eq!(d.position().0, pos as u64, "{what}: position after resume");
            }
        }
        assert!(resumed > 0);
        assert!((out.len(), frames, err) == (want.0.len(), want.1, want.2) && out == want.0, "{what}: mode {mode}");
    }
}

#[test]
fn lz4_parallel_decoder_marshals_and_clones_mid_stream() {
    let _g = shared();
    let data = mixed(3_000_000, 31);
    let mut c = lz4_frame(&data, 1, 64 << 10, true, true);
    c.extend(lz4_frame(&data[..1_000_000], 3, 256 << 10, false, false));
    resume_everywhere(LZ4, &c, "lz4");
    let mut bad = c.clone();
    let n = bad.len();
    bad[n / 3] ^= 0x40;
    resume_everywhere(LZ4, &bad, "lz4 corrupt");
    // A marshalled parallel state is a valid state for a sequential build of the decoder: it
    // keeps decoding with the thread count it was made with.
    let mut d = decoder(Some(LZ4), &[(CODEC_PARAM_THREADS, 3)]);
    let mut buf = vec![0u8; 100_000];
    let s = d.decode(&c[..2_000_000], &mut buf);
    assert!(s.result.is_ok());
    let blob = d.marshal().unwrap();
    assert!(codec::state::open(&blob).is_ok());
}

const XZ: Format = Format::Xz;

fn xz_stream(data: &[u8], preset: i64, block: i64, check: i64, threads: i64) -> Vec<u8> {
    let p = [
        (CODEC_PARAM_LEVEL, preset),
        (CODEC_PARAM_THREADS, threads),
        (CODEC_PARAM_XZ_BLOCK_SIZE, block),
        (CODEC_PARAM_XZ_CHECK, check),
    ];
    encode_once(&mut encoder(XZ, &p), data)
}

#[test]
fn xz_parallel_decoding_matches_sequential() {
    let _g = shared();
    let data = mixed(1_500_000, 41);
    for (block, check) in [
        (100_000, CODEC_CHECK_CRC64 as i64),
        (256 << 10, CODEC_CHECK_CRC32 as i64),
        (70_000, CODEC_CHECK_SHA256 as i64),
        (300_000, CODEC_CHECK_NONE as i64),
    ] {
        let c = xz_stream(&data, 1, block, check, 2);
        same_decoding(XZ, &c, &format!("xz block {block} check {check}"));
        assert_eq!(decode_big(Some(XZ), 4, &c).0, data);
    }
    // Concatenated streams with stream padding; a single-threaded stream (no sizes in the
    // block headers: decoded sequentially) in the middle; an empty stream.
    let mut c = xz_stream(&data[..600_000], 0, 50_000, CODEC_CHECK_CRC64 as i64, 2);
    c.extend_from_slice(&[0; 8]);
    c.extend(xz_stream(&data[..300_000], 0, 0, CODEC_CHECK_CRC32 as i64, 1));
    c.extend(xz_stream(&[], 0, 50_000, CODEC_CHECK_CRC64 as i64, 2));
    c.extend(xz_stream(&data[600_000..], 0, 120_000, CODEC_CHECK_CRC64 as i64, 2));
    same_decoding(XZ, &c, "xz concatenated");
    let (out, frames, err) = decode_big(Some(XZ), 2, &c);
    assert_eq!((out.len(), frames, err), (1_800_000, 4, None));
    if let Some(xml) = silesia("xml") {
        let c = xz_stream(&xml, 1, 1 << 20, CODEC_CHECK_CRC64 as i64, 2);
        same_decoding(XZ, &c, "xz silesia xml");
    }
}

#[test]
fn xz_parallel_decoding_edge_cases() {
    let _g = shared();
    for data in [Vec::new(), b"z".to_vec(), text(100_000, 1), Rng::new(2).bytes(100_000)] {
        // One block, and a block larger than the input.
        for block in [100_000, 4 << 20] {
            let c = xz_stream(&data, 0, block, CODEC_CHECK_CRC64 as i64, 2);
            same_decoding(XZ, &c, &format!("xz len {} block {block}", data.len()));
        }
    }
    // Many tiny blocks.
    let data = text(200_000, 3);
    let c = xz_stream(&data, 0, 4096, CODEC_CHECK_CRC32 as i64, 4);
    same_decoding(XZ, &c, "xz 4 KiB blocks");
}

#[test]
fn xz_parallel_decoding_errors() {
    let _g = shared();
    let data = mixed(1_000_000, 51);
    let c = xz_stream(&data, 0, 80_000, CODEC_CHECK_CRC64 as i64, 2);
    let mut rng = Rng::new(8);
    for k in 0..16 {
        let mut bad = c.clone();
        let at = rng.range(12, c.len() - 1);
        bad[at] ^= 1 << (k % 8);
        same_decoding(XZ, &bad, &format!("xz bit flipped at {at}"));
    }
    same_decoding(XZ, &c[..c.len() - 5], "xz truncated");
    same_decoding(XZ, &c[..c.len() / 2], "xz half");
}

#[test]
fn xz_parallel_decoder_marshals_and_clones_mid_stream() {
    let _g = shared();
    let data = mixed(2_000_000, 61);
    let c = xz_stream(&data, 0, 150_000, CODEC_CHECK_CRC64 as i64, 2);
    resume_everywhere(XZ, &c, "xz");
    let mut bad = c.clone();
    let n = bad.len();
    bad[n / 2] ^= 0x10;
    resume_everywhere(XZ, &bad, "xz corrupt");
}

/// Run `name` alone in a child process (so no other test's threads are counted) and check it
/// passed.
fn in_child(name: &str) {
    let _w = SERIAL.write().unwrap_or_else(|e| e.into_inner());
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--test-threads=1", "--nocapture"])
        .env("CODEC_PARALLEL_CHILD", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && text.contains("1 passed"), "child {name} failed:\n{text}");
}

fn is_child() -> bool {
    std::env::var_os("CODEC_PARALLEL_CHILD").is_some()
}

/// Poll until the process has `n` threads: a joined thread may still be listed for a moment
/// while the kernel reaps it, and workers retired by a shrinking pool exit on their own.
fn settle(n: usize) -> usize {
    for _ in 0..200 {
        if threads_now() == n {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    threads_now()
}

#[test]
fn pool_thread_counts() {
    in_child("child_pool_thread_counts");
}

#[test]
fn child_pool_thread_counts() {
    if !is_child() {
        return;
    }
    let base = threads_now();
    assert!(base >= 1);
    let data = mixed(3_000_000, 71);
    let xz = xz_stream(&data, 0, 100_000, CODEC_CHECK_CRC64 as i64, 2);
    let lz = lz4_frame(&data, 1, 64 << 10, true, true);
    // Creating handles and setting threads starts nothing; the first parallel work does.
    let mut e = encoder(LZ4, &lz4_params(1, 64 << 10, false, false, 4));
    let mut d = decoder(Some(XZ), &[(CODEC_PARAM_THREADS, 3)]);
    assert_eq!(threads_now(), base);
    let mut out = vec![0u8; 8 << 20];
    // A whole LZ4 frame in one call with room for it: an in-call round, whose helper threads
    // are joined before the call returns; the pool is not started.
    let mut r = decoder(Some(LZ4), &[(CODEC_PARAM_THREADS, 4)]);
    let s = r.decode(&lz, &mut out);
    assert!(s.result.is_ok() && s.read == lz.len() && out[..s.written] == data[..]);
    assert_eq!(codec::pool::workers(), 0, "an in-call round starts no pool worker");
    assert_eq!(settle(base), base, "an in-call round leaves no thread behind");
    drop(r);
    let s = e.encode(&data, &mut out, Action::Continue);
    assert!(s.result.is_ok());
    assert_eq!(codec::pool::workers(), 3, "threads = 4: three workers and the caller");
    assert_eq!(threads_now(), base + 3);
    let s = d.decode(&xz, &mut out[..1000]);
    assert!(s.result.is_ok());
    assert_eq!(threads_now(), base + 3, "one pool, sized by the largest lease");
    drop(e);
    assert_eq!(settle(base + 2), base + 2, "the pool shrinks to the largest live lease");
    drop(d);
    // Joined before drop returns; the kernel may list an exiting thread a moment longer.
    assert_eq!(settle(base), base, "no worker outlives the last handle");
    assert_eq!(codec::pool::workers(), 0);
    // Many handles, freed mid-stream in every state, repeatedly: back to the baseline each time.
    for round in 0..6 {
        let t = 2 + round % 3;
        let mut e = encoder(LZ4, &lz4_params(9, 64 << 10, true, true, t as i64));
        let mut d1 = decoder(Some(LZ4), &[(CODEC_PARAM_THREADS, t as i64)]);
        let mut d2 = decoder(None, &[(CODEC_PARAM_THREADS, t as i64)]);
        let _ = e.encode(&data, &mut out[..100], Action::Continue);
        // Decoder input in pieces, so that work is queued on the pool (not done in-call) when
        // freed.
        let s = d1.decode(&lz[..40_000], &mut out[..1 << 20]);
        let _ = d1.decode(&lz[s.read..400_000], &mut out[..10]);
        let _ = d2.decode(&xz, &mut out[..10]);
        assert!(codec::pool::workers() >= t - 1, "round {round}: work queued on the pool");
        let c = d2.try_clone().unwrap();
        assert!(threads_now() > base);
        let t0 = std::time::Instant::now();
        match round % 3 {
            0 => drop((e, d1, d2, c)),
            1 => drop((c, d2, d1, e)),
            _ => drop((d1, c, e, d2)),
        }
        assert!(t0.elapsed() < std::time::Duration::from_secs(10));
        assert_eq!(settle(base), base, "round {round}");
    }
}

#[test]
fn handles_freed_with_work_in_flight() {
    in_child("child_handles_freed_with_work_in_flight");
}

#[test]
fn child_handles_freed_with_work_in_flight() {
    if !is_child() {
        return;
    }
    let base = threads_now();
    let data = mixed(8_000_000, 81);
    let xz = xz_stream(&data, 0, 200_000, CODEC_CHECK_CRC64 as i64, 2);
    let lz = lz4_frame(&data, 1, 64 << 10, false, false);
    // Other threads use their own handles while handles with tasks queued are freed.
    let workers: Vec<_> = (0..3)
        .map(|i| {
            let (xz, lz, data) = (xz.clone(), lz.clone(), data.clone());
            std::thread::spawn(move || {
                for k in 0..4 {
                    let mut out = vec![0u8; 1 << 16];
                    if (i + k) % 2 == 0 {
                        let mut d = decoder(Some(XZ), &[(CODEC_PARAM_THREADS, 4)]);
                        let s = d.decode(&xz, &mut out);
                        assert!(s.result.is_ok());
                        assert_eq!(&out[..s.written], &data[..s.written]);
                    } else {
                        let mut d = decoder(Some(LZ4), &[(CODEC_PARAM_THREADS, 2)]);
                        let s = d.decode(&lz, &mut out);
                        assert!(s.result.is_ok());
                        assert_eq!(&out[..s.written], &data[..s.written]);
                    }
                    let mut e = encoder(LZ4, &lz4_params(12, 256 << 10, false, false, 3));
                    let s = e.encode(&data[..3_000_000], &mut out[..1], Action::Continue);
                    assert!(s.result.is_ok());
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(settle(base), base);
    assert_eq!(codec::pool::workers(), 0);
}

#[test]
fn silesia_subset_parallel_equals_sequential() {
    let _g = shared();
    let names = ["xml", "dickens", "ooffice", "osdb", "reymont", "mr"];
    let files: Vec<(&str, Vec<u8>)> = names.iter().filter_map(|n| silesia(n).map(|d| (*n, d))).collect();
    if files.is_empty() {
        eprintln!("Silesia subset not found: skipping");
        return;
    }
    for (name, full) in &files {
        // Keep the suite short: the first 6 MB of each file.
        let data = &full[..full.len().min(6 << 20)];
        for (level, bs) in [(1, 64 << 10), (1, 4 << 20), (9, 256 << 10)] {
            if level == 9 && *name != "xml" {
                continue;
            }
            let p = lz4_params(level, bs, true, true, 1);
            let want = encode_once(&mut encoder(LZ4, &p), data);
            for t in [2, 4] {
                let got = encode_once(&mut encoder(LZ4, &with_threads(&p, t)), data);
                assert!(got == want, "{name}: LZ4 level {level} block {bs} threads {t}");
            }
            for t in [1, 2, 4] {
                let (out, frames, err) = decode_big(Some(LZ4), t, &want);
                assert!(out == data && frames == 1 && err.is_none(), "{name}: LZ4 decode threads {t}");
            }
        }
    }
    // xz (our multithreaded encoder's blocks) on the two smallest files.
    for (name, data) in files.iter().filter(|(n, _)| matches!(*n, "xml" | "reymont")) {
        let c = xz_stream(data, 0, 1 << 20, CODEC_CHECK_CRC64 as i64, 2);
        for t in [1, 2, 4] {
            let (out, frames, err) = decode_big(Some(XZ), t, &c);
            assert!(&out == data && frames == 1 && err.is_none(), "{name}: xz decode threads {t}");
        }
        let mut d = decoder(Some(XZ), &[(CODEC_PARAM_THREADS, 2)]);
        let (out, _, err) = decode_run(&mut d, &c, &mut Rng::new(1), 3 << 20, 100_000);
        assert!(&out == data && err.is_none(), "{name}: xz chunked");
    }
}

#[test]
fn lz4_parallel_decoding_with_dictionary() {
    let _g = shared();
    let dict = Arc::new(codec::Dict::load(&text(60_000, 90)).unwrap());
    let data = text(900_000, 91);
    let mut e = encoder(LZ4, &lz4_params(1, 64 << 10, true, true, 2));
    e.set_dict(Some(dict.clone())).unwrap();
    let c = encode_once(&mut e, &data);
    for t in [1, 2, 4] {
        let mut d = decoder(Some(LZ4), &[(CODEC_PARAM_THREADS, t)]);
        d.set_dict(Some(dict.clone())).unwrap();
        let (out, frames, err) = decode_run(&mut d, &c, &mut Rng::new(t as u64), 400_000, 300_000);
        assert!(out == data && frames == 1 && err.is_none(), "threads {t}");
    }
    // Without the dictionary: the same error as sequentially.
    assert_eq!(decode_big(Some(LZ4), 2, &c).2, decode_big(Some(LZ4), 1, &c).2);
}

#[test]
fn lz4_parallel_decoding_many_tiny_blocks() {
    let _g = shared();
    // A hand-made frame of 4 MiB maximum blocks, each holding one stored byte: batches must end
    // by output room (a batch of 256 KiB of such blocks would need ~200 GiB of room).
    let mut f = vec![0x04, 0x22, 0x4D, 0x18, 0x60, 0x70];
    f.push(((xxhash_rust::xxh32::xxh32(&f[4..6], 0) >> 8) & 0xFF) as u8);
    let n = 60_000;
    for i in 0..n {
        f.extend_from_slice(&(0x8000_0001u32).to_le_bytes());
        f.push(i as u8);
    }
    f.extend_from_slice(&[0, 0, 0, 0]);
    let want: Vec<u8> = (0..n).map(|i| i as u8).collect();
    let (out, frames, err) = decode_big(Some(LZ4), 2, &f);
    assert!(out == want && frames == 1 && err.is_none());
    same_decoding(LZ4, &f, "tiny blocks");
}

/// Decode `comp` in calls that each get all the remaining input and `room` bytes of output.
fn decode_with_room(threads: i64, comp: &[u8], room: usize) -> (Vec<u8>, Option<String>) {
    let mut d = decoder(Some(LZ4), &[(CODEC_PARAM_THREADS, threads)]);
    let (mut out, mut buf, mut pos) = (Vec::new(), vec![0u8; room], 0);
    for _ in 0..100_000 {
        let s = d.decode(&comp[pos..], &mut buf);
        pos += s.read;
        out.extend_from_slice(&buf[..s.written]);
        match s.result {
            Err(e) => return (out, Some(e.msg)),
            Ok(Status::Ok) if pos == comp.len() && s.written == 0 => return (out, None),
            Ok(_) => {}
        }
    }
    panic!("no progress");
}

/// The in-call rounds (blocks decoded straight into the caller's buffer, one more into the
/// decoder's own) report exactly what the sequential decoder reports: same output before the
/// error, same message, same input offset — whichever block of a round fails, and however the
/// output room cuts the rounds.
#[test]
fn lz4_parallel_rounds_fail_exactly_like_the_sequential_decoder() {
    let _g = shared();
    let data = mixed(1_200_000, 31);
    let mut rng = Rng::new(77);
    for (cc, bc) in [(true, true), (false, false)] {
        let c = lz4_frame(&data, 1, 64 << 10, cc, bc);
        // Block starts: walk the frame (7-byte header: magic, FLG, BD, HC).
        let mut starts = Vec::new();
        let mut p = 7;
        loop {
            let hdr = u32::from_le_bytes(c[p..p + 4].try_into().unwrap());
            if hdr == 0 {
                break;
            }
            starts.push(p);
            p += 4 + (hdr & 0x7FFF_FFFF) as usize + 4 * bc as usize;
        }
        assert!(starts.len() > 10);
        let mut cases: Vec<(String, Vec<u8>)> = vec![("intact".into(), c.clone())];
        for k in [0, 1, 5, starts.len() / 2, starts.len() - 2, starts.len() - 1] {
            let s = starts[k];
            let mut bad = c.clone();
            bad[s + 4 + rng.range(0, 2000)] ^= 0x55;
            cases.push((format!("block {k} body"), bad));
            let mut bad = c.clone();
            bad[s + 2] = 0xFF; // block size beyond the maximum
            cases.push((format!("block {k} size"), bad));
        }
        for (what, comp) in &cases {
            for room in [64 << 20, (64 << 10) * 7 / 2, 300_000, 70_000, 1 << 20] {
                let want = decode_with_room(1, comp, room);
                for t in [2, 3] {
                    let got = decode_with_room(t, comp, room);
                    assert_eq!(got.1, want.1, "cc {cc} bc {bc}, {what}, room {room}, threads {t}: message");
                    assert!(got.0 == want.0, "cc {cc} bc {bc}, {what}, room {room}, threads {t}: output");
                }
                if what == "intact" {
                    assert!(want.0 == data && want.1.is_none());
                } else if cc || bc || what.ends_with("size") {
                    assert!(want.1.is_some(), "{what}: the damage is detected");
                }
            }
        }
    }
}
