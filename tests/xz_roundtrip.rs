//! Round trips through our encoders (liblzma) and our Rust decoders, checked against
//! liblzma's decoders.

mod xz_common;
use codec::abi::*;
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
