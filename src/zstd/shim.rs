//! Bindings to csrc/zstd_state.c, which reads and writes zstd's private decoder struct. With
//! sys.rs, the only unsafe code of the zstd module. The C side validates every field, offset
//! and table entry on restore; this side moves the data in and out of the state payload.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void};

use once_cell::sync::Lazy;

use super::sys::DCtx;
use crate::error::{Error, Result};
use crate::state::{StateReader, StateWriter};

/// Number of scalar fields (`CODEC_ZS_NFIELDS` in csrc/zstd_state.h).
const NFIELDS: usize = 56;

/// Field names in csrc/zstd_state.h order, for messages.
const FIELD_NAMES: [&str; NFIELDS] = [
    "expected",
    "frame content size",
    "frame window size",
    "frame block size",
    "frame type",
    "frame header size",
    "frame dictionary id",
    "frame checksum flag",
    "processed compressed size",
    "decoded size",
    "block type",
    "stage",
    "literal entropy",
    "FSE entropy",
    "xxh64 length",
    "xxh64 v0",
    "xxh64 v1",
    "xxh64 v2",
    "xxh64 v3",
    "xxh64 mem0",
    "xxh64 mem1",
    "xxh64 mem2",
    "xxh64 mem3",
    "xxh64 memsize",
    "header size",
    "format",
    "force-ignore-checksum",
    "validate-checksum",
    "RLE size",
    "frame decompression",
    "dictionary id",
    "dictionary cold",
    "dictionary uses",
    "Huffman assembly off",
    "max block size",
    "stream stage",
    "input buffer size",
    "input position",
    "max window size",
    "output buffer size",
    "output start",
    "output end",
    "loaded header size",
    "hostage byte",
    "no-forward-progress count",
    "oversized duration",
    "repeat offset 0",
    "repeat offset 1",
    "repeat offset 2",
    "previous end region",
    "previous end offset",
    "prefix region",
    "prefix offset",
    "dictionary end region",
    "dictionary end offset",
    "previous segment length",
];

#[repr(C)]
struct ZsState {
    field: [u64; NFIELDS],
    table: [*const c_void; 4],
    table_len: [usize; 4],
    range_data: [*const c_void; 2],
    range_off: [usize; 2],
    range_len: [usize; 2],
    in_buff: *const c_void,
    in_len: usize,
    header: *const c_void,
    header_len: usize,
}

extern "C" {
    fn codec_zs_layout_ok() -> c_int;
    fn codec_zs_fingerprint(buf: *mut c_char, cap: usize) -> usize;
    fn codec_zs_state_struct_size() -> usize;
    fn codec_zs_snapshot(d: *const zstd_sys::ZSTD_DCtx, s: *mut ZsState) -> c_int;
    fn codec_zs_restore(d: *mut zstd_sys::ZSTD_DCtx, s: *const ZsState, bad_field: *mut c_int) -> c_int;
    fn codec_zs_loading_header(d: *const zstd_sys::ZSTD_DCtx, p: *mut *const u8) -> std::ffi::c_long;
}

/// While zstd loads a frame header: the header bytes it holds (empty before a frame starts).
/// `None` once it is past the header, or when the shim's view of the context is not usable.
pub fn loading_header(d: &DCtx) -> Option<&[u8]> {
    if !*SUPPORTED {
        return None;
    }
    let mut p: *const u8 = std::ptr::null();
    // SAFETY: `d` is a live context; the shim only reads it and points `p` into its header
    // buffer, which lives as long as the borrow of `d` (no zstd call happens meanwhile).
    let n = unsafe { codec_zs_loading_header(d.as_ptr(), &mut p) };
    match n {
        0 => Some(&[]),
        // SAFETY: `p` points at `n` initialised header bytes inside the context (see above).
        n if n > 0 && !p.is_null() => Some(unsafe { std::slice::from_raw_parts(p, n as usize) }),
        _ => None,
    }
}

const E_LAYOUT: c_int = -1;
const E_LEGACY: c_int = -2;
const E_MODE: c_int = -3;
const E_POINTER: c_int = -4;
const E_FIELD: c_int = -5;
const E_NOMEM: c_int = -6;
const E_WINDOW: c_int = -7;

/// The shim's view of `ZSTD_DCtx` matches the linked zstd (checked once per process).
static SUPPORTED: Lazy<bool> = Lazy::new(|| {
    // SAFETY: pure queries; the probe creates and frees its own context.
    unsafe { codec_zs_state_struct_size() == std::mem::size_of::<ZsState>() && codec_zs_layout_ok() == 1 }
});

