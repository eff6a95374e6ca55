//! Dictionaries: training, loading, use with zstd (and every format as it lands), interop with
//! the zstd CLI, sharing across threads, and marshalled states that need one.

mod common;

use std::sync::Arc;

use codec::abi::*;
use codec::{Action, Decoder, Dict, Encoder, ErrorKind, Format, Status};
use common::{decode_chunked, encode_all, Rng};

/// Records in the style of a Debian package database: small, similar, the case dictionaries
/// exist for. The real corpus (../shared/corpus/records/dpkg-status) is used when present.
fn records() -> Vec<Vec<u8>> {
    let real = std::env::var("CODEC_CORPUS").unwrap_or_else(|_| "../shared/corpus".into()) + "/records/dpkg-status";
    if let Ok(text) = std::fs::read_to_string(real) {
        return text.split("\n\n").filter(|r| !r.is_empty()).map(|r| r.as_bytes().to_vec()).collect();
    }
    let mut r = Rng::new(42);
    let names = ["libc6", "zlib1g", "openssl", "python3", "perl-base", "coreutils", "bash", "grep"];
    (0..600)
        .map(|i| {
            format!(
                "Package: {}{}\nStatus: install ok installed\nPriority: optional\nSection: libs\nInstalled-Size: {}\nMaintainer: Debian Maintainers <debian@lists.example.org>\nArchitecture: amd64\nVersion: {}.{}-{}\nDepends: libc6 (>= 2.{}), zlib1g\nDescription: package number {}\n some longer description text that repeats\n",
                names[i % names.len()], i, r.range(10, 9000), r.range(0, 9), r.range(0, 30), r.range(1, 5), r.range(17, 36), i
            )
            .into_bytes()
        })
        .collect()
}

fn train(recs: &[Vec<u8>], cap: usize) -> Dict {
    let sizes: Vec<usize> = recs.iter().map(|r| r.len()).collect();
    Dict::train(&recs.concat(), &sizes, cap, None).unwrap()
}

fn zstd_with(dict: Option<&Arc<Dict>>, data: &[u8]) -> Vec<u8> {
    let mut e = Encoder::new(Format::Zstd).unwrap();
    e.set_dict(dict.cloned()).unwrap();
    encode_all(&mut e, data)
}

fn decode(dict: Option<&Arc<Dict>>, data: &[u8]) -> Result<Vec<u8>, codec::Error> {
    let mut d = Decoder::new(None).unwrap();
    d.set_dict(dict.cloned()).unwrap();
    let (out, _, err) = decode_chunked(&mut d, data, &mut Rng::new(1), 1 << 16, 1 << 16);
    err.map_or(Ok(out), Err)
}

#[test]
fn train_load_and_use_with_zstd() {
    let recs = records();
    let (train_set, test_set) = recs.split_at(recs.len() * 9 / 10);
    let d = Arc::new(train(train_set, 16 * 1024));
    assert!(d.id() != 0 && d.is_zstd_format());
    assert!(d.bytes().len() <= 16 * 1024 && !d.content().is_empty());
    let reloaded = Dict::load(d.bytes()).unwrap();
    assert_eq!(reloaded.id(), d.id());
    assert_eq!(reloaded.content(), d.content());
    let other = Arc::new(train(&train_set[..train_set.len() / 2], 4096));
    let (mut with, mut without) = (0, 0);
    for rec in test_set {
        let c = zstd_with(Some(&d), rec);
        without += zstd_with(None, rec).len();
        with += c.len();
        let info = codec::formats::frame_info(Format::Zstd, &c).unwrap();
        assert_eq!(info.dict_id, d.id());
        assert_eq!(decode(Some(&d), &c).unwrap(), *rec);
        // without the dictionary, or with another one: a clear dictionary error
        assert_eq!(decode(None, &c).unwrap_err().kind, ErrorKind::Dict);
        assert_eq!(decode(Some(&other), &c).unwrap_err().kind, ErrorKind::Dict);
    }
    assert!(with * 4 < without * 3, "dictionary did not help: {with} vs {without} bytes");
}

