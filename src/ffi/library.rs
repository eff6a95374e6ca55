//! Calls that take no handle: one-shot compression, inspection, bounds, names and versions.

use std::ffi::{c_char, c_int, CString};

use once_cell::sync::Lazy;

use super::panic::ffi_boundary;
use super::ptr;
use crate::abi::*;
use crate::error::Error;
use crate::formats::{self, Detected};
use crate::stream;

/// The message of the last failed call on this thread that has no handle to keep it on:
/// `codec_encoder_new`, `codec_decoder_new`, `codec_decoder_unmarshal`, `codec_dict_load`,
/// `codec_dict_train`, `codec_compress`, `codec_decompress`, `codec_detect_format`,
/// `codec_frame_info`, `codec_frame_size`, `codec_param_bounds`. Calls that succeed leave it
/// unchanged. Never NULL; valid until the next failing such call on the same thread.
/// (Go callers: fetch it in the same locked OS thread as the failing call.)
#[no_mangle]
pub extern "C" fn codec_last_error() -> *const c_char {
    ffi_boundary!(|_| ptr::static_str(c"internal error (panic)"), { super::last_error_ptr() })
}

/// A static, NUL-terminated name for any status value ("CODEC_E_CORRUPT");
/// "CODEC_UNKNOWN_STATUS" for values libcodec does not define. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn codec_status_name(st: c_int) -> *const c_char {
    ffi_boundary!(|_| ptr::static_str(c"CODEC_UNKNOWN_STATUS"), { status_name(st).as_ptr() })
}

const fn parse_u32(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut v = 0;
    while i < b.len() {
        v = v * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    v
}

/// MAJOR*10000 + MINOR*100 + PATCH of the crate, as `CODEC_VERSION_NUMBER`.
pub(crate) const VERSION_NUMBER: u32 = parse_u32(env!("CARGO_PKG_VERSION_MAJOR")) * 10000
    + parse_u32(env!("CARGO_PKG_VERSION_MINOR")) * 100
    + parse_u32(env!("CARGO_PKG_VERSION_PATCH"));

/// The version of the loaded library, MAJOR*10000 + MINOR*100 + PATCH. Compare with the
/// header's `CODEC_VERSION_NUMBER` to detect a header / library mismatch.
/// Thread safety: any thread.
#[no_mangle]
pub extern "C" fn codec_version_number() -> u32 {
    VERSION_NUMBER
}

static VERSION_STRING: Lazy<CString> = Lazy::new(|| {
    CString::new(format!(
        "libcodec {} (zstd {}, lz4 {}, liblzma {})",
        env!("CARGO_PKG_VERSION"),
        crate::zstd::version_string(),
        crate::lz4::version_string(),
        crate::xz::version_string()
    ))
    .unwrap_or_default()
});

/// The version of the loaded library and of the zstd, lz4 and liblzma inside it, e.g.
/// "libcodec 0.1.0 (zstd 1.5.7, lz4 1.10.0, liblzma 5.2.5)". Static; thread safety: any thread.
#[no_mangle]
pub extern "C" fn codec_version_string() -> *const c_char {
    ffi_boundary!(|_| ptr::static_str(c"libcodec"), { VERSION_STRING.as_ptr() })
}

/// An upper bound of the compressed size of `src_len` bytes in one frame made by
/// `codec_compress` (and by a streaming encoder with default parameters given the whole input
/// with `CODEC_FINISH`). 0 for an unknown format or AUTO. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn codec_compress_bound(fmt: codec_format, src_len: usize) -> usize {
    ffi_boundary!(|_| 0, { formats::Format::from_raw(fmt).map_or(0, |f| formats::compress_bound(f, src_len)) })
}

