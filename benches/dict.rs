//! Dictionaries on small records (a Debian package database, records separated by blank
//! lines): train on 90% of the records, compress each of the other 10% separately, per format,
//! with our trained dictionary, with `zstd --train`'s dictionary of the same size, and without.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use codec::abi::*;
use codec::{Action, Dict, Encoder, Format, Status};

fn records() -> (Vec<Vec<u8>>, String) {
    if let Ok(dir) = std::env::var("CODEC_BENCH_RECORDS") {
        if let Ok(text) = std::fs::read_to_string(format!("{dir}/dpkg-status")) {
            let recs = text.split("\n\n").filter(|r| !r.is_empty()).map(|r| r.as_bytes().to_vec()).collect();
            return (recs, "../shared/corpus/records/dpkg-status".into());
        }
    }
    // Generated stand-in: similar small records.
    let recs = (0..700)
        .map(|i| {
            format!(
                "Package: pkg{i}\nStatus: install ok installed\nPriority: optional\nSection: libs\nInstalled-Size: {}\nMaintainer: Debian Maintainers <debian@example.org>\nArchitecture: amd64\nVersion: 1.{}-{}\nDescription: generated record {i}\n",
                i * 37 % 9000,
                i % 17,
                i % 5
            )
            .into_bytes()
        })
        .collect();
    (recs, "generated records".into())
}

fn compressed_size(format: Format, dict: Option<&Arc<Dict>>, rec: &[u8]) -> usize {
    let mut e = Encoder::new(format).unwrap();
    if format == Format::Lzma2Raw {
        e.set_param(CODEC_PARAM_XZ_DICT_SIZE, 1 << 20).unwrap();
    }
    e.set_dict(dict.cloned()).unwrap();
    let mut out = vec![0u8; rec.len() * 2 + 1024];
    let s = e.encode(rec, &mut out, Action::Finish);
    assert_eq!(s.result.unwrap(), Status::Ok);
    s.written
}

fn zstd_cli_train(train: &[Vec<u8>], size: usize) -> Option<(Vec<u8>, f64)> {
    let dir = std::env::temp_dir().join(format!("codec-bench-dict-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let mut args = vec!["--train".to_string(), "-q".into(), format!("--maxdict={size}"), "-o".into()];
    args.push(dir.join("dict").display().to_string());
    for (i, r) in train.iter().enumerate() {
        let p = dir.join(format!("r{i:05}"));
        std::fs::write(&p, r).ok()?;
        args.push(p.display().to_string());
    }
    let t = Instant::now();
    let ok = Command::new("zstd").args(&args).status().ok()?.success();
    let secs = t.elapsed().as_secs_f64();
    let dict = std::fs::read(dir.join("dict")).ok();
    std::fs::remove_dir_all(&dir).ok();
    ok.then_some((dict?, secs))
}

fn main() {
    let (recs, source) = records();
    let split = recs.len() * 9 / 10;
    let (train, test) = recs.split_at(split);
    let test_bytes: usize = test.iter().map(|r| r.len()).sum();
    let mut rows = Vec::new();
    let mut train_rows = Vec::new();
    for size in [16 * 1024, 64 * 1024] {
        let sizes: Vec<usize> = train.iter().map(|r| r.len()).collect();
        let t = Instant::now();
        let ours = Arc::new(Dict::train(&train.concat(), &sizes, size, None).unwrap());
        let our_secs = t.elapsed().as_secs_f64();
        let cli = zstd_cli_train(train, size);
        let theirs = cli.as_ref().map(|(d, _)| Arc::new(Dict::load(d).unwrap()));
        train_rows.push(vec![
            format!("{} KiB", size / 1024),
            format!("{} B", ours.bytes().len()),
            format!("{:.2}", our_secs),
            cli.as_ref().map_or("—".into(), |(d, s)| format!("{} B, {:.2}", d.len(), s)),
        ]);
        for format in [Format::Zstd, Format::Lz4Frame, Format::Lz4Blocks, Format::Lzma2Raw] {
            let total = |d: Option<&Arc<Dict>>| test.iter().map(|r| compressed_size(format, d, r)).sum::<usize>();
            let (none, with_ours) = (total(None), total(Some(&ours)));
            let with_theirs = theirs.as_ref().map(|d| total(Some(d)));
            rows.push(vec![
                format.name().to_string(),
                format!("{} KiB", size / 1024),
                format!("{none}"),
                format!("{with_ours}"),
                with_theirs.map_or("—".into(), |n| n.to_string()),
                with_theirs.map_or("—".into(), |n| format!("**{:.3}**", with_ours as f64 / n as f64)),
                format!("{:.2}", test_bytes as f64 / with_ours as f64),
                format!("{:.2}", none as f64 / with_ours as f64),
            ]);
        }
    }
    common::table(
        "Dictionaries: small records compressed one by one",
        &format!(
            "{source}: {} records ({} bytes in the test set); trained on the first {split}, each of the last {} compressed separately at default levels. \
             Ours = `codec_dict_train` (fastCover, the `zstd --train` defaults); theirs = the zstd {} CLI's `zstd --train --maxdict=N` on the same records, loaded by us. \
             Target: ours / theirs ≤ 1.02 (zstd).",
            recs.len(),
            test_bytes,
            test.len(),
            Command::new("zstd").arg("--version").output().ok().map_or("?".into(), |o| String::from_utf8_lossy(&o.stdout).split_whitespace().find(|w| w.starts_with('v')).unwrap_or("?").trim_end_matches(",").to_string()),
        ),
        &["format", "dictionary", "bytes, no dict", "bytes, our dict", "bytes, zstd --train dict", "ours / theirs", "ratio with ours", "gain vs no dict"],
        &rows,
    );
    common::table(
        "Dictionary training time",
        "Wall-clock seconds on the training set; the CLI figure includes writing and reading the sample files.",
        &["capacity", "our dictionary", "our seconds", "zstd --train (size, seconds)"],
        &train_rows,
    );
}
