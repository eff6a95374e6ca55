//! Parallel paths: speed with CODEC_PARAM_THREADS = 2 against the same path with one thread,
//! on the same data in the same process (`common::race` interleaves the contenders and keeps
//! the best round of each). LZ4 parallel compression is checked for the one-thread bytes and
//! every parallel decode for the original data; the zstd and xz compression rows are timed
//! only (tests/parallel.rs and tests/zstd.rs check those outputs).
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

/// Race a path's one-thread work (`one(0)`), its two-thread work (`two`) and, when `ceiling`,
/// the one-thread work done twice at once by two threads (`one(0)` and `one(1)`, each with
/// its own buffers, sharing nothing but the machine), interleaved round by round so that a
/// noisy neighbour slows all three alike. The ceiling is what this machine gives that work on
/// two cores at best, measured in the same rounds as the path.
/// `two_work`: how many times the one-thread work `two` does (1 for a path, 2 for the copy
/// control, which is its own ceiling and gets no ceiling column; 0 for no ceiling either).
fn measure(name: &str, bytes: usize, one: &(dyn Fn(usize) + Sync), two: &dyn Fn(), two_work: f64) -> Vec<String> {
    let (mut u1, mut u) = (Usage::new(), Usage::new());
    let mut c1 = || u1.run(|| one(0));
    let mut c2 = || u.run(two);
    let mut cc = || {
        std::thread::scope(|s| {
            s.spawn(|| one(1));
            one(0);
        })
    };
    let ceiling = two_work == 1.0;
    let t =
        if ceiling { common::race(&mut [&mut c1, &mut c2, &mut cc]) } else { common::race(&mut [&mut c1, &mut c2]) };
    let (a, b) = (common::mbps(bytes, t[0]), common::mbps(bytes, t[1]) * two_work.max(1.0));
    // The ceiling did the work twice.
    let c = t.get(2).map(|&d| 2.0 * common::mbps(bytes, d) / a);
    let cs = c.map_or("n/a".into(), |c| format!("{c:.2}×"));
    let cost = if u1.cpu > 0.0 { format!("{:.2}", u.cpu / u1.cpu) } else { "n/a".into() };
    eprintln!(
        "parallel: {name}: {} -> {} MB/s ({:.2}x, ceiling {cs}, cores used {}, CPU time x{cost})",
        common::rate(a),
        common::rate(b),
        b / a,
        u.cores()
    );
    vec![name.to_string(), common::rate(a), common::rate(b), format!("{:.2}×", b / a), cs, u.cores(), cost]
}