/// Compress `src[0..src_len)` into one frame in `dst[0..dst_cap)` at `level`
/// (`CODEC_LEVEL_DEFAULT` for the format's default); `*written` receives the compressed size.
/// A `dst_cap` of `codec_compress_bound(fmt, src_len)` always suffices; with less it may fail
/// with `CODEC_E_BUFFER`. The frame records the content size where the format can.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn codec_compress(
    fmt: codec_format,
    level: i32,
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_cap: usize,
    written: *mut usize,
) -> codec_status {
    // SAFETY (all blocks): buffers valid as documented; `written` NULL or writable.
    ffi_boundary!(|_| CODEC_E_PANIC, {
        unsafe { ptr::put(written, 0) };
        if written.is_null() {
            return CODEC_E_NULL;
        }
        let r = (|| {
            let f = formats::encoder_format(fmt)?;
            let src = unsafe { ptr::input(src, src_len) }?;
            let dst = unsafe { ptr::output(dst, dst_cap) }?;
            let level = (level != CODEC_LEVEL_DEFAULT).then_some(level as i64);
            let n = stream::compress(f, level, src, dst)?;
            unsafe { ptr::put(written, n) };
            Ok(CODEC_OK)
        })();
        super::record(r)
    })
}

/// Decompress every frame in `src[0..src_len)` into `dst[0..dst_cap)`; `*written` receives
/// the decompressed size. `fmt` may be `CODEC_FORMAT_AUTO`.
///
/// Returns `CODEC_E_TRUNCATED` when the input ends inside a frame or holds none,
/// `CODEC_E_BUFFER` when `dst` is too small (then `*written` = `dst_cap` bytes of valid
/// output). It writes only into `dst` and never allocates for a content size a frame claims,
/// only what the frames' windows need, within a decoder's default limits (larger windows or
/// dictionaries fail with `CODEC_E_MEMLIMIT`); size `dst` from `codec_frame_info`'s content size
/// when the frame records it (and you trust it).
/// Data needing a dictionary cannot be decoded here: use a decoder with
/// `codec_decoder_set_dict`. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn codec_decompress(
    fmt: codec_format,
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_cap: usize,
    written: *mut usize,
) -> codec_status {
    // SAFETY (all blocks): buffers valid as documented; `written` NULL or writable.
    ffi_boundary!(|_| CODEC_E_PANIC, {
        unsafe { ptr::put(written, 0) };
        if written.is_null() {
            return CODEC_E_NULL;
        }
        let r = (|| {
            let f = formats::decoder_format(fmt)?;
            let src = unsafe { ptr::input(src, src_len) }?;
            let dst = unsafe { ptr::output(dst, dst_cap) }?;
            let r = stream::decompress(f, src, dst, None);
            let n = match &r {
                Ok(n) => *n,
                Err(e) if e.kind == crate::error::ErrorKind::Buffer => dst_cap,
                Err(_) => 0,
            };
            unsafe { ptr::put(written, n) };
            r.map(|_| CODEC_OK)
        })();
        super::record(r)
    })
}

/// Identify the format of the data starting at `src` by its magic number (zstd, LZ4 frame,
/// xz) or a plausible .lzma header. A leading skippable frame is reported as zstd.
/// `CODEC_E_TRUNCATED` when more bytes are needed to decide (at most 13),
/// `CODEC_E_UNSUPPORTED` when it is none of them. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn codec_detect_format(src: *const u8, len: usize, out: *mut codec_format) -> codec_status {
    // SAFETY (all blocks): `src` valid for `len` bytes; `out` NULL or writable.
    ffi_boundary!(|_| CODEC_E_PANIC, {
        let out = match unsafe { ptr::out(out) } {
            Ok(o) => o,
            Err(st) => return st,
        };
        out.write(CODEC_FORMAT_AUTO);
        let r = unsafe { ptr::input(src, len) }.and_then(|s| match formats::detect(s) {
            Detected::Format(f) => {
                out.write(f.raw());
                Ok(CODEC_OK)
            }
            Detected::Skippable(_) => {
                out.write(CODEC_FORMAT_ZSTD);
                Ok(CODEC_OK)
            }
            Detected::NeedMore => Err(Error::truncated(format!(
                "{len} bytes are not enough to recognise the format (up to {} are needed)",
                formats::DETECT_MAX
            ))),
            Detected::Unknown => Err(Error::unsupported("not zstd, LZ4 frame, xz or .lzma data")),
        });
        super::record(r)
    })
}

