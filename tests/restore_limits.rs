//! A marshalled state is untrusted input, so it never sets the limits of the decoder it
//! becomes: `Decoder::unmarshal` restores with the default limits, `Decoder::restore` with
//! those of the decoder restored into. Between frames the next frame is held to the restoring
//! limits; inside a frame or block the state's own window must fit them (else `MemLimit`).

mod xz_common;
use std::sync::Arc;

use codec::abi::*;
use codec::{Decoder, Dict, ErrorKind, Format};
use xz_common::*;

const WLM: i32 = CODEC_PARAM_ZSTD_WINDOW_LOG_MAX;
const MEM: i32 = CODEC_PARAM_MEMLIMIT;

/// A zstd frame declaring a 2^`log` window (not single-segment, no content size) holding one
/// raw byte, `x`.
fn zstd_window_frame(log: u8) -> Vec<u8> {
    let mut f = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, (log - 10) << 3];
    f.extend_from_slice(&[0x09, 0x00, 0x00, b'x']); // last raw block of 1 byte
    f
}

fn run(d: &mut Decoder, data: &[u8]) -> Outcome {
    run_decoder(d, data, data.len().max(1), 1 << 16, &mut Rng(1))
}

fn refused(o: Outcome) -> String {
    let (kind, msg) = o.err.expect("refused");
    assert_eq!(kind, ErrorKind::MemLimit, "{msg}");
    msg
}

#[test]
fn zstd_limits_of_a_saved_decoder_do_not_carry_over_between_frames() {
    let frame = zstd_window_frame(28);
    for requested in [Some(Format::Zstd), None] {
        // A decoder that accepts the 256 MiB window (the default is 2^27), saved before input.
        let saved = decoder(requested, &[(WLM, 28)], None).marshal().unwrap();
        assert!(run(&mut decoder(requested, &[(WLM, 28)], None), &frame).ok);
        // Restored with the defaults, it refuses the frame as a fresh decoder does.
        refused(run(&mut Decoder::unmarshal(&saved, None).unwrap(), &frame));
        refused(run(&mut decoder(requested, &[], None), &frame));
        // Restored into a decoder given the limit, it accepts it.
        let mut d = decoder(requested, &[(WLM, 28)], None);
        d.restore(&saved).unwrap();
        let o = run(&mut d, &frame);
        assert!(o.ok && o.out == b"x", "{:?}", o.err);
        // Limits are the receiver's also when they are lower than the saved decoder's.
        let mut d = decoder(requested, &[(WLM, 20)], None);
        d.restore(&saved).unwrap();
        refused(run(&mut d, &zstd_window_frame(21)));
    }
}

#[test]
fn zstd_state_inside_a_frame_must_fit_the_restoring_window_limit() {
    let data = text(3_000_000, 3);
    // A 1 MiB window: the 3 MB frame is not single-segment, so the window stays 2^20.
    let z = compress(Format::Zstd, &[(CODEC_PARAM_LEVEL, 3), (CODEC_PARAM_ZSTD_WINDOW_LOG, 20)], &data);
    let mut d = decoder(Some(Format::Zstd), &[], None);
    let half = z.len() / 2;
    let first = run(&mut d, &z[..half]);
    assert!(first.err.is_none());
    let saved = d.marshal().unwrap();
    let (consumed, _) = d.position();

    let mut small = decoder(Some(Format::Zstd), &[(WLM, 19)], None);
    let msg = refused_restore(small.restore(&saved));
    assert!(msg.contains("1048576") && msg.contains("WINDOW_LOG_MAX"), "{msg}");
    // The failed restore left the decoder as it was: fresh, with its limit.
    refused(run(&mut small, &zstd_window_frame(20)));

    for mut back in [Decoder::unmarshal(&saved, None).unwrap(), {
        let mut e = decoder(Some(Format::Zstd), &[(WLM, 20)], None);
        e.restore(&saved).unwrap();
        e
    }] {
        let rest = run(&mut back, &z[consumed as usize..]);
        assert!(rest.ok, "{:?}", rest.err);
        assert!([first.out.clone(), rest.out].concat() == data);
    }
}

fn refused_restore(r: codec::Result<()>) -> String {
    let e = r.expect_err("restore refused");
    assert_eq!(e.kind, ErrorKind::MemLimit, "{}", e.msg);
    e.msg
}

#[test]
fn xz_limits_of_a_saved_decoder_do_not_carry_over_between_streams() {
    let data = text(1000, 5);
    // 1.5 GiB dictionary: over the default 256 MiB limit.
    let huge = with_dict_byte(&compress(Format::Xz, &[(CODEC_PARAM_LEVEL, 0)], &data), 37);
    for requested in [Some(Format::Xz), None] {
        let saved = decoder(requested, &[(MEM, 2 << 30)], None).marshal().unwrap();
        refused(run(&mut Decoder::unmarshal(&saved, None).unwrap(), &huge));
        let mut d = decoder(requested, &[(MEM, 2 << 30)], None);
        d.restore(&saved).unwrap();
        let o = run(&mut d, &huge);
        assert!(o.ok && o.out == data, "{:?}", o.err);
    }
}

