//! Parallel paths: speed with CODEC_PARAM_THREADS = 2 against the same path with one thread,
//! on the same data in the same process (`common::race` interleaves the contenders and keeps
//! the best round of each). Every parallel result is checked against the one-thread result
//! (same compressed bytes where the format promises it, same decoded bytes).
//!
//! `cargo bench --bench parallel` (CODEC_BENCH_DATA / CODEC_BENCH_LIMIT / CODEC_BENCH_ROUNDS as
//! in benches/common).

mod common;

use codec::abi::*;
use codec::{Decoder, Encoder, Format, Status};

/// Output room per call: encoders, and decoders unless a row says otherwise.
const OUT_CHUNK: usize = 4 << 20;

fn encode(f: Format, params: &[(codec_param, i64)], data: &[u8]) -> Vec<u8> {
    let mut e = Encoder::new(f).unwrap();
    for &(p, v) in params {
        e.set_param(p, v).unwrap();
    }
    common::finish_all(&mut e, data, OUT_CHUNK)
}

/// Decode all of `comp` into `out` (which must be exactly the content size), the whole input
/// per call and at most `room` bytes of output per call.
fn decode_into(f: Format, threads: i64, comp: &[u8], out: &mut [u8], room: usize) {
    let mut d = Decoder::new(Some(f)).unwrap();
    d.set_param(CODEC_PARAM_THREADS, threads).unwrap();
    let (mut pos, mut w) = (0, 0);
    loop {
        let end = (w + room).min(out.len());
        let s = d.decode(&comp[pos..], &mut out[w..end]);
        pos += s.read;
        w += s.written;
        match s.result.unwrap() {
            Status::Ok | Status::FrameEnd if pos == comp.len() && s.written == 0 => break,
            _ => {}
        }
    }
    assert_eq!(w, out.len());
    assert!(d.at_frame_edge());
}

/// CPU seconds this process has used (user + system), from /proc/self/stat (0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    let f: Vec<&str> = s.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Wrap a contender to measure the cores it actually got: CPU time over wall time across all
/// its rounds (close to 2 when two threads ran; lower when the machine was busy).
struct Usage {
    cpu: f64,
    wall: f64,
}

impl Usage {
    fn new() -> Usage {
        Usage { cpu: 0.0, wall: 0.0 }
    }
    fn run(&mut self, f: impl FnOnce()) {
        let (c, t) = (cpu_seconds(), std::time::Instant::now());
        f();
        self.wall += t.elapsed().as_secs_f64();
        self.cpu += cpu_seconds() - c;
    }
    fn cores(&self) -> String {
        if self.wall > 0.0 && self.cpu > 0.0 {
            format!("{:.2}", self.cpu / self.wall)
        } else {
            "n/a".into()
        }
    }
}

/// `$CODEC_BENCH_ONLY`: run only the rows whose name contains it (quick checks).
fn want(name: &str) -> bool {
    std::env::var("CODEC_BENCH_ONLY").map_or(true, |f| name.contains(&f))
}

fn row(name: &str, bytes: usize, t: &[std::time::Duration], u1: &Usage, u: &Usage) -> Vec<String> {
    let (a, b) = (common::mbps(bytes, t[0]), common::mbps(bytes, t[1]));
    let cost = if u1.cpu > 0.0 { format!("{:.2}", u.cpu / u1.cpu) } else { "n/a".into() };
    eprintln!("parallel: {name}: {a:.0} -> {b:.0} MB/s ({:.2}x, cores used {}, CPU time x{cost})", b / a, u.cores());
    vec![name.to_string(), format!("{a:.0}"), format!("{b:.0}"), format!("{:.2}×", b / a), u.cores(), cost]
}

