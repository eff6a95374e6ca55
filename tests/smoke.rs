use codec::{Action, Decoder, Encoder, Format, Status};

#[test]
fn zstd_round_trip_streaming() {
    let data: Vec<u8> = (0..200_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
    let mut enc = Encoder::new(Format::Zstd).unwrap();
    let mut out = vec![0u8; 1 << 20];
    let s = enc.encode(&data, &mut out, Action::Finish);
    assert_eq!(s.result.unwrap(), Status::Ok);
    let comp = &out[..s.written];
    let mut dec = Decoder::new(None).unwrap();
    let mut res = Vec::new();
    let mut pos = 0;
    let mut buf = [0u8; 777];
    loop {
        let s = dec.decode(&comp[pos..(pos + 13).min(comp.len())], &mut buf);
        pos += s.read;
        res.extend_from_slice(&buf[..s.written]);
        match s.result.unwrap() {
            Status::FrameEnd => {}
            _ if pos == comp.len() && s.written == 0 => break,
            _ => {}
        }
    }
    assert!(dec.at_frame_edge());
    assert_eq!(res, data);
}
