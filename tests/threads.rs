//! 8 threads, each with its own encoders and decoders, sharing one dictionary (a trained zstd
//! dictionary: its digested forms are built lazily by whichever thread needs them first), over
//! every format: the ones that take a dictionary use the shared one, the others run without.
//! Each thread clones and marshals its decoders mid-stream as well.

mod common;
use std::sync::{Arc, Barrier};

use codec::abi::*;
use codec::{Action, Decoder, Dict, Encoder, Format, Status};
use common::*;

const THREADS: usize = 8;
const ALL: [Format; 6] =
    [Format::Zstd, Format::Lz4Frame, Format::Lz4Blocks, Format::Xz, Format::Lzma2Raw, Format::LzmaAlone];

fn takes_dict(f: Format) -> bool {
    matches!(f, Format::Zstd | Format::Lz4Frame | Format::Lz4Blocks | Format::Lzma2Raw)
}

fn encode(f: Format, dict: Option<&Arc<Dict>>, level: i64, data: &[u8]) -> Vec<u8> {
    let mut enc = Encoder::new(f).unwrap();
    enc.set_param(CODEC_PARAM_LEVEL, level).unwrap();
    enc.set_dict(dict.cloned()).unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0u8; 3000];
    let half = data.len() / 2;
    let parts: [(&[u8], Action); 2] = if f == Format::LzmaAlone {
        [(&data[..0], Action::Continue), (data, Action::Finish)]
    } else {
        [(&data[..half], Action::Flush), (&data[half..], Action::Finish)]
    };
    for (mut src, action) in parts {
        loop {
            let s = enc.encode(src, &mut buf, action);
            src = &src[s.read..];
            out.extend_from_slice(&buf[..s.written]);
            if s.result.unwrap() == Status::Ok {
                break;
            }
        }
    }
    out
}

/// Decode in 700-byte pieces; halfway, continue with a clone (odd rounds) or a restored
/// marshalled state (even rounds).
fn decode(f: Format, dict: Option<&Arc<Dict>>, z: &[u8], round: usize) -> Vec<u8> {
    let mut dec = Decoder::new(Some(f)).unwrap();
    dec.set_dict(dict.cloned()).unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1500];
    let mut pos = 0;
    let mut switched = false;
    loop {
        if !switched && pos >= z.len() / 2 {
            switched = true;
            dec = if round % 2 == 1 {
                dec.try_clone().unwrap()
            } else {
                Decoder::unmarshal(&dec.marshal().unwrap(), dict.cloned()).unwrap()
            };
        }
        let n = (z.len() - pos).min(700);
        let s = dec.decode(&z[pos..pos + n], &mut buf);
        pos += s.read;
        out.extend_from_slice(&buf[..s.written]);
        let st = s.result.unwrap_or_else(|e| panic!("{}: {e}", f.name()));
        if st == Status::Ok && pos == z.len() && s.written == 0 {
            break;
        }
    }
    assert!(dec.at_frame_edge(), "{}", f.name());
    out
}

#[test]
fn eight_threads_share_one_dictionary() {
    let samples: Vec<Vec<u8>> = (0..300).map(|i| text(100 + i % 300, 1000 + i as u64)).collect();
    let sizes: Vec<usize> = samples.iter().map(Vec::len).collect();
    let dict = Arc::new(Dict::train(&samples.concat(), &sizes, 4096, None).unwrap());
    assert_ne!(dict.id(), 0);
    let n = if cfg!(debug_assertions) { 30_000 } else { 150_000 };
    let rounds = if cfg!(debug_assertions) { 1 } else { 3 };
    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let dict = dict.clone();
            let start = start.clone();
            std::thread::spawn(move || {
                let data = text(n, 100 + t as u64);
                start.wait();
                for round in 0..rounds {
                    for i in 0..ALL.len() {
                        let f = ALL[(i + t) % ALL.len()];
                        let d = takes_dict(f).then_some(&dict);
                        let level = match f {
                            Format::Zstd => 1 + ((t + round) % 4) as i64,
                            Format::Xz | Format::Lzma2Raw | Format::LzmaAlone => 0,
                            _ => 1,
                        };
                        let z = encode(f, d, level, &data);
                        let back = decode(f, d, &z, round + t);
                        assert!(back == data, "thread {t}: {} round trip differs", f.name());
                        if d.is_none() {
                            let mut out = vec![0u8; n];
                            let w = codec::stream::decompress(Some(f), &z, &mut out, None).unwrap();
                            assert!(w == n && out == data, "thread {t}: {} one-shot differs", f.name());
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a thread failed");
    }
    // Only this test's clones remain: every encoder and decoder released its reference.
    assert_eq!(Arc::strong_count(&dict), 1);
}
