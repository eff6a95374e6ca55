//! Streaming, marshal / unmarshal and clone of the xz-family decoders, through the public
//! wrapper (`codec::Decoder`), and hostile states.

mod xz_common;
use std::sync::Arc;

use codec::abi::*;
use codec::{Decoder, Dict, ErrorKind, Format, Status};
use xz_common::*;

struct Case {
    name: &'static str,
    format: Format,
    params: Vec<(i32, i64)>,
    dict: Option<Arc<Dict>>,
    comp: Vec<u8>,
    data: Vec<u8>,
}

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    let data = text(200_000, 31);
    let mut c = compress(Format::Xz, &[(LEVEL, 6), (CODEC_PARAM_CHECKSUM, 10)], &data[..120_000]);
    c.extend_from_slice(&[0; 4]);
    c.extend(compress(Format::Xz, &[(LEVEL, 1), (CODEC_PARAM_CHECKSUM, 1)], &data[120_000..]));
    v.push(Case {
        name: "xz two streams",
        format: Format::Xz,
        params: vec![],
        dict: None,
        comp: c,
        data: data.clone(),
    });

    let x = x86ish(120_000, 5);
    let c = compress(Format::Xz, &[(CODEC_PARAM_XZ_BCJ_X86, 1), (CODEC_PARAM_XZ_DELTA_DIST, 3), (LEVEL, 2)], &x);
    v.push(Case { name: "xz x86+delta", format: Format::Xz, params: vec![], dict: None, comp: c, data: x });

    let c = compress(
        Format::Xz,
        &[(CODEC_PARAM_THREADS, 2), (CODEC_PARAM_XZ_BLOCK_SIZE, 30_000), (LEVEL, 0), (CODEC_PARAM_CHECKSUM, 4)],
        &data,
    );
    v.push(Case { name: "xz MT blocks", format: Format::Xz, params: vec![], dict: None, comp: c, data: data.clone() });

    let dict = Arc::new(Dict::load(&text(50_000, 99)).unwrap());
    let raw = [(CODEC_PARAM_XZ_DICT_SIZE, 1 << 18), (CODEC_PARAM_XZ_DELTA_DIST, 1)];
    let mut e = encoder(Format::Lzma2Raw, &[raw[0], raw[1], (LEVEL, 6)], Some(dict.clone()));
    let c = encode_with(&mut e, &data[..150_000], codec::Action::Finish, 1 << 16);
    v.push(Case {
        name: "raw LZMA2 + preset dict",
        format: Format::Lzma2Raw,
        params: raw.to_vec(),
        dict: Some(dict),
        comp: c,
        data: data[..150_000].to_vec(),
    });

    let mut c = compress(Format::LzmaAlone, &[(LEVEL, 3)], &data[..100_000]);
    c.extend(compress(Format::LzmaAlone, &[(LEVEL, 3)], &data[100_000..110_000]));
    v.push(Case {
        name: ".lzma two streams",
        format: Format::LzmaAlone,
        params: vec![],
        dict: None,
        comp: c,
        data: data[..110_000].to_vec(),
    });

    // Dictionaries smaller than the data: the window wraps (and is marshalled whole).
    let c = compress(Format::Xz, &[(LEVEL, 6), (CODEC_PARAM_XZ_DICT_SIZE, 1 << 16)], &data);
    v.push(Case {
        name: "xz 64 KiB dictionary (wrapping)",
        format: Format::Xz,
        params: vec![],
        dict: None,
        comp: c,
        data: data.clone(),
    });
    let raw = [(CODEC_PARAM_XZ_DICT_SIZE, 4096)];
    let c = compress(Format::Lzma2Raw, &[raw[0], (LEVEL, 2)], &data[..80_000]);
    v.push(Case {
        name: "raw 4 KiB dictionary (wrapping)",
        format: Format::Lzma2Raw,
        params: raw.to_vec(),
        dict: None,
        comp: c,
        data: data[..80_000].to_vec(),
    });

    let r = Rng(4).bytes(70_000);
    let c = compress(Format::Xz, &[(LEVEL, 6)], &r);
    v.push(Case {
        name: "xz incompressible (uncompressed chunks)",
        format: Format::Xz,
        params: vec![],
        dict: None,
        comp: c,
        data: r,
    });
    v
}