#[test]
fn raw_content_dictionaries() {
    let recs = records();
    let raw = Arc::new(Dict::load(&recs[..50].concat()).unwrap());
    assert_eq!(raw.id(), 0);
    assert!(!raw.is_zstd_format());
    let c = zstd_with(Some(&raw), &recs[60]);
    assert_eq!(decode(Some(&raw), &c).unwrap(), recs[60]);
    assert!(c.len() < zstd_with(None, &recs[60]).len());
}

#[test]
fn trainer_failure_modes_are_errors_not_crashes() {
    let one_byte: Vec<u8> = (0..10u8).collect();
    let sizes = vec![1usize; 10];
    let e = Dict::train(&one_byte, &sizes, 1024, None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert!(e.msg.contains("at least 8 samples"), "{}", e.msg);
    let recs = records();
    let sizes: Vec<usize> = recs[..5].iter().map(|r| r.len()).collect();
    assert_eq!(Dict::train(&recs[..5].concat(), &sizes, 4096, None).unwrap_err().kind, ErrorKind::Invalid);
    let sizes: Vec<usize> = recs.iter().map(|r| r.len()).collect();
    assert_eq!(Dict::train(&recs.concat(), &sizes, 100, None).unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(Dict::train(&recs.concat(), &sizes[1..], 4096, None).unwrap_err().kind, ErrorKind::Invalid);
    // identical samples: zstd refuses, we report it
    let same = vec![b"exactly the same sample".to_vec(); 100];
    let sizes: Vec<usize> = same.iter().map(|r| r.len()).collect();
    match Dict::train(&same.concat(), &sizes, 4096, None) {
        Ok(d) => assert!(d.bytes().len() <= 4096),
        Err(e) => assert_eq!(e.kind, ErrorKind::Invalid),
    }
    let bad = codec_train_params { algorithm: 7, ..Default::default() };
    assert_eq!(Dict::train(&recs.concat(), &sizes, 4096, Some(&bad)).unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(Dict::load(&[]).unwrap_err().kind, ErrorKind::Invalid);
    let mut fake = 0xEC30_A437u32.to_le_bytes().to_vec();
    fake.extend_from_slice(b"not really a zstd dictionary");
    assert_eq!(Dict::load(&fake).unwrap_err().kind, ErrorKind::Invalid);
}

#[test]
fn cover_and_fastcover_with_explicit_parameters() {
    let recs = records();
    let sizes: Vec<usize> = recs.iter().map(|r| r.len()).collect();
    let all = recs.concat();
    for p in [
        codec_train_params { algorithm: CODEC_TRAIN_COVER, k: 200, d: 8, level: 3, ..Default::default() },
        codec_train_params {
            algorithm: CODEC_TRAIN_FASTCOVER,
            k: 200,
            d: 6,
            level: 19,
            dict_id: 12345,
            ..Default::default()
        },
        codec_train_params { algorithm: CODEC_TRAIN_FASTCOVER, steps: 4, ..Default::default() },
    ] {
        let d = Dict::train(&all, &sizes, 8192, Some(&p)).unwrap_or_else(|e| panic!("{p:?}: {e}"));
        if p.dict_id != 0 {
            assert_eq!(d.id(), p.dict_id);
        }
        let d = Arc::new(d);
        assert_eq!(decode(Some(&d), &zstd_with(Some(&d), &recs[3])).unwrap(), recs[3]);
    }
}

fn cli(args: &[&str]) -> Option<std::process::Output> {
    std::process::Command::new("zstd").args(args).output().ok().filter(|o| o.status.success())
}

#[test]
fn dictionaries_interoperate_with_the_zstd_cli() {
    if cli(&["--version"]).is_none() {
        eprintln!("zstd CLI not available; skipping");
        return;
    }
    let recs = records();
    let dir = std::env::temp_dir().join(format!("codec-dict-cli-{}", std::process::id()));
    let samples = dir.join("samples");
    std::fs::create_dir_all(&samples).unwrap();
    for (i, r) in recs.iter().enumerate() {
        std::fs::write(samples.join(format!("{i:04}")), r).unwrap();
    }
    let cli_dict = dir.join("cli.dict");
    let mut args: Vec<String> =
        vec!["--train".into(), "-q".into(), "--maxdict=16384".into(), "-o".into(), cli_dict.display().to_string()];
    args.extend(recs.iter().enumerate().map(|(i, _)| samples.join(format!("{i:04}")).display().to_string()));
    let argv: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    cli(&argv).expect("zstd --train");
    // their dictionary, loaded by us, decodes what the CLI compresses with it
    let theirs = Arc::new(Dict::load(&std::fs::read(&cli_dict).unwrap()).unwrap());
    let rec = samples.join("0007");
    let c = cli(&["-q", "-c", "-D", cli_dict.to_str().unwrap(), rec.to_str().unwrap()]).unwrap().stdout;
    assert_eq!(decode(Some(&theirs), &c).unwrap(), recs[7]);
    assert_eq!(codec::formats::frame_info(Format::Zstd, &c).unwrap().dict_id, theirs.id());
    // our dictionary and our frames, decoded by the CLI
    let ours = Arc::new(train(&recs, 16 * 1024));
    let our_dict = dir.join("ours.dict");
    std::fs::write(&our_dict, ours.bytes()).unwrap();
    let frame = dir.join("frame.zst");
    std::fs::write(&frame, zstd_with(Some(&ours), &recs[11])).unwrap();
    let out = cli(&["-q", "-d", "-c", "-D", our_dict.to_str().unwrap(), frame.to_str().unwrap()]).unwrap().stdout;
    assert_eq!(out, recs[11]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn one_dictionary_shared_by_handles_on_8_threads() {
    let recs = Arc::new(records());
    let d = Arc::new(train(&recs, 16 * 1024));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (d, recs) = (d.clone(), recs.clone());
            std::thread::spawn(move || {
                for (i, r) in recs.iter().enumerate().filter(|(i, _)| i % 8 == t) {
                    let mut e = Encoder::new(Format::Zstd).unwrap();
                    e.set_param(CODEC_PARAM_LEVEL, (i % 5) as i64 + 1).unwrap();
                    e.set_dict(Some(d.clone())).unwrap();
                    let c = encode_all(&mut e, r);
                    assert_eq!(decode(Some(&d), &c).unwrap(), *r);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn marshalled_state_requires_the_same_dictionary() {
    let recs = records();
    let d = Arc::new(train(&recs, 16 * 1024));
    let data: Vec<u8> = recs[..200].concat();
    let mut e = Encoder::new(Format::Zstd).unwrap();
    e.set_dict(Some(d.clone())).unwrap();
    e.set_param(CODEC_PARAM_ZSTD_WINDOW_LOG, 16).unwrap();
    let mut blob = Vec::new();
    let mut buf = vec![0u8; 1 << 18];
    for piece in data.chunks(3000) {
        let s = e.encode(piece, &mut buf, Action::Flush);
        assert_eq!(s.result.unwrap(), Status::Ok);
        blob.extend_from_slice(&buf[..s.written]);
    }
    let s = e.encode(&[], &mut buf, Action::Finish);
    blob.extend_from_slice(&buf[..s.written]);
    let mut rng = Rng::new(3);
    for _ in 0..20 {
        let cut = rng.range(1, blob.len() - 1);
        let mut dec = Decoder::new(Some(Format::Zstd)).unwrap();
        dec.set_dict(Some(d.clone())).unwrap();
        let mut out = vec![0u8; data.len()];
        let s = dec.decode(&blob[..cut], &mut out);
        s.result.unwrap();
        let state = dec.marshal().unwrap();
        assert_eq!(Decoder::unmarshal(&state, None).unwrap_err().kind, ErrorKind::Dict);
        let other = Arc::new(Dict::load(b"some other dictionary content").unwrap());
        assert_eq!(Decoder::unmarshal(&state, Some(other)).unwrap_err().kind, ErrorKind::Dict);
        let mut r = Decoder::unmarshal(&state, Some(Arc::new(Dict::load(d.bytes()).unwrap()))).unwrap();
        let (rest, _, err) = decode_chunked(&mut r, &blob[s.read..], &mut rng, 5000, 5000);
        assert!(err.is_none());
        assert_eq!([&out[..s.written], &rest[..]].concat(), data);
    }
}