/// Read the frame (or stream) header at the start of `src[0..len)` into `*out`. `fmt` may be
/// `CODEC_FORMAT_AUTO`. `CODEC_E_TRUNCATED` when the header is not complete in `len` bytes,
/// `CODEC_E_CORRUPT` when it is not a valid header. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn codec_frame_info(
    fmt: codec_format,
    src: *const u8,
    len: usize,
    out: *mut codec_frame_header,
) -> codec_status {
    // SAFETY (all blocks): `src` valid for `len` bytes; `out` NULL or writable.
    ffi_boundary!(|_| CODEC_E_PANIC, {
        let out = match unsafe { ptr::out(out) } {
            Ok(o) => o,
            Err(st) => return st,
        };
        out.write(codec_frame_header::default());
        let r = unsafe { ptr::input(src, len) }
            .and_then(|s| Ok((resolve(fmt, s)?, s)))
            .and_then(|(f, s)| formats::frame_info(f, s))
            .map(|h| {
                out.write(h);
                CODEC_OK
            });
        super::record(r)
    })
}

/// The compressed size of the complete frame (zstd, LZ4 frame) or stream (xz) at the start of
/// `src[0..len)`, in `*size`. `CODEC_E_TRUNCATED` when it is not complete within `len` bytes.
/// An xz stream is measured by decoding it (output discarded) under the default memory limit
/// (256 MiB): one whose dictionary exceeds it gives `CODEC_E_MEMLIMIT`.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn codec_frame_size(
    fmt: codec_format,
    src: *const u8,
    len: usize,
    size: *mut u64,
) -> codec_status {
    // SAFETY (all blocks): `src` valid for `len` bytes; `size` NULL or writable.
    ffi_boundary!(|_| CODEC_E_PANIC, {
        let out = match unsafe { ptr::out(size) } {
            Ok(o) => o,
            Err(st) => return st,
        };
        out.write(0);
        let r = unsafe { ptr::input(src, len) }
            .and_then(|s| Ok((resolve(fmt, s)?, s)))
            .and_then(|(f, s)| formats::frame_size(f, s))
            .map(|n| {
                out.write(n);
                CODEC_OK
            });
        super::record(r)
    })
}

fn resolve(fmt: codec_format, src: &[u8]) -> Result<formats::Format, Error> {
    match formats::decoder_format(fmt)? {
        Some(f) => Ok(f),
        None => match formats::detect(src) {
            Detected::Format(f) => Ok(f),
            Detected::Skippable(_) => Ok(formats::Format::Zstd),
            Detected::NeedMore => Err(Error::truncated("not enough bytes to recognise the format")),
            Detected::Unknown => Err(Error::corrupt("not zstd, LZ4 frame, xz or .lzma data")),
        },
    }
}

/// The accepted values `[*lo, *hi]` of parameter `p` for format `fmt` (encoders and decoders;
/// `CODEC_FORMAT_AUTO` answers for decoders). `CODEC_E_UNSUPPORTED` when the parameter does
/// not apply to the format. zstd parameters documented with "0 = from level" also accept 0.
/// Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn codec_param_bounds(
    fmt: codec_format,
    p: codec_param,
    lo: *mut i64,
    hi: *mut i64,
) -> codec_status {
    // SAFETY (all blocks): `lo`, `hi` NULL or writable.
    ffi_boundary!(|_| CODEC_E_PANIC, {
        unsafe {
            ptr::put(lo, 0);
            ptr::put(hi, 0);
        }
        if lo.is_null() || hi.is_null() {
            return CODEC_E_NULL;
        }
        let r = formats::decoder_format(fmt).and_then(|f| {
            let spec = match f {
                Some(f) => formats::param_spec(f, p),
                None => formats::auto_decoder_param_spec(p),
            };
            let name = f.map_or("auto-detecting decoders", |f| f.name());
            let spec = spec.ok_or_else(|| {
                Error::unsupported(format!("{} does not apply to {name}", crate::params::param_name(p)))
            })?;
            unsafe {
                ptr::put(lo, spec.lo);
                ptr::put(hi, spec.hi);
            }
            Ok(CODEC_OK)
        });
        super::record(r)
    })
}