static FINGERPRINT: Lazy<Vec<u8>> = Lazy::new(|| {
    let mut buf = [0u8; 160];
    // SAFETY: writes at most `buf.len()` bytes, NUL-terminated.
    let n = unsafe { codec_zs_fingerprint(buf.as_mut_ptr() as *mut c_char, buf.len()) };
    buf[..n.min(buf.len() - 1)].to_vec()
});

/// Identity of this build's zstd decoder layout, stored in every zstd state.
pub fn fingerprint() -> Vec<u8> {
    FINGERPRINT.clone()
}

fn unsupported() -> Error {
    Error::unsupported("this build's zstd does not match the decoder-state shim (layout probe failed)")
}

fn shim_error(code: c_int) -> Error {
    match code {
        E_LAYOUT => unsupported(),
        E_LEGACY => Error::unsupported("cannot save a decoder inside a legacy (v0.x) zstd frame"),
        E_MODE => Error::unsupported("cannot save a zstd decoder in stable-output or multi-dictionary mode"),
        E_POINTER => Error::internal("zstd decoder state holds a pointer outside its buffers"),
        E_NOMEM => Error::nomem("cannot allocate the zstd decoder's buffers"),
        _ => Error::internal(format!("zstd state shim failed ({code})")),
    }
}

/// Write the zstd context's state (the scalar fields, the tables in use, the live window,
/// buffered input and header) into `w`.
pub fn save(d: &DCtx, w: &mut StateWriter) -> Result<()> {
    if !*SUPPORTED {
        return Err(unsupported());
    }
    // SAFETY: zeroed is a valid value of this plain C struct (null pointers, zero lengths).
    let mut s: ZsState = unsafe { std::mem::zeroed() };
    // SAFETY: valid context; the shim fills `s` with pointers into the context's own memory
    // (or zstd's static tables / the DDict), valid while `d` is borrowed and unchanged.
    let rc = unsafe { codec_zs_snapshot(d.as_ptr(), &mut s) };
    if rc != 0 {
        return Err(shim_error(rc));
    }
    // SAFETY (all `bytes` below): each pointer/length pair describes memory owned by the
    // context (or an immutable table) that outlives this function.
    let bytes = |p: *const c_void, n: usize| -> &[u8] {
        if n == 0 {
            &[]
        } else {
            unsafe { std::slice::from_raw_parts(p as *const u8, n) }
        }
    };
    w.u8(NFIELDS as u8);
    for v in s.field {
        w.u64(v);
    }
    for i in 0..4 {
        w.bytes(bytes(s.table[i], s.table_len[i]));
    }
    for i in 0..2 {
        w.usize(s.range_off[i]);
        w.bytes(bytes(s.range_data[i], s.range_len[i]));
    }
    w.bytes(bytes(s.in_buff, s.in_len));
    w.bytes(bytes(s.header, s.header_len));
    Ok(())
}

