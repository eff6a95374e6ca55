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
        code => Err(shim_error(code)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::Format;

    /// The shim payload of a zstd decoder stopped in the middle of a frame, after blocks with
    /// matches (so its repeat offsets are live).
    fn mid_frame_payload() -> Vec<u8> {
        let words: [&[u8]; 6] = [b"quick ", b"brown ", b"fox ", b"jumps ", b"over ", b"lazy dogs "];
        let (mut data, mut x) = (Vec::new(), 1u32);
        while data.len() < 400_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            data.extend_from_slice(words[(x >> 16) as usize % 6]);
        }
        let mut frame = vec![0u8; crate::formats::compress_bound(Format::Zstd, data.len())];
        let n = crate::stream::compress(Format::Zstd, Some(3), &data, &mut frame).unwrap();
        let mut d = DCtx::new().unwrap();
        let mut out = vec![0u8; data.len()];
        let p = d.decompress_stream(&frame[..n / 2], &mut out);
        assert!(
            p.ret.is_ok() && p.written > 0 && out[..p.written] == data[..p.written],
            "{} {} {:?}",
            p.read,
            p.written,
            p.ret
        );
        let mut w = StateWriter::new();
        save(&d, &mut w).unwrap();
        w.into_inner()
    }

    fn load_payload(payload: &[u8]) -> Result<()> {
        let mut d = DCtx::new().unwrap();
        let mut r = StateReader::new(payload);
        load(&mut d, &mut r)
    }

    #[test]
    fn a_zero_repeat_offset_is_refused() {
        let payload = mid_frame_payload();
        load_payload(&payload).expect("the unaltered state loads");
        for k in 0..3 {
            let name = format!("repeat offset {k}");
            let i = FIELD_NAMES.iter().position(|n| *n == name).unwrap();
            let at = 1 + 8 * i; // after the field count, fields are u64 little-endian
            let mut bad = payload.clone();
            assert_ne!(bad[at..at + 8], [0u8; 8], "{name} is live in the saved state");
            bad[at..at + 8].fill(0);
            let e = load_payload(&bad).expect_err("a zero repeat offset must be refused");
            assert_eq!(e.kind, crate::error::ErrorKind::State);
            assert!(e.to_string().contains(&name), "{e}");
        }
    }
}