fn new_decoder(c: &Case, auto: bool) -> Decoder {
    decoder(if auto { None } else { Some(c.format) }, &c.params, c.dict.clone())
}

#[test]
fn random_chunking_equals_one_shot() {
    for c in cases() {
        for (k, (inp, out)) in [(0, 0), (1, 0), (0, 1), (1, 1), (3, 7)].into_iter().enumerate() {
            // 1-byte input and output on big streams would be slow; use a prefix.
            let comp = if inp == 1 || out == 1 { &c.comp[..c.comp.len().min(12_000)] } else { &c.comp[..] };
            let mut d = new_decoder(&c, false);
            let o = run_decoder(&mut d, comp, inp, out, &mut Rng(k as u64 + 1));
            assert!(o.err.is_none(), "{} ({inp},{out}): {:?}", c.name, o.err);
            assert!(o.out[..] == c.data[..o.out.len()], "{} ({inp},{out}) output differs", c.name);
            if comp.len() == c.comp.len() {
                assert!(o.ok && o.out == c.data, "{} ({inp},{out}) incomplete", c.name);
            }
        }
        if c.format != Format::Lzma2Raw {
            let mut d = new_decoder(&c, true);
            let o = run_decoder(&mut d, &c.comp, 0, 0, &mut Rng(9));
            assert!(o.ok && o.out == c.data, "{} via AUTO", c.name);
        }
    }
}

/// Decode with random chunking; at random calls replace the decoder by its marshalled and
/// restored copy (or a clone). Returns (output, number of replacements).
fn decode_with_restores(c: &Case, seed: u64, clone: bool, tiny: bool) -> (Vec<u8>, usize) {
    let mut r = Rng(seed);
    let mut d = new_decoder(c, false);
    let (mut pos, mut out) = (0, Vec::new());
    let mut buf = vec![0u8; 1 << 16];
    let mut restores = 0;
    let mut calls = 0;
    let comp = if tiny { &c.comp[..c.comp.len().min(3000)] } else { &c.comp[..] };
    loop {
        let n_in = if tiny { 1 } else { 1 + r.below(600) };
        let n_out = if tiny { 1 + r.below(2) } else { 1 + r.below(2000) };
        let end = (pos + n_in).min(comp.len());
        let s = d.decode(&comp[pos..end], &mut buf[..n_out]);
        pos += s.read;
        out.extend_from_slice(&buf[..s.written]);
        let st = s.result.unwrap_or_else(|e| panic!("{}: {e}", c.name));
        calls += 1;
        if st == Status::Ok && pos == comp.len() {
            break;
        }
        let restore = if tiny { r.below(40) == 0 } else { r.below(3) != 0 };
        if restore {
            let (consumed, produced) = d.position();
            assert_eq!(consumed as usize, pos);
            assert_eq!(produced as usize, out.len());
            d = if clone {
                d.try_clone().unwrap()
            } else {
                let blob = d.marshal().unwrap();
                let back = Decoder::unmarshal(&blob, c.dict.clone()).unwrap();
                assert_eq!(back.position(), (consumed, produced));
                // Marshalling the restored decoder gives the same bytes.
                assert!(back.marshal().unwrap() == blob, "{}: re-marshal differs", c.name);
                back
            };
            restores += 1;
        }
        assert!(calls < 10_000_000);
    }
    if !tiny {
        assert!(d.at_frame_edge(), "{}: not at the end", c.name);
    }
    (out, restores)
}

#[test]
fn marshal_and_clone_at_random_points() {
    for c in cases() {
        for (seed, clone) in [(1, false), (2, true)] {
            let (out, n) = decode_with_restores(&c, seed, clone, false);
            assert!(n >= 50, "{}: only {n} restores", c.name);
            assert!(out == c.data, "{}: output after {n} restores (clone {clone}) differs", c.name);
        }
        let (out, n) = decode_with_restores(&c, 3, false, true);
        assert!(n >= 10);
        assert!(out[..] == c.data[..out.len()], "{}: tiny-step restores differ", c.name);
    }
}