fn main() {
    let samples = common::samples();
    let all = common::concatenated(&samples);
    let mut rows = Vec::new();

    // Control: plain memory copies, one thread against two (each copying its own 64 MiB), the
    // ceiling of this machine's memory bandwidth for work that runs near memory speed.
    if want("memory copy") {
        let n = 64 << 20;
        let src: Vec<Vec<u8>> = (0..2).map(|i| vec![i as u8 + 1; n]).collect();
        let dst: std::cell::RefCell<Vec<Vec<u8>>> = std::cell::RefCell::new((0..2).map(|_| vec![0u8; n]).collect());
        let copy = |t: usize| {
            let mut dst = dst.borrow_mut();
            std::thread::scope(|s| {
                for (d, x) in dst.iter_mut().zip(&src).take(t) {
                    s.spawn(move || {
                        for _ in 0..4 {
                            d.copy_from_slice(x);
                            std::hint::black_box(&d);
                        }
                    });
                }
            })
        };
        let (mut u1, mut u) = (Usage::new(), Usage::new());
        let t = common::race(&mut [&mut || u1.run(|| copy(1)), &mut || u.run(|| copy(2))]);
        // MB/s of bytes copied: threads=2 copies twice as much per round.
        let t = [t[0], t[1] / 2];
        rows.push(row("control: memory copy, 64 MiB per thread (machine's bandwidth)", 4 * n, &t, &u1, &u));
    }

    // Ceilings: the one-thread work of a row run once on one thread, and twice at once on two
    // threads (each its own copy of the whole job, sharing nothing but the machine): what two
    // cores of this machine give that work with no coordination at all.
    {
        let lz4p = [(CODEC_PARAM_LEVEL, 1), (CODEC_PARAM_LZ4_BLOCK_SIZE, 4 << 20), (CODEC_PARAM_LZ4_LINKED_BLOCKS, 0)];
        let zp = [(CODEC_PARAM_LEVEL, 3), (CODEC_PARAM_THREADS, 0)];
        let comp = encode(Format::Lz4Frame, &lz4p, &all);
        let outs: Vec<std::sync::Mutex<Vec<u8>>> =
            (0..2).map(|_| std::sync::Mutex::new(vec![0u8; all.len()])).collect();
        type Job<'a> = Box<dyn Fn(usize) + Sync + 'a>;
        let jobs: [(&str, Job); 3] = [
            (
                "ceiling: LZ4 compress, level 1, one thread per copy",
                Box::new(|_| drop(encode(Format::Lz4Frame, &lz4p, &all))),
            ),
            (
                "ceiling: LZ4 decode, one thread per copy",
                Box::new(|i| {
                    let mut out = outs[i].lock().unwrap_or_else(|e| e.into_inner());
                    decode_into(Format::Lz4Frame, 1, &comp, &mut out, OUT_CHUNK)
                }),
            ),
            (
                "ceiling: zstd compress, level 3, one thread per copy",
                Box::new(|_| drop(encode(Format::Zstd, &zp, &all))),
            ),
        ];
        for (name, job) in jobs {
            if !want(name) {
                continue;
            }
            let (mut u1, mut u) = (Usage::new(), Usage::new());
            let t = common::race(&mut [&mut || u1.run(|| job(0)), &mut || {
                u.run(|| {
                    std::thread::scope(|s| {
                        let j = &job;
                        s.spawn(move || j(1));
                        j(0);
                    })
                })
            }]);
            // Two threads did the work twice.
            rows.push(row(name, all.len(), &[t[0], t[1] / 2], &u1, &u));
        }
    }

    // LZ4 frame compression, independent blocks: must be byte-identical.
    for (level, bs, cap) in
        [(1, 4 << 20, usize::MAX), (1, 64 << 10, usize::MAX), (9, 4 << 20, 32 << 20), (9, 64 << 10, 32 << 20)]
    {
        let name = format!("LZ4 frame compress, level {level}, {} KiB independent blocks", bs >> 10);
        if !want(&name) {
            continue;
        }
        let data = &all[..all.len().min(cap)];
        let p = |t: i64| {
            vec![
                (CODEC_PARAM_LEVEL, level),
                (CODEC_PARAM_LZ4_BLOCK_SIZE, bs),
                (CODEC_PARAM_LZ4_LINKED_BLOCKS, 0),
                (CODEC_PARAM_THREADS, t),
            ]
        };
        let (p1, p2) = (p(1), p(2));
        assert!(
            encode(Format::Lz4Frame, &p1, data) == encode(Format::Lz4Frame, &p2, data),
            "LZ4 parallel output differs"
        );
        let (mut u1, mut u) = (Usage::new(), Usage::new());
        let t = common::race(&mut [&mut || u1.run(|| drop(encode(Format::Lz4Frame, &p1, data))), &mut || {
            u.run(|| drop(encode(Format::Lz4Frame, &p2, data)))
        }]);
        rows.push(row(&name, data.len(), &t, &u1, &u));
    }

    // LZ4 frame decoding, independent blocks.
    for (bs, room) in [(4 << 20, OUT_CHUNK), (4 << 20, 32 << 20), (64 << 10, OUT_CHUNK)] {
        let name = format!("LZ4 frame decode, {} KiB independent blocks, {} MiB output per call", bs >> 10, room >> 20);
        if !want(&name) {
            continue;
        }
        let p = [(CODEC_PARAM_LEVEL, 1), (CODEC_PARAM_LZ4_BLOCK_SIZE, bs), (CODEC_PARAM_LZ4_LINKED_BLOCKS, 0)];
        let comp = encode(Format::Lz4Frame, &p, &all);
        let mut out1 = vec![0u8; all.len()];
        let mut out2 = vec![0u8; all.len()];
        decode_into(Format::Lz4Frame, 2, &comp, &mut out2, room);
        assert!(out2 == all);
        let (mut u1, mut u) = (Usage::new(), Usage::new());
        let t = common::race(&mut [
            &mut || u1.run(|| decode_into(Format::Lz4Frame, 1, &comp, &mut out1, room)),
            &mut || u.run(|| decode_into(Format::Lz4Frame, 2, &comp, &mut out2, room)),
        ]);
        rows.push(row(&name, all.len(), &t, &u1, &u));
    }

    // xz: streams from our multithreaded encoder (blocks record their sizes).
    let xz_data = &all[..all.len().min(24 << 20)];
    let xp = |t: i64| vec![(CODEC_PARAM_LEVEL, 6), (CODEC_PARAM_THREADS, t), (CODEC_PARAM_XZ_BLOCK_SIZE, 3 << 20)];
    if want("xz decode") {
        let xz = encode(Format::Xz, &xp(2), xz_data);
        let mut out1 = vec![0u8; xz_data.len()];
        let mut out2 = vec![0u8; xz_data.len()];
        decode_into(Format::Xz, 2, &xz, &mut out2, OUT_CHUNK);
        assert!(out2 == xz_data);
        let (mut u1, mut u) = (Usage::new(), Usage::new());
        let t =
            common::race(&mut [&mut || u1.run(|| decode_into(Format::Xz, 1, &xz, &mut out1, OUT_CHUNK)), &mut || {
                u.run(|| decode_into(Format::Xz, 2, &xz, &mut out2, OUT_CHUNK))
            }]);
        rows.push(row("xz decode (preset 6, 3 MiB blocks, made by the MT encoder)", xz_data.len(), &t, &u1, &u));
    }

    // zstd workers (zstdmt): nbWorkers 0 against 2, with libcodec's job size (4 MiB at these
    // levels, CODEC_PARAM_ZSTD_JOB_SIZE unset) and with zstd's own (JOB_SIZE 0: 2^(window log
    // + 2) bytes, 8 MiB at level 3, 16 MiB at level 9; docs/performance.md: two 16 MiB jobs of
    // unequal cost cap level 9 at about 1.45x). Each row gives its output size against
    // nbWorkers 0: smaller jobs start with less history.
    for (level, zstds) in [(3, false), (3, true), (9, false), (9, true)] {
        if !want("zstd compress") {
            continue;
        }
        let data = &all[..all.len().min(if level > 3 { 32 << 20 } else { usize::MAX })];
        let p0 = vec![(CODEC_PARAM_LEVEL, level), (CODEC_PARAM_THREADS, 0)];
        let mut p2 = vec![(CODEC_PARAM_LEVEL, level), (CODEC_PARAM_THREADS, 2)];
        if zstds {
            p2.push((CODEC_PARAM_ZSTD_JOB_SIZE, 0));
        }
        let (a, b) = (encode(Format::Zstd, &p0, data).len(), encode(Format::Zstd, &p2, data).len());
        let name = format!(
            "zstd compress, level {level}, nbWorkers 0 vs 2, {} (output {:+.2} %)",
            if zstds { "zstd's own job size" } else { "libcodec's job size" },
            (b as f64 / a as f64 - 1.0) * 100.0
        );
        let (mut u1, mut u) = (Usage::new(), Usage::new());
        let t = common::race(&mut [&mut || u1.run(|| drop(encode(Format::Zstd, &p0, data))), &mut || {
            u.run(|| drop(encode(Format::Zstd, &p2, data)))
        }]);
        rows.push(row(&name, data.len(), &t, &u1, &u));
    }

    // xz multithreaded encoder: threads 1 (single-threaded encoder) against 2.
    if want("xz compress") {
        let data = &all[..all.len().min(12 << 20)];
        let p1 = [(CODEC_PARAM_LEVEL, 3), (CODEC_PARAM_THREADS, 1)];
        let p2 = [(CODEC_PARAM_LEVEL, 3), (CODEC_PARAM_THREADS, 2), (CODEC_PARAM_XZ_BLOCK_SIZE, 3 << 20)];
        let (mut u1, mut u) = (Usage::new(), Usage::new());
        let t = common::race(&mut [&mut || u1.run(|| drop(encode(Format::Xz, &p1, data))), &mut || {
            u.run(|| drop(encode(Format::Xz, &p2, data)))
        }]);
        rows.push(row("xz compress, preset 3, threads 1 vs 2 (3 MiB blocks)", data.len(), &t, &u1, &u));
    }

    let input = if samples.len() == 1 && samples[0].name == "generated" {
        "generated data".to_string()
    } else {
        format!(
            "the Silesia subset concatenated ({:.1} MB; some rows use a prefix, see MB/s basis)",
            all.len() as f64 / 1e6
        )
    };
    common::table(
        "Parallel paths: 1 thread against 2",
        &format!(
            "Input: {input}. MB/s of uncompressed data; best of {} interleaved rounds. Encoders and decoders get the whole input and 4 MiB of output room per call (LZ4 decode rows: as named). Speed-up = threads=2 / threads=1 on this {}-core machine. Cores used = CPU time / wall time of the threads=2 rounds: near 2 when the machine gave both cores, near 1 when other work held one. CPU time threads=2 / threads=1: the parallel path's total work relative to one thread (copies, synchronisation); on two idle cores its speed-up is at most 2 / that.",
            common::rounds(),
            std::thread::available_parallelism().map_or(0, |n| n.get())
        ),
        &["path", "threads=1 MB/s", "threads=2 MB/s", "speed-up", "cores used (threads=2)", "CPU time, threads=2 / threads=1"],
        &rows,
    );
}