#[test]
fn xz_state_inside_a_block_must_fit_the_restoring_memory_limit() {
    let data = text(400_000, 9);
    let xz = compress(Format::Xz, &[(CODEC_PARAM_LEVEL, 6), (CODEC_PARAM_XZ_DICT_SIZE, 8 << 20)], &data);
    for f in [Format::Xz, Format::LzmaAlone] {
        let z = if f == Format::Xz { xz.clone() } else { compress(f, &[(CODEC_PARAM_LEVEL, 6)], &data) };
        let mut d = decoder(Some(f), &[], None);
        let first = run(&mut d, &z[..z.len() / 2]);
        assert!(first.err.is_none());
        let saved = d.marshal().unwrap();
        let (consumed, _) = d.position();

        let msg = refused_restore(decoder(Some(f), &[(MEM, 4 << 20)], None).restore(&saved));
        assert!(msg.contains("8388608") && msg.contains("MEMLIMIT"), "{msg}");
        for mut back in [Decoder::unmarshal(&saved, None).unwrap(), {
            let mut e = decoder(Some(f), &[(MEM, 8 << 20)], None);
            e.restore(&saved).unwrap();
            e
        }] {
            let rest = run(&mut back, &z[consumed as usize..]);
            assert!(rest.ok, "{:?}", rest.err);
            assert!([first.out.clone(), rest.out].concat() == data);
        }
    }
}

#[test]
fn restore_takes_a_fresh_decoder_of_the_same_format_and_its_dictionary() {
    let data = text(50_000, 4);
    let z = compress(Format::Zstd, &[], &data);
    let mut d = decoder(Some(Format::Zstd), &[], None);
    run(&mut d, &z[..z.len() / 2]);
    let saved = d.marshal().unwrap();

    // Not after input.
    let mut busy = decoder(Some(Format::Zstd), &[], None);
    run(&mut busy, &z[..10]);
    assert_eq!(busy.restore(&saved).unwrap_err().kind, ErrorKind::Sequence);
    // Not into a decoder of another format.
    let e = decoder(Some(Format::Xz), &[], None).restore(&saved).unwrap_err();
    assert_eq!(e.kind, ErrorKind::State, "{}", e.msg);
    // An AUTO decoder takes it and becomes a zstd decoder.
    let mut auto = decoder(None, &[], None);
    auto.restore(&saved).unwrap();
    assert_eq!(auto.format(), Some(Format::Zstd));
    assert_eq!(auto.requested_format(), Some(Format::Zstd));

    // The receiver's dictionary is the one checked against the state.
    let dict = Arc::new(Dict::load(&text(20_000, 8)).unwrap());
    let zd = {
        let mut e = encoder(Format::Zstd, &[], Some(dict.clone()));
        encode_with(&mut e, &data, codec::Action::Finish, 1 << 16)
    };
    let mut d = decoder(Some(Format::Zstd), &[], Some(dict.clone()));
    let first = run(&mut d, &zd[..zd.len() / 2]);
    let saved = d.marshal().unwrap();
    let (consumed, _) = d.position();
    assert_eq!(decoder(Some(Format::Zstd), &[], None).restore(&saved).unwrap_err().kind, ErrorKind::Dict);
    let mut back = decoder(Some(Format::Zstd), &[], Some(dict));
    back.restore(&saved).unwrap();
    let rest = run(&mut back, &zd[consumed as usize..]);
    assert!(rest.ok && [first.out, rest.out].concat() == data);
}

#[test]
fn the_memory_limit_also_limits_a_restored_zstd_window() {
    // CODEC_PARAM_MEMLIMIT limits a zstd decoder's window too (to the largest power of two
    // within it); a restore must apply it the same way, whichever of the two limits was set
    // last. (Found by decode_auto: a restored AUTO decoder with memlimit 16 MiB got the
    // default 2^27 window limit instead of 2^24.)
    let frame = zstd_window_frame(25);
    for requested in [Some(Format::Zstd), None] {
        let saved = decoder(requested, &[], None).marshal().unwrap();
        for (limits, ok) in [
            (vec![(MEM, 16 << 20)], false),
            (vec![(MEM, 32 << 20)], true),
            (vec![(WLM, 24), (MEM, 32 << 20)], true),
            (vec![(MEM, 32 << 20), (WLM, 24)], false),
        ] {
            let mut fresh = decoder(requested, &limits, None);
            let mut d = decoder(requested, &limits, None);
            d.restore(&saved).unwrap();
            assert_eq!(d.limit_params(), limits);
            for d in [&mut fresh, &mut d] {
                let o = run(d, &frame);
                if ok {
                    assert!(o.ok && o.out == b"x", "{limits:?}: {:?}", o.err);
                } else {
                    refused(o);
                }
            }
        }
    }
}

#[test]
fn an_xz_state_claiming_a_dictionary_is_refused() {
    // No xz or .lzma decoder has a dictionary (set_dict and format detection refuse one), so a
    // state that claims one is not a real state. (Found by the unmarshal target: such a state
    // loaded, with the dictionary attached, into a decoder no caller could configure.)
    let dict = Arc::new(Dict::load(&text(5000, 1)).unwrap());
    for f in [Format::Xz, Format::LzmaAlone] {
        let z = compress(f, &[(CODEC_PARAM_LEVEL, 1)], &text(20_000, 2));
        let mut d = decoder(Some(f), &[], None);
        run(&mut d, &z[..z.len() / 2]);
        let blob = d.marshal().unwrap();
        let env = codec::state::open(&blob).unwrap();
        let forged = codec::state::seal(
            env.format,
            env.fingerprint,
            Some(dict.identity()),
            env.consumed,
            env.produced,
            env.payload,
        );
        let e = Decoder::unmarshal(&forged, Some(dict.clone())).unwrap_err();
        assert_eq!(e.kind, ErrorKind::State, "{f:?}: {}", e.msg);
        // The same payload without the claim loads.
        let plain = codec::state::seal(env.format, env.fingerprint, None, env.consumed, env.produced, env.payload);
        assert!(Decoder::unmarshal(&plain, None).is_ok());
    }
}