#[test]
fn marshal_size_is_the_live_window() {
    let data = text(20_000, 3);
    // xz -9 has a 64 MiB dictionary; 20 KB of output must not make a big state.
    let c = compress(Format::Xz, &[(LEVEL, 9)], &data);
    let mut d = decoder(Some(Format::Xz), &[], None);
    let mut buf = vec![0u8; 10_000];
    let s = d.decode(&c[..c.len() / 2], &mut buf);
    s.result.unwrap();
    let blob = d.marshal().unwrap();
    assert!(blob.len() < 64 << 10, "state of {} bytes", blob.len());
    // A fresh decoder is tiny.
    let d = decoder(Some(Format::Xz), &[], None);
    assert!(d.marshal().unwrap().len() < 512);
}

/// Seal a modified payload into a container with a valid checksum, so that the format's own
/// validation (not the container checksum) is what must refuse it.
fn reseal(blob: &[u8], payload: &[u8]) -> Vec<u8> {
    let env = codec::state::open(blob).unwrap();
    codec::state::seal(env.format, env.fingerprint, env.dict, env.consumed, env.produced, payload)
}

fn try_state(blob: &[u8], dict: Option<Arc<Dict>>, rest: &[u8]) -> Result<(), ErrorKind> {
    let mut d = Decoder::unmarshal(blob, dict).map_err(|e| e.kind)?;
    // A state that loads must also decode without panicking (errors are fine).
    let mut buf = vec![0u8; 4096];
    let mut pos = 0;
    for _ in 0..10_000 {
        let s = d.decode(&rest[pos..], &mut buf);
        pos += s.read;
        match s.result {
            Err(_) => break,
            Ok(Status::Ok) if pos == rest.len() => break,
            _ => {}
        }
    }
    Ok(())
}