/// Read what `save` wrote and put it into `d` (a fresh context with the same parameters and
/// dictionary). The shim validates everything; a bad field is named in the error.
pub fn load(d: &mut DCtx, r: &mut StateReader<'_>) -> Result<()> {
    if !*SUPPORTED {
        return Err(unsupported());
    }
    let n = r.u8("zstd field count")? as usize;
    if n != NFIELDS {
        return Err(Error::state(format!("zstd state has {n} fields, this build expects {NFIELDS}")));
    }
    // SAFETY: zeroed is a valid value of this plain C struct.
    let mut s: ZsState = unsafe { std::mem::zeroed() };
    for (i, v) in s.field.iter_mut().enumerate() {
        *v = r.u64(FIELD_NAMES[i])?;
    }
    // Lengths are bounded by what is present in the state; the shim checks them against the
    // tables' and buffers' real sizes.
    let cap = r.remaining();
    for i in 0..4 {
        let t = r.bytes("zstd entropy table", cap)?;
        s.table[i] = t.as_ptr() as *const c_void;
        s.table_len[i] = t.len();
    }
    for i in 0..2 {
        s.range_off[i] = r.usize_max("zstd window offset", usize::MAX)?;
        let b = r.bytes("zstd window", cap)?;
        s.range_data[i] = b.as_ptr() as *const c_void;
        s.range_len[i] = b.len();
    }
    let inb = r.bytes("zstd input buffer", cap)?;
    s.in_buff = inb.as_ptr() as *const c_void;
    s.in_len = inb.len();
    let hdr = r.bytes("zstd frame header", cap)?;
    s.header = hdr.as_ptr() as *const c_void;
    s.header_len = hdr.len();
    let mut bad: c_int = -1;
    // SAFETY: valid context; every pointer in `s` refers to bytes of the state blob that live
    // for this call, with the lengths given; the shim copies what it keeps.
    let rc = unsafe { codec_zs_restore(d.as_ptr(), &s, &mut bad) };
    match rc {
        0 => Ok(()),
        E_FIELD => {
            let name = match bad {
                100..=103 => ["LL table", "ML table", "OF table", "Huffman table"][(bad - 100) as usize],
                b if (0..NFIELDS as c_int).contains(&b) => FIELD_NAMES[b as usize],
                _ => "unknown field",
            };
            Err(Error::state(format!("invalid zstd decoder state: '{name}' is out of range or inconsistent")))
        }
        E_MODE => Err(Error::state("the zstd context cannot take a saved state (unexpected mode)")),
        E_WINDOW => {
            let (name, need) = match bad {
                b if (0..NFIELDS as c_int).contains(&b) => (FIELD_NAMES[b as usize], s.field[b as usize]),
                _ => ("unknown field", 0),
            };
            Err(Error::memlimit(format!(
                "the saved zstd decoder's {name} ({need} bytes) exceeds this decoder's window limit (raise CODEC_PARAM_ZSTD_WINDOW_LOG_MAX before restoring)"
            )))
        }
        code => Err(shim_error(code)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::Format;

    /// A saved zstd context, taken apart so tests can alter it as a hostile file could.
    #[derive(Clone)]
    struct Saved {
        fields: Vec<u64>,
        tables: Vec<Vec<u8>>,
        ranges: Vec<(usize, Vec<u8>)>,
        inb: Vec<u8>,
        hdr: Vec<u8>,
    }

    impl Saved {
        fn parse(payload: &[u8]) -> Saved {
            let mut r = StateReader::new(payload);
            assert_eq!(r.u8("n").unwrap() as usize, NFIELDS);
            let fields = (0..NFIELDS).map(|_| r.u64("f").unwrap()).collect();
            let tables = (0..4).map(|_| r.bytes("t", usize::MAX).unwrap().to_vec()).collect();
            let ranges = (0..2)
                .map(|_| (r.usize_max("o", usize::MAX).unwrap(), r.bytes("r", usize::MAX).unwrap().to_vec()))
                .collect();
            let inb = r.bytes("i", usize::MAX).unwrap().to_vec();
            let hdr = r.bytes("h", usize::MAX).unwrap().to_vec();
            Saved { fields, tables, ranges, inb, hdr }
        }
        fn bytes(&self) -> Vec<u8> {
            let mut w = StateWriter::new();
            w.u8(NFIELDS as u8);
            self.fields.iter().for_each(|v| w.u64(*v));
            self.tables.iter().for_each(|t| w.bytes(t));
            for (o, b) in &self.ranges {
                w.usize(*o);
                w.bytes(b);
            }
            w.bytes(&self.inb);
            w.bytes(&self.hdr);
            w.into_inner()
        }
        fn field(&mut self, name: &str) -> &mut u64 {
            let i = FIELD_NAMES.iter().position(|n| *n == name).unwrap_or_else(|| panic!("no field {name}"));
            &mut self.fields[i]
        }
        /// Restore into a fresh context: Ok, or the state error's message.
        fn load(&self) -> std::result::Result<(), String> {
            let mut d = DCtx::new().unwrap();
            load(&mut d, &mut StateReader::new(&self.bytes())).map_err(|e| {
                assert_eq!(e.kind, crate::error::ErrorKind::State, "{e}");
                e.to_string()
            })
        }
    }

    /// A zstd context stopped inside a frame of text, after compressed blocks (Huffman
    /// literals and FSE sequence tables in use, live repeat offsets), after `cut` bytes of
    /// the frame, with `room` bytes of output taken.
    fn saved_at(cut_permille: usize, room: usize) -> Saved {
        let words: [&[u8]; 6] = [b"quick ", b"brown ", b"fox ", b"jumps ", b"over ", b"lazy dogs "];
        let (mut data, mut x) = (Vec::new(), 1u32);
        while data.len() < 400_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            data.extend_from_slice(words[(x >> 16) as usize % 6]);
            if x % 3 == 0 {
                data.extend_from_slice(format!("{} ", (x >> 8) % 100_000).as_bytes());
            }
        }
        let mut frame = vec![0u8; crate::formats::compress_bound(Format::Zstd, data.len())];
        let n = crate::stream::compress(Format::Zstd, Some(3), &data, &mut frame).unwrap();
        let mut d = DCtx::new().unwrap();
        let mut out = vec![0u8; room];
        let p = d.decompress_stream(&frame[..n * cut_permille / 1000], &mut out);
        assert!(p.ret.is_ok() && out[..p.written] == data[..p.written], "{} {:?}", p.written, p.ret);
        let mut w = StateWriter::new();
        save(&d, &mut w).unwrap();
        Saved::parse(&w.into_inner())
    }

    fn refused(s: &Saved, what: &str) {
        match s.load() {
            Ok(()) => panic!("a state with {what} was accepted"),
            Err(e) => assert!(e.contains("invalid zstd decoder state"), "{what}: {e}"),
        }
    }

    #[test]
    fn a_zero_repeat_offset_is_refused() {
        let saved = saved_at(500, 400_000);
        saved.load().expect("the unaltered state loads");
        for k in 0..3 {
            let name = format!("repeat offset {k}");
            let mut bad = saved.clone();
            assert_ne!(*bad.field(&name), 0, "{name} is live in the saved state");
            *bad.field(&name) = 0;
            let e = bad.load().expect_err("a zero repeat offset must be refused");
            assert!(e.contains(&name), "{e}");
        }
    }

    /// Each block-level stage copies `expected` bytes somewhere of its own (the frame-header
    /// stages into an 18-byte buffer): only the pairs a streaming decoder can be in pass.
    #[test]
    fn stage_and_expected_input_must_agree() {
        let saved = saved_at(500, 400_000);
        saved.load().unwrap();
        let cases: [(u64, u64, &str); 6] = [
            (0, 100_000, "frame-header stage expecting 100000 bytes"),
            (0, 5, "frame-header stage expecting 5 bytes"),
            (1, 10, "decodeFrameHeader stage"),
            (2, 2, "block-header stage expecting 2 bytes"),
            (5, 3, "checksum stage expecting 3 bytes"),
            (6, 8, "skippable-header stage"),
        ];
        for (stage, expected, what) in cases {
            let mut bad = saved.clone();
            *bad.field("stage") = stage;
            *bad.field("expected") = expected;
            refused(&bad, what);
        }
        let mut bad = saved.clone();
        *bad.field("header size") = 18;
        refused(&bad, "a bufferless header size");
    }

    #[test]
    fn hostage_byte_flush_stage_and_input_position_must_agree() {
        // Output waiting: the context is in its flush stage.
        let flushing = saved_at(500, 1000);
        flushing.load().unwrap();
        assert!(
            flushing.fields[FIELD_NAMES.iter().position(|n| *n == "output start").unwrap()]
                < flushing.fields[FIELD_NAMES.iter().position(|n| *n == "output end").unwrap()]
        );
        let mut bad = flushing.clone();
        *bad.field("hostage byte") = 1;
        refused(&bad, "a held-back byte in the middle of a frame");
        let mut bad = flushing.clone();
        let end = *bad.field("output start");
        *bad.field("output end") = end;
        refused(&bad, "the flush stage with nothing to flush");
        let mut bad = flushing.clone();
        *bad.field("input position") = 3;
        refused(&bad, "buffered input outside the load stage");
    }

    #[test]
    fn parameters_must_be_the_restoring_contexts_own() {
        let saved = saved_at(500, 400_000);
        for (name, v) in [
            ("format", 1),
            ("force-ignore-checksum", 1),
            ("Huffman assembly off", 1),
            ("max block size", 4096),
            ("frame decompression", 0),
        ] {
            let mut bad = saved.clone();
            *bad.field(name) = v;
            refused(&bad, name);
        }
    }

    /// FSE entries must hold a (base, extra bits) pair of their code: an offset entry with
    /// one extra bit and base 5 would make zstd index past its three repeat offsets.
    #[test]
    fn sequence_table_entries_must_be_real_symbols() {
        let saved = saved_at(500, 400_000);
        for (t, name) in [(0, "LL"), (1, "ML"), (2, "OF")] {
            assert!(saved.tables[t].len() >= 16, "{name} table in use");
            let mut bad = saved.clone();
            let e = &mut bad.tables[t][8..16]; // entry 1: nextState u16, extra bits u8, nbBits u8, base u32
            e[2] = 1;
            e[4..8].copy_from_slice(&5u32.to_le_bytes());
            refused(&bad, &format!("{name} entry (base 5, 1 extra bit)"));
        }
    }

    /// A Huffman table must be one zstd builds: capacity log 12, table log at least 1, cells
    /// of 1.. bits (a double-symbol table of log 0 makes the lookup index with all 64 bits).
    #[test]
    fn huffman_tables_must_be_buildable() {
        let saved = saved_at(500, 400_000);
        assert!(!saved.tables[3].is_empty(), "Huffman table in use");
        let mut bad = saved.clone();
        bad.tables[3] = vec![12, 1, 0, 0, 0x61, 0x61, 0, 1]; // X2, log 0, one cell of 0 bits
        refused(&bad, "a double-symbol Huffman table of log 0");
        let mut bad = saved.clone();
        bad.tables[3][0] = 11;
        refused(&bad, "a Huffman capacity other than the context's");
    }
}
