//! Shared by the benchmark binaries (`cargo bench --bench NAME`, run by `make bench` through
//! bench/run.sh): the data set, interleaved timing, and markdown output. Each binary prints a
//! markdown section on stdout; bench/run.sh assembles bench/RESULTS.md.
#![allow(dead_code)]

use std::path::PathBuf;

// The seedable generator the tests and fuzz targets use.
#[path = "../../tests/common/rng.rs"]
mod rng;
use rng::Rng;

use codec::{Action, Encoder, Status};
use std::time::{Duration, Instant};

/// One named input.
pub struct Sample {
    pub name: String,
    pub data: Vec<u8>,
}

/// The files of `$CODEC_BENCH_DATA` (bench/run.sh unpacks the Silesia subset there), sorted by
/// name; generated text-like data when it is unset or empty. `$CODEC_BENCH_LIMIT` (bytes) caps
/// each file, for quick runs.
pub fn samples() -> Vec<Sample> {
    let limit: usize = std::env::var("CODEC_BENCH_LIMIT").ok().and_then(|v| v.parse().ok()).unwrap_or(usize::MAX);
    let mut out = Vec::new();
    if let Some(dir) = std::env::var_os("CODEC_BENCH_DATA").map(PathBuf::from) {
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file() && !is_hidden(p)).collect())
            .unwrap_or_default();
        paths.sort();
        for p in paths {
            let mut data = std::fs::read(&p).expect("read bench file");
            data.truncate(limit);
            out.push(Sample { name: p.file_name().unwrap().to_string_lossy().into_owned(), data });
        }
    }
    if out.is_empty() {
        out.push(Sample { name: "generated".into(), data: generated(16 << 20) });
    }
    out
}

/// All samples concatenated (the "silesia subset" row).
pub fn concatenated(samples: &[Sample]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.data.iter().copied()).collect()
}

/// Deterministic, moderately compressible data (words, numbers, some noise).
pub fn generated(n: usize) -> Vec<u8> {
    let words = ["alpha", "beta", "gamma", "delta", "codec", "stream", "frame", "block", "window", "flush"];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut v = Vec::with_capacity(n + 16);
    while v.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        match x % 8 {
            0 => v.extend_from_slice(&x.to_le_bytes()),
            1..=2 => v.extend_from_slice(format!("{} ", x % 100_000).as_bytes()),
            _ => {
                v.extend_from_slice(words[(x >> 8) as usize % words.len()].as_bytes());
                v.push(b' ');
            }
        }
    }
    v.truncate(n);
    v
}

/// Number of timed rounds per contender (`$CODEC_BENCH_ROUNDS`, default 5).
pub fn rounds() -> usize {
    std::env::var("CODEC_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(5)
}

/// Time several contenders on the same work, interleaving their rounds (A B A B ...) so
/// machine noise hits all of them alike; returns the best (shortest) round of each. The work
/// is deterministic CPU work, so interference only ever adds time: the minimum is the best
/// estimate of the true cost, and far steadier than the median on a shared machine.
///
/// Each round runs the contenders in a different order (a fixed-seed shuffle, so runs are
/// repeatable). What one contender leaves behind (warm heap pages after a large free, cache
/// contents) changes the next one's cost by up to a third on this kind of VM, and a fixed
/// order, or one that only rotates the starting contender, makes each contender follow the
/// same one in every round: the best round then measures the pairing, not the contender.
pub fn race(contenders: &mut [&mut dyn FnMut()]) -> Vec<Duration> {
    for c in contenders.iter_mut() {
        c(); // warm-up
    }
    let n = rounds();
    let k = contenders.len();
    let mut times = vec![Vec::with_capacity(n); k];
    let mut order: Vec<usize> = (0..k).collect();
    let mut rng = Rng::new(1);
    for _ in 0..n {
        // Fisher-Yates: a different order each round, the same ones every run.
        for j in (1..k).rev() {
            order.swap(j, rng.range(0, j));
        }
        for &i in &order {
            let t = Instant::now();
            contenders[i]();
            times[i].push(t.elapsed());
        }
    }
    times.into_iter().map(|t| t.into_iter().min().expect("at least one round")).collect()
}

/// MB/s (10^6 bytes per second) for `bytes` processed in `d`.
pub fn mbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e6
}

/// A rate for a table: whole MB/s, or two decimals below 10 (slow codecs would show 1 or 2).
pub fn rate(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.0}")
    }
}

/// Print a markdown table.
pub fn table(title: &str, note: &str, header: &[&str], rows: &[Vec<String>]) {
    println!("### {title}\n");
    if !note.is_empty() {
        println!("{note}\n");
    }
    println!("| {} |", header.join(" | "));
    println!("|{}|", header.iter().map(|_| "---").collect::<Vec<_>>().join("|"));
    for r in rows {
        println!("| {} |", r.join(" | "));
    }
    println!();
}

/// Compress all of `data` with FINISH through a `chunk`-byte output buffer (the caller has set
/// the encoder's parameters).
pub fn finish_all(e: &mut Encoder, data: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 2 + chunk);
    let mut buf = vec![0u8; chunk];
    let mut pos = 0;
    loop {
        let s = e.encode(&data[pos..], &mut buf, Action::Finish);
        pos += s.read;
        out.extend_from_slice(&buf[..s.written]);
        if s.result.unwrap() == Status::Ok {
            return out;
        }
    }
}

/// Dot files in the data directory (bench/run.sh's `.unpacked` marker) are not samples.
fn is_hidden(p: &std::path::Path) -> bool {
    p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
}