#[test]
fn hostile_states() {
    let data = text(3000, 8);
    for (f, params) in [
        (Format::Xz, vec![(LEVEL, 0), (CODEC_PARAM_CHECKSUM, 10)]),
        (
            Format::Lzma2Raw,
            vec![(CODEC_PARAM_XZ_DICT_SIZE, 4096), (CODEC_PARAM_XZ_BCJ_X86, 1), (CODEC_PARAM_XZ_DELTA_DIST, 2)],
        ),
        (Format::LzmaAlone, vec![(CODEC_PARAM_XZ_DICT_SIZE, 4096), (CODEC_PARAM_XZ_LC, 0), (CODEC_PARAM_XZ_LP, 0)]),
    ] {
        let comp = compress(f, &params, &data);
        let dparams: Vec<_> = params.iter().copied().filter(|p| f == Format::Lzma2Raw && p.0 != LEVEL).collect();
        let mut d = decoder(Some(f), &dparams, None);
        // Small state: only the container header and a partial stream header.
        let s = d.decode(&comp[..5], &mut [0u8; 16]);
        s.result.unwrap();
        let small = d.marshal().unwrap();
        for i in 0..small.len() {
            for x in [0x01u8, 0x80, 0xFF] {
                let mut b = small.clone();
                b[i] ^= x;
                assert_eq!(
                    Decoder::unmarshal(&b, None).err().map(|e| e.kind),
                    Some(ErrorKind::State),
                    "{f:?} small flip {i}"
                );
            }
        }
        for n in 0..small.len() {
            assert_eq!(Decoder::unmarshal(&small[..n], None).err().map(|e| e.kind), Some(ErrorKind::State));
        }
        // Mid-stream state with pending output: flip / truncate the payload and reseal.
        let mut out = vec![0u8; 700];
        let s = d.decode(&comp[5..comp.len() / 2], &mut out);
        let used = 5 + s.read;
        s.result.unwrap();
        let blob = d.marshal().unwrap();
        let payload = codec::state::open(&blob).unwrap().payload.to_vec();
        let rest = &comp[used..];
        assert!(try_state(&blob, None, rest).is_ok());
        let (mut loaded, mut refused) = (0, 0);
        for i in 0..payload.len() {
            for x in [0x01u8, 0xFF] {
                let mut p = payload.clone();
                p[i] ^= x;
                match try_state(&reseal(&blob, &p), None, rest) {
                    Ok(()) => loaded += 1,
                    Err(k) => {
                        // A flip that makes the window larger than the (default) memory limit of
                        // the restoring decoder is refused as over the limit, not as corrupt.
                        assert!(matches!(k, ErrorKind::State | ErrorKind::MemLimit), "{f:?} payload flip {i}: {k:?}");
                        refused += 1;
                    }
                }
            }
        }
        for n in 0..payload.len() {
            let r = try_state(&reseal(&blob, &payload[..n]), None, rest);
            assert_eq!(r, Err(ErrorKind::State), "{f:?} payload truncated to {n}");
        }
        // Hostile lengths: huge values in every 8-byte-aligned field position.
        for i in 0..payload.len().saturating_sub(8) {
            let mut p = payload.clone();
            p[i..i + 8].copy_from_slice(&u64::MAX.to_le_bytes());
            let _ = try_state(&reseal(&blob, &p), None, rest);
            p[i..i + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
            let _ = try_state(&reseal(&blob, &p), None, rest);
        }
        eprintln!("{f:?}: payload of {} bytes; {loaded} flipped states loaded, {refused} refused", payload.len());
    }
    // Random flips of a large state.
    let data = text(300_000, 2);
    let comp = compress(Format::Xz, &[(LEVEL, 6)], &data);
    let mut d = decoder(Some(Format::Xz), &[], None);
    let mut out = vec![0u8; 100_000];
    let s = d.decode(&comp[..comp.len() / 3], &mut out);
    let used = s.read;
    s.result.unwrap();
    let blob = d.marshal().unwrap();
    let payload = codec::state::open(&blob).unwrap().payload.to_vec();
    let mut r = Rng(6);
    for _ in 0..300 {
        let mut p = payload.clone();
        for _ in 0..1 + r.below(3) {
            let i = r.below(p.len());
            p[i] ^= 1 << r.below(8);
        }
        if let Err(k) = try_state(&reseal(&blob, &p), None, &comp[used..]) {
            assert!(matches!(k, ErrorKind::State | ErrorKind::MemLimit), "{k:?}");
        }
        let mut b = blob.clone();
        let i = r.below(b.len());
        b[i] ^= 1 << r.below(8);
        assert_eq!(Decoder::unmarshal(&b, None).err().map(|e| e.kind), Some(ErrorKind::State));
    }
}

#[test]
fn wrong_dictionary_or_format_is_refused() {
    let c = &cases()[3];
    let mut d = new_decoder(c, false);
    let mut buf = vec![0u8; 1000];
    d.decode(&c.comp[..500], &mut buf).result.unwrap();
    let blob = d.marshal().unwrap();
    assert_eq!(Decoder::unmarshal(&blob, None).err().unwrap().kind, ErrorKind::Dict);
    let other = Arc::new(Dict::load(b"another dictionary").unwrap());
    assert_eq!(Decoder::unmarshal(&blob, Some(other)).err().unwrap().kind, ErrorKind::Dict);
    assert!(Decoder::unmarshal(&blob, c.dict.clone()).is_ok());
}

/// On corrupted input too, the outcome (output, error kind, end state) does not depend on
/// how input and output are split.
#[test]
fn corrupted_input_is_chunking_independent() {
    let data = text(4000, 17);
    let streams = [
        (Format::Xz, vec![], compress(Format::Xz, &[(LEVEL, 1), (CODEC_PARAM_CHECKSUM, 4)], &data)),
        (Format::Xz, vec![], compress(Format::Xz, &[(CODEC_PARAM_XZ_BCJ_X86, 1)], &x86ish(4000, 2))),
        (Format::LzmaAlone, vec![], compress(Format::LzmaAlone, &[(LEVEL, 1)], &data)),
        (
            Format::Lzma2Raw,
            vec![(CODEC_PARAM_XZ_DICT_SIZE, 4096)],
            compress(Format::Lzma2Raw, &[(CODEC_PARAM_XZ_DICT_SIZE, 4096)], &data),
        ),
    ];
    let mut r = Rng(123);
    for (f, params, c) in &streams {
        for _ in 0..400 {
            let mut b = c.clone();
            for _ in 0..1 + r.below(3) {
                let i = r.below(b.len());
                b[i] = r.next() as u8;
            }
            if r.below(4) == 0 {
                b.truncate(r.below(b.len()));
            }
            let mut p = params.clone();
            p.push((CODEC_PARAM_MEMLIMIT, 1 << 30));
            let one = decode(*f, &p, &b);
            let mut d = decoder(Some(*f), &p, None);
            let (a, o) = (1 + r.below(50), 1 + r.below(50));
            let many = run_decoder(&mut d, &b, a, o, &mut r);
            assert_eq!(one.out, many.out, "{f:?}: output depends on chunking ({a}, {o})");
            assert_eq!(one.ok, many.ok, "{f:?}: verdict depends on chunking");
            assert_eq!(one.err.map(|e| e.0), many.err.map(|e| e.0), "{f:?}: error kind depends on chunking");
        }
    }
}

/// LZMA2 may reset the dictionary with an uncompressed chunk (control byte 1) in the middle of
/// a stream. The LZMA state keeps the distances of the old dictionary until the next chunk,
/// which must bring new properties and so resets them. A decoder marshalled in between used to
/// be refused on unmarshal ("match distance beyond the window history"; found by the
/// `decode_xz` fuzz target). Every point of such a stream must marshal, restore and continue
/// identically, and liblzma must agree on the stream.
#[test]
fn marshal_after_a_dictionary_reset_by_an_uncompressed_chunk() {
    let raw = [(CODEC_PARAM_XZ_DICT_SIZE, 1 << 16)];
    let a = text(30_000, 41);
    let b = text(3_000, 42);
    let c = text(30_000, 43);
    let sa = compress(Format::Lzma2Raw, &raw, &a);
    let sc = compress(Format::Lzma2Raw, &raw, &c);
    assert_eq!(sa.last(), Some(&0), "an LZMA2 stream ends with its end marker");
    assert!(sc[0] >= 0xE0, "the second stream starts with a dictionary and properties reset");
    let mut stream = sa[..sa.len() - 1].to_vec();
    stream.extend_from_slice(&[1, ((b.len() - 1) >> 8) as u8, (b.len() - 1) as u8]);
    stream.extend_from_slice(&b);
    stream.extend_from_slice(&sc);
    let want: Vec<u8> = [&a[..], &b[..], &c[..]].concat();
    let (lib, ok) = liblzma(Format::Lzma2Raw, &stream, (1 << 16, &[], None));
    assert!(ok && lib == want, "liblzma accepts the spliced stream");

    let reset_at = sa.len() - 1;
    let mut cuts: Vec<usize> = (reset_at - 3..reset_at + 3 + b.len() + 8).step_by(7).collect();
    cuts.extend([reset_at, reset_at + 1, reset_at + 3, reset_at + 3 + b.len(), reset_at + 4 + b.len()]);
    for cut in cuts {
        let mut d = decoder(Some(Format::Lzma2Raw), &raw, None);
        let first = run_decoder(&mut d, &stream[..cut], cut.max(1), 1 << 16, &mut Rng(1));
        assert!(first.err.is_none(), "cut {cut}: {:?}", first.err);
        let state = d.marshal().unwrap_or_else(|e| panic!("cut {cut}: marshal: {e}"));
        let mut r = Decoder::unmarshal(&state, None).unwrap_or_else(|e| panic!("cut {cut}: unmarshal: {e}"));
        let rest = run_decoder(&mut r, &stream[cut..], 997, 1 << 12, &mut Rng(2));
        assert!(rest.err.is_none(), "cut {cut}: {:?}", rest.err);
        let got = [first.out, rest.out].concat();
        assert!(got == want, "cut {cut}: output differs");
    }
}
