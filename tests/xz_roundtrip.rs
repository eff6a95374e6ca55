//! Round trips through our encoders (liblzma) and our Rust decoders, checked against
//! liblzma's decoders.

mod xz_common;
use codec::Format;
use xz_common::*;

#[test]
fn basic_round_trip_all_formats() {
    let data = text(300_000, 7);
    for f in [Format::Xz, Format::Lzma2Raw, Format::LzmaAlone] {
        let c = compress(f, &[(LEVEL, 6)], &data);
        let o = decode(f, &[], &c);
        assert!(o.err.is_none(), "{f:?}: {:?}", o.err);
        assert!(o.ok, "{f:?} not ok");
        assert_eq!(o.out.len(), data.len(), "{f:?}");
        assert!(o.out == data, "{f:?} differs");
        let (lo, lok) = liblzma_simple(f, &c);
        assert!(lok && lo == data, "liblzma disagrees on {f:?}");
    }
}

/// Real data when the shared corpus is present (skipped elsewhere).
#[test]
fn silesia_sample_if_present() {
    let zip = "/work/shared/corpus/silesia/xml.zip";
    if !std::path::Path::new(zip).exists() {
        eprintln!("{zip} not present; skipping");
        return;
    }
    let Ok(out) = std::process::Command::new("unzip").args(["-p", zip]).output() else {
        eprintln!("unzip not available; skipping");
        return;
    };
    let data = out.stdout;
    assert!(data.len() > 1 << 20);
    for (f, p) in
        [(Format::Xz, vec![(LEVEL, 1), (codec::abi::CODEC_PARAM_CHECKSUM, 10)]), (Format::LzmaAlone, vec![(LEVEL, 0)])]
    {
        let c = compress(f, &p, &data);
        let mut d = decoder(Some(f), &[], None);
        let o = run_decoder(&mut d, &c, 0, 0, &mut Rng(3));
        assert!(o.ok && o.out == data, "{f:?}: {:?}", o.err);
        let (lo, lok) = liblzma_simple(f, &c);
        assert!(lok && lo == data);
    }
}
