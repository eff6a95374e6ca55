//! Interoperability with the real `xz` command-line tool (skipped when it is not installed):
//! streams it makes decode identically with our decoders, and it reads what our encoders write.

mod xz_common;
use std::io::Write;
use std::process::{Command, Stdio};

use codec::abi::*;
use codec::Format;
use xz_common::*;

fn run_xz(args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("xz")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn xz");
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "xz {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn cli_streams_decode_identically() {
    if !xz_available() {
        eprintln!("xz not installed; skipping");
        return;
    }
    let data = text(400_000, 12);
    let x86 = x86ish(200_000, 3);
    let cases: Vec<(Vec<&str>, Format, Vec<(i32, i64)>, &[u8])> = vec![
        (vec!["-c", "--format=xz"], Format::Xz, vec![], &data),
        (vec!["-c", "-0"], Format::Xz, vec![], &data),
        (vec!["-c", "-9e", "--check=sha256"], Format::Xz, vec![], &data),
        (vec!["-c", "--check=crc32", "--x86", "--lzma2=preset=6"], Format::Xz, vec![], &x86),
        (vec!["-c", "--check=none", "--delta=dist=4", "--lzma2=preset=1"], Format::Xz, vec![], &data),
        (vec!["-c", "-T2", "--block-size=100000"], Format::Xz, vec![], &data),
        (vec!["-c", "--format=lzma"], Format::LzmaAlone, vec![], &data),
        (vec!["-c", "--format=lzma", "-9e"], Format::LzmaAlone, vec![], &data),
        (
            vec!["-c", "--format=raw", "--lzma2=dict=1MiB"],
            Format::Lzma2Raw,
            vec![(CODEC_PARAM_XZ_DICT_SIZE, 1 << 20)],
            &data,
        ),
        (
            vec!["-c", "--format=raw", "--x86", "--lzma2=dict=64KiB,lc=0,lp=2,pb=2"],
            Format::Lzma2Raw,
            vec![(CODEC_PARAM_XZ_DICT_SIZE, 1 << 16), (CODEC_PARAM_XZ_BCJ_X86, 1)],
            &x86,
        ),
        (
            vec!["-c", "--format=raw", "--delta=dist=4", "--lzma2=dict=256KiB"],
            Format::Lzma2Raw,
            vec![(CODEC_PARAM_XZ_DICT_SIZE, 1 << 18), (CODEC_PARAM_XZ_DELTA_DIST, 4)],
            &data,
        ),
    ];
    for (args, f, params, input) in cases {
        let c = run_xz(&args, input);
        let mut d = decoder(Some(f), &params, None);
        let o = run_decoder(&mut d, &c, 0, 0, &mut Rng(5));
        assert!(o.err.is_none(), "xz {args:?}: {:?}", o.err);
        assert!(o.ok && o.out == input, "xz {args:?}: output differs");
    }
    // Concatenation of CLI streams with padding (xz writes none, we add some).
    let mut c = run_xz(&["-c", "-1"], &data[..1000]);
    c.extend_from_slice(&[0; 12]);
    c.extend(run_xz(&["-c", "-1"], &data[1000..]));
    let o = decode(Format::Xz, &[], &c);
    assert!(o.ok && o.out == data);
}

#[test]
fn cli_reads_our_streams() {
    if !xz_available() {
        eprintln!("xz not installed; skipping");
        return;
    }
    let data = text(300_000, 13);
    let x86 = x86ish(100_000, 4);
    let cases: Vec<(Format, Vec<(i32, i64)>, Vec<&str>, &[u8])> = vec![
        (Format::Xz, vec![], vec!["-dc"], &data),
        (Format::Xz, vec![(LEVEL, 9), (CODEC_PARAM_XZ_EXTREME, 1), (CODEC_PARAM_CHECKSUM, 10)], vec!["-dc"], &data),
        (Format::Xz, vec![(CODEC_PARAM_XZ_BCJ_X86, 1), (CODEC_PARAM_XZ_DELTA_DIST, 2)], vec!["-dc"], &x86),
        (Format::Xz, vec![(CODEC_PARAM_THREADS, 2), (CODEC_PARAM_XZ_BLOCK_SIZE, 50_000)], vec!["-dc"], &data),
        (Format::LzmaAlone, vec![], vec!["-dc", "--format=lzma"], &data),
        (Format::Lzma2Raw, vec![], vec!["-dc", "--format=raw", "--lzma2=dict=8MiB"], &data),
        (
            Format::Lzma2Raw,
            vec![(CODEC_PARAM_XZ_DICT_SIZE, 1 << 20), (LEVEL, 1)],
            vec!["-dc", "--format=raw", "--lzma2=dict=1MiB"],
            &data,
        ),
        (
            Format::Lzma2Raw,
            vec![(CODEC_PARAM_XZ_BCJ_X86, 1), (CODEC_PARAM_XZ_DICT_SIZE, 1 << 16)],
            vec!["-dc", "--format=raw", "--x86", "--lzma2=dict=64KiB"],
            &x86,
        ),
    ];
    for (f, params, args, input) in cases {
        let c = compress(f, &params, input);
        assert!(run_xz(&args, &c) == input, "xz {args:?} on our {f:?} {params:?}");
    }
    // A sync-flushed stream continued after the flush, and two finished streams.
    let mut e = encoder(Format::Xz, &[], None);
    let mut c = encode_with(&mut e, &data[..5000], codec::Action::Flush, 4096);
    c.extend(encode_with(&mut e, &data[5000..], codec::Action::Finish, 4096));
    c.extend(encode_with(&mut e, b"tail", codec::Action::Finish, 4096));
    let mut want = data.clone();
    want.extend_from_slice(b"tail");
    assert!(run_xz(&["-dc"], &c) == want);
}