fn main() {
    let samples = common::samples();
    let all = common::concatenated(&samples);
    let mut rows = Vec::new();

    // Control: plain memory copies, 64 MiB each, one thread against two, the ceiling of this
    // machine's memory bandwidth for work that runs near memory speed.
    if want("memory copy") {
        let n = 64 << 20;
        let src = vec![1u8; n];
        let dst: Vec<std::sync::Mutex<Vec<u8>>> = (0..2).map(|_| std::sync::Mutex::new(vec![0u8; n])).collect();
        let copy = |i: usize| {
            let mut d = dst[i].lock().unwrap_or_else(|e| e.into_inner());
            for _ in 0..4 {
                d.copy_from_slice(&src);
                std::hint::black_box(&d);
            }
        };
        // Two threads copy twice as much: count the bytes of one, at twice the time's worth.
        let both = || {
            std::thread::scope(|s| {
                s.spawn(|| copy(1));
                copy(0);
            })
        };
        rows.push(measure("control: memory copy, 64 MiB 4 times per thread", 4 * n, &copy, &both, 2.0));
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
        let one = |_| drop(encode(Format::Lz4Frame, &p1, data));
        rows.push(measure(&name, data.len(), &one, &|| drop(encode(Format::Lz4Frame, &p2, data)), 1.0));
    }

    // Decoding rows: two output buffers, for the one-thread work and for the ceiling's second
    // thread.
    let outs: Vec<std::sync::Mutex<Vec<u8>>> = (0..2).map(|_| std::sync::Mutex::new(Vec::new())).collect();
    let decode_row = |name: &str, f: Format, comp: &[u8], want: &[u8], room: usize| {
        for o in &outs {
            *o.lock().unwrap_or_else(|e| e.into_inner()) = vec![0u8; want.len()];
        }
        let out = |i: usize| outs[i].lock().unwrap_or_else(|e| e.into_inner());
        decode_into(f, 2, comp, &mut out(0), room);
        assert!(*out(0) == want);
        let one = |i| decode_into(f, 1, comp, &mut out(i), room);
        measure(name, want.len(), &one, &|| decode_into(f, 2, comp, &mut out(0), room), 1.0)
    };

    // LZ4 frame decoding, independent blocks.
    for (bs, room) in [(4 << 20, OUT_CHUNK), (4 << 20, 32 << 20), (64 << 10, OUT_CHUNK)] {
        let name = format!("LZ4 frame decode, {} KiB independent blocks, {} MiB output per call", bs >> 10, room >> 20);
        if !want(&name) {
            continue;
        }
        let p = [(CODEC_PARAM_LEVEL, 1), (CODEC_PARAM_LZ4_BLOCK_SIZE, bs), (CODEC_PARAM_LZ4_LINKED_BLOCKS, 0)];
        let comp = encode(Format::Lz4Frame, &p, &all);
        rows.push(decode_row(&name, Format::Lz4Frame, &comp, &all, room));
    }

    // xz: streams from our multithreaded encoder (blocks record their sizes).
    let xz_data = &all[..all.len().min(24 << 20)];
    let xp = |t: i64| vec![(CODEC_PARAM_LEVEL, 6), (CODEC_PARAM_THREADS, t), (CODEC_PARAM_XZ_BLOCK_SIZE, 3 << 20)];
    if want("xz decode") {
        let xz = encode(Format::Xz, &xp(2), xz_data);
        let name = "xz decode (preset 6, 3 MiB blocks, made by the MT encoder)";
        rows.push(decode_row(name, Format::Xz, &xz, xz_data, OUT_CHUNK));
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
        let one = |_| drop(encode(Format::Zstd, &p0, data));
        rows.push(measure(&name, data.len(), &one, &|| drop(encode(Format::Zstd, &p2, data)), 1.0));
    }

    // xz multithreaded encoder: threads 1 (single-threaded encoder) against 2. Slow (a few
    // MB/s), so no ceiling: it runs above 2x anyway (the MT encoder's blocks compress
    // differently).
    if want("xz compress") {
        let data = &all[..all.len().min(12 << 20)];
        let p1 = [(CODEC_PARAM_LEVEL, 3), (CODEC_PARAM_THREADS, 1)];
        let p2 = [(CODEC_PARAM_LEVEL, 3), (CODEC_PARAM_THREADS, 2), (CODEC_PARAM_XZ_BLOCK_SIZE, 3 << 20)];
        let one = |_| drop(encode(Format::Xz, &p1, data));
        let name = "xz compress, preset 3, threads 1 vs 2 (3 MiB blocks)";
        rows.push(measure(name, data.len(), &one, &|| drop(encode(Format::Xz, &p2, data)), 0.0));
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
            "Input: {input}. MB/s of uncompressed data; best of {} interleaved rounds. Encoders and decoders get the whole input and 4 MiB of output room per call (LZ4 decode rows: as named). Speed-up = threads=2 / threads=1 on this {}-core machine. Cores used = CPU time / wall time of the threads=2 rounds: near 2 when the machine gave both cores, near 1 when other work held one. CPU time threads=2 / threads=1: the parallel path's total work relative to one thread (copies, synchronisation); on two idle cores its speed-up is at most 2 / that. Ceiling: the threads=1 work of the row done twice at once by two threads sharing nothing but the machine, timed in the same interleaved rounds as the row (2 × one-thread time / that time): what this VM gave that work on two cores at best while the row ran. The memory-copy control row has only that.",
            common::rounds(),
            std::thread::available_parallelism().map_or(0, |n| n.get())
        ),
        &[
            "path",
            "threads=1 MB/s",
            "threads=2 MB/s",
            "speed-up",
            "ceiling (same rounds)",
            "cores used (threads=2)",
            "CPU time, threads=2 / threads=1",
        ],
        &rows,
    );
}
