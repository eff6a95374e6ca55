//! `codec_decoder`: streaming decompression, clone and marshal.

use std::ffi::c_char;

use super::dict::{codec_dict, DictHandle};
use super::panic::ffi_boundary;
use super::ptr::{self, Castable, ErrorSlot, Tagged};
use crate::abi::*;
use crate::error::Error;
use crate::formats;
use crate::stream::Decoder;

/// A streaming decompressor for one format, or for `CODEC_FORMAT_AUTO` (detects zstd, LZ4
/// frame, xz and .lzma by their first bytes).
///
/// Create it with `codec_decoder_new` (or `codec_decoder_clone` / `codec_decoder_unmarshal`),
/// configure it before the first byte, feed it with `codec_decoder_decode`, and release it with
/// `codec_decoder_free`. Its whole state can be copied (`codec_decoder_clone`) or saved as
/// bytes (`codec_decoder_marshal`) between any two calls, and restored in another process.
///
/// Default limits, so that hostile input cannot make a decoder allocate much (data needing
/// more fails with `CODEC_E_MEMLIMIT` at its header, before anything large is allocated):
/// - zstd: windows up to 2^27 bytes = 128 MiB (`CODEC_PARAM_ZSTD_WINDOW_LOG_MAX`, 10..31, or
///   `CODEC_PARAM_MEMLIMIT`); zstd allocates the window (plus one block of at most 128 KiB)
///   when a frame starts.
/// - xz and .lzma: dictionaries up to 256 MiB (`CODEC_PARAM_MEMLIMIT`); the dictionary buffer
///   grows with the output, so a small stream declaring a large dictionary costs little.
/// - raw LZMA2: the dictionary size is a parameter (`CODEC_PARAM_XZ_DICT_SIZE`, default 8 MiB),
///   refused above `CODEC_PARAM_MEMLIMIT` (default 256 MiB); it grows with the output too.
/// - LZ4 frame: no parameter needed: the format bounds blocks at 4 MiB (the frame header says
///   64 KiB, 256 KiB, 1 MiB or 4 MiB) and the window at 64 KiB.
/// - LZ4 blocks: a block is at most the page size (`CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE`, default
///   64 KiB) and its compressed length at most LZ4's bound for it; one block is buffered.
/// One-shot `codec_decompress` applies the same defaults.
///
/// Thread safety: a decoder may be used from any thread, but from one thread at a time; no two
/// calls on the same decoder may overlap (this includes the `const` ones). Different decoders
/// are independent.
pub struct codec_decoder {
    _private: [u8; 0],
}

pub(crate) struct DecoderHandle {
    tag: u32,
    slot: ErrorSlot,
    dec: Decoder,
    /// The state made by a size query (`codec_decoder_marshal` with too small a buffer), kept
    /// for the call that fetches it, as long as the decoder has not changed in between.
    state: Option<(u64, Vec<u8>)>,
}

impl Tagged for DecoderHandle {
    const TAG: u32 = 0xC0DE_DEC0;
    fn tag(&self) -> u32 {
        self.tag
    }
    fn slot(&mut self) -> &mut ErrorSlot {
        &mut self.slot
    }
    fn slot_ref(&self) -> &ErrorSlot {
        &self.slot
    }
}

impl Castable for codec_decoder {
    type Rust = DecoderHandle;
}

fn new_handle(dec: Decoder) -> *mut codec_decoder {
    ptr::into_raw::<codec_decoder>(DecoderHandle {
        tag: DecoderHandle::TAG,
        slot: ErrorSlot::default(),
        dec,
        state: None,
    })
}

/// Create a decoder for `fmt` (`CODEC_FORMAT_AUTO` to detect the format).
///
/// On success `*out` receives a new decoder that the caller owns and must release with
/// `codec_decoder_free`. On failure `*out` is NULL and `codec_last_error()` says why.
/// Thread safety: may be called from any thread.
#[no_mangle]
pub unsafe extern "C" fn codec_decoder_new(fmt: codec_format, out: *mut *mut codec_decoder) -> codec_status {
    ffi_boundary!(|_| CODEC_E_PANIC, {
        // SAFETY: `out` is NULL or writable (caller contract).
        let out = match unsafe { ptr::out(out) } {
            Ok(o) => o,
            Err(st) => return st,
        };
        out.write(std::ptr::null_mut());
        let r = formats::decoder_format(fmt).and_then(Decoder::new).map(|dec| {
            out.write(new_handle(dec));
            CODEC_OK
        });
        super::record(r)
    })
}

/// Set a decoder parameter (`CODEC_PARAM_MEMLIMIT`, `CODEC_PARAM_ZSTD_WINDOW_LOG_MAX`,
/// `CODEC_PARAM_XZ_DICT_SIZE` for raw LZMA2, `CODEC_PARAM_LZ4BLOCKS_*`, `CODEC_PARAM_THREADS`, ...)
/// before the first input byte. An AUTO decoder accepts any parameter some decoder takes and
/// applies those that fit the detected format.
///
/// Returns `CODEC_E_UNSUPPORTED` for a parameter no decoder of this format takes,
/// `CODEC_E_INVALID` for a value out of bounds, `CODEC_E_SEQUENCE` after the first byte.
/// Thread safety: one thread at a time per decoder.
#[no_mangle]
pub unsafe extern "C" fn codec_decoder_set_param(
    d: *mut codec_decoder,
    param: codec_param,
    value: i64,
) -> codec_status {
    // SAFETY (all blocks): `d` is NULL or a live decoder (caller contract).
    ffi_boundary!(|m| unsafe { ptr::poison(d, m) }, {
        unsafe { ptr::with(d, |h| h.dec.set_param(param, value).map(|_| CODEC_OK)) }
    })
}

/// Use dictionary `dict` (NULL = none) before the first input byte. The decoder takes its own
/// reference. Data that needs a dictionary it was not given, or a different one, fails with
/// `CODEC_E_DICT`.
/// Thread safety: one thread at a time per decoder; `dict` may be shared freely.
#[no_mangle]
pub unsafe extern "C" fn codec_decoder_set_dict(d: *mut codec_decoder, dict: *const codec_dict) -> codec_status {
    ffi_boundary!(|m| unsafe { ptr::poison(d, m) }, {
        // SAFETY: `dict` is NULL or a live dictionary (caller contract).
        let dict = match unsafe { DictHandle::share(dict) } {
            Ok(x) => x,
            Err(st) => return st,
        };
        // SAFETY: `d` is NULL or a live decoder (caller contract).
        unsafe { ptr::with(d, |h| h.dec.set_dict(dict).map(|_| CODEC_OK)) }
    })
}

/// Decompress `src[0..src_len)` into `dst[0..dst_cap)`.
///
/// `*src_read` and `*dst_written` always receive the bytes consumed and produced, also on
/// error, so output decoded before an error is not lost. Returns:
/// - `CODEC_OK`: all input consumed; give more input (or the stream is complete if
///   `codec_decoder_at_frame_edge` is true);
/// - `CODEC_MORE_OUTPUT`: `dst` is full; call again (with the unconsumed input, possibly none);
/// - `CODEC_FRAME_END`: a frame ended and all its output is delivered; the bytes after it
///   (`src + *src_read`) start the next frame and the next call decodes them;
/// - an error. After a data error (corrupt or truncated data, checksum, dictionary, memory
///   limit) every call on the decoder returns `CODEC_E_SEQUENCE` until `codec_decoder_reset`,
///   and `codec_decoder_at_frame_edge` is false; the message gives the input byte offset where
///   known. Argument errors (`CODEC_E_NULL`) change nothing.
///
/// `src` may be NULL when `src_len` is 0, `dst` when `dst_cap` is 0. The library keeps no
/// pointer to either after the call.
/// Thread safety: one thread at a time per decoder.
#[no_mangle]
pub unsafe extern "C" fn codec_decoder_decode(
    d: *mut codec_decoder,
    src: *const u8,
    src_len: usize,
    src_read: *mut usize,
    dst: *mut u8,
    dst_cap: usize,
    dst_written: *mut usize,
) -> codec_status {
    // SAFETY (all blocks): pointers are NULL or valid as documented (caller contract).
    ffi_boundary!(|m| unsafe { ptr::poison(d, m) }, {
        unsafe {
            ptr::put(src_read, 0);
            ptr::put(dst_written, 0);
        }
        if src_read.is_null() || dst_written.is_null() {
            return CODEC_E_NULL;
        }
        unsafe {
            ptr::with(d, |h| {
                let src = ptr::input(src, src_len)?;
                let dst = ptr::output(dst, dst_cap)?;
                let step = h.dec.decode(src, dst);
                ptr::put(src_read, step.read);
                ptr::put(dst_written, step.written);
                step.result.map(crate::core::Status::code)
            })
        }
    })
}

/// Hand `src[0..src_len)` to the decoder without decoding it yet: it is copied, counts as
/// consumed at once (`codec_decoder_position`), is decoded by the following
/// `codec_decoder_decode` calls before any new input, and is carried by clone and marshal.
/// Use it when you must stop decoding with input left over (for example because your output
/// limit was reached) but want a saved state to include that input, so a resume always
/// starts at `consumed`. Thread safety: one thread at a time per decoder.
#[no_mangle]
pub unsafe extern "C" fn codec_decoder_feed(d: *mut codec_decoder, src: *const u8, src_len: usize) -> codec_status {
    // SAFETY (all blocks): `d` is NULL or a live decoder; `src` valid for `src_len` bytes.
    ffi_boundary!(|m| unsafe { ptr::poison(d, m) }, {
        unsafe { ptr::with(d, |h| h.dec.feed(ptr::input(src, src_len)?).map(|_| CODEC_OK)) }
    })
}

/// The format being decoded: the one the decoder was created with, or for an AUTO decoder the
/// detected one (`CODEC_FORMAT_AUTO` until enough input has arrived). Unmarshalled decoders
/// report the format of the state. Thread safety: one thread at a time per decoder.
#[no_mangle]
pub unsafe extern "C" fn codec_decoder_format(d: *const codec_decoder, out: *mut codec_format) -> codec_status {
    // SAFETY (all blocks): `d` is NULL or a live decoder; `out` NULL or writable.
    ffi_boundary!(|m| unsafe { ptr::poison(d, m) }, {
        let out = match unsafe { ptr::out(out) } {
            Ok(o) => o,
            Err(st) => return st,
        };
        out.write(CODEC_FORMAT_AUTO);
        unsafe {
            ptr::with(d, |h| {
                out.write(h.dec.format().map_or(CODEC_FORMAT_AUTO, |f| f.raw()));
                Ok(CODEC_OK)
            })
        }
    })
}

/// True when the input given so far ends at a frame boundary and all output has been
/// delivered, so the stream may legitimately end here. A caller whose input ends while this is
/// false has a truncated stream. False for NULL, and false after an error (until
/// `codec_decoder_reset`) or a panic: a failed decoder never vouches for its stream.
/// Thread safety: one thread at a time per decoder.
#[no_mangle]
pub unsafe extern "C" fn codec_decoder_at_frame_edge(d: *const codec_decoder) -> bool {
    // SAFETY: `d` is NULL or a live decoder (caller contract).
    ffi_boundary!(|_| false, {
        unsafe { ptr::handle(d) }.is_ok_and(|h| !h.slot.is_poisoned() && h.dec.at_frame_edge())
    })
}

/// Total bytes consumed (`*consumed`) and produced (`*produced`) since the decoder was created
/// or reset. Kept across clone and marshal: after `codec_decoder_unmarshal`, continue feeding
/// the input from offset `*consumed`. Either pointer may be NULL.
/// Thread safety: one thread at a time per decoder.
#[no_mangle]
pub unsafe extern "C" fn codec_decoder_position(
    d: *const codec_decoder,
    consumed: *mut u64,
    produced: *mut u64,
) -> codec_status {
    // SAFETY (all blocks): `d` is NULL or a live decoder; out-pointers NULL or writable.
    ffi_boundary!(|m| unsafe { ptr::poison(d, m) }, {
        unsafe {
            ptr::with(d, |h| {
                let (c, p) = h.dec.position();
                ptr::put(consumed, c);
                ptr::put(produced, p);
                Ok(CODEC_OK)
            })
        }
    })
}

/// Make a fully independent copy of the decoder, including any dictionary reference, position
/// and buffered data; both continue on their own. `*out` receives the copy (owned by the
/// caller, release with `codec_decoder_free`), or NULL on failure.
/// Thread safety: one thread at a time per decoder.
#[no_mangle]
pub unsafe extern "C" fn codec_decoder_clone(d: *const codec_decoder, out: *mut *mut codec_decoder) -> codec_status {
    // SAFETY (all blocks): `d` is NULL or a live decoder; `out` NULL or writable.
    ffi_boundary!(|m| unsafe { ptr::poison(d, m) }, {
        let out = match unsafe { ptr::out(out) } {
            Ok(o) => o,
            Err(st) => return st,
        };
        out.write(std::ptr::null_mut());
        unsafe {
            ptr::with(d, |h| {
                let copy = h.dec.try_clone()?;
                out.write(new_handle(copy));
                Ok(CODEC_OK)
            })
        }
    })
}

/// Save the decoder's whole state into `dst[0..dst_cap)`; `*written` receives its size.
///
/// With `dst` NULL or too small it returns `CODEC_E_BUFFER` and sets `*written` to the size
/// needed. The state is versioned, checksummed and little-endian (see docs/state-format.md);
/// it holds the live window and buffered data, not the dictionary. Valid between any two
/// decode calls. Thread safety: one thread at a time per decoder.
#[no_mangle]
pub unsafe extern "C" fn codec_decoder_marshal(
    d: *const codec_decoder,
    dst: *mut u8,
    dst_cap: usize,
    written: *mut usize,
) -> codec_status {
    // SAFETY (all blocks): `d` is NULL or a live decoder; `dst` valid for `dst_cap` bytes or
    // NULL; `written` NULL or writable.
    ffi_boundary!(|m| unsafe { ptr::poison(d, m) }, {
        unsafe { ptr::put(written, 0) };
        if written.is_null() {
            return CODEC_E_NULL;
        }
        unsafe {
            ptr::with(d, |h| {
                let gen = h.dec.generation();
                let blob = match h.state.take() {
                    Some((g, blob)) if g == gen => blob,
                    _ => h.dec.marshal()?,
                };
                ptr::put(written, blob.len());
                if dst.is_null() || dst_cap < blob.len() {
                    let n = blob.len();
                    h.state = Some((gen, blob));
                    return Err(Error::buffer(format!("the state needs {n} bytes, the buffer has {dst_cap}")));
                }
                ptr::output(dst, blob.len())?.copy_from_slice(&blob);
                Ok(CODEC_OK)
            })
        }
    })
}

/// Rebuild a decoder from a state made by `codec_decoder_marshal` (in this or another
/// process). `dict` must be the dictionary the original decoder used, or NULL if it used none:
/// a different one (checked by ID and SHA-256) gives `CODEC_E_DICT`. Any corrupted, truncated,
/// foreign or incompatible state gives `CODEC_E_STATE`. Continue by feeding the input from
/// offset `consumed` (`codec_decoder_position`).
///
/// Limits: a state is untrusted input, so it does not carry its decoder's memory limits. The
/// new decoder has the default limits (zstd window 2^27, xz/.lzma/LZMA2 memory 256 MiB); a
/// state taken inside a frame or block that needs more gives `CODEC_E_MEMLIMIT`, and later
/// frames are held to the defaults. To restore a decoder whose limits were raised, create a
/// decoder, raise them with `codec_decoder_set_param`, and use `codec_decoder_restore`.
///
/// `*out` receives the new decoder (owned by the caller) or NULL; on failure
/// `codec_last_error()` says why. Thread safety: may be called from any thread.
#[no_mangle]
pub unsafe extern "C" fn codec_decoder_unmarshal(
    state: *const u8,
    len: usize,
    dict: *const codec_dict,
    out: *mut *mut codec_decoder,
) -> codec_status {
    ffi_boundary!(|_| CODEC_E_PANIC, {
        // SAFETY: `out` NULL or writable; `state` valid for `len` bytes; `dict` NULL or live.
        let out = match unsafe { ptr::out(out) } {
            Ok(o) => o,
            Err(st) => return st,
        };
        out.write(std::ptr::null_mut());
        let dict = match unsafe { DictHandle::share(dict) } {
            Ok(x) => x,
            Err(st) => return st,
        };
        let r = unsafe { ptr::input(state, len) }.and_then(|s| Decoder::unmarshal(s, dict)).map(|dec| {
            out.write(new_handle(dec));
            CODEC_OK
        });
        super::record(r)
    })
}

/// Restore a state made by `codec_decoder_marshal` into `d`, a decoder that has had no input
/// since `codec_decoder_new` or `codec_decoder_reset` (else `CODEC_E_SEQUENCE`), keeping `d`'s
/// dictionary (set with `codec_decoder_set_dict`; it must be the one the state was made with,
/// else `CODEC_E_DICT`) and `d`'s limits (`CODEC_PARAM_ZSTD_WINDOW_LOG_MAX`,
/// `CODEC_PARAM_MEMLIMIT`, default if not set): a state whose current frame or block needs
/// more gives `CODEC_E_MEMLIMIT`, and later frames are held to them. Everything else (format,
/// position, other parameters) comes from the state. A decoder made for one format takes only
/// a state of a decoder made for that format; an AUTO decoder takes any state. Corrupted,
/// truncated, foreign or incompatible states give `CODEC_E_STATE`.
///
/// On failure `d` is unchanged (still fresh) and `codec_decoder_last_error(d)` says why. The
/// decoder stays owned by the caller. Thread safety: one thread at a time per decoder.
#[no_mangle]
pub unsafe extern "C" fn codec_decoder_restore(d: *mut codec_decoder, state: *const u8, len: usize) -> codec_status {
    // SAFETY (all blocks): `d` is NULL or a live decoder; `state` valid for `len` bytes
    // (caller contract).
    ffi_boundary!(|m| unsafe { ptr::poison(d, m) }, {
        unsafe { ptr::with(d, |h| ptr::input(state, len).and_then(|s| h.dec.restore(s)).map(|_| CODEC_OK)) }
    })
}

/// Read the header of a marshalled state (format, dictionary needed, input and output
/// offsets) after checking its integrity, without restoring it and without the dictionary.
/// `CODEC_E_STATE` for anything that is not an intact state. Thread safety: any thread.
#[no_mangle]
pub unsafe extern "C" fn codec_state_info(state: *const u8, len: usize, out: *mut codec_state_header) -> codec_status {
    ffi_boundary!(|_| CODEC_E_PANIC, {
        // SAFETY: `out` NULL or writable; `state` valid for `len` bytes (caller contract).
        let out = match unsafe { ptr::out(out) } {
            Ok(o) => o,
            Err(st) => return st,
        };
        out.write(codec_state_header::default());
        let r = unsafe { ptr::input(state, len) }.and_then(crate::state::open).map(|env| {
            out.write(codec_state_header {
                format: env.format,
                dict_id: env.dict.map_or(0, |(id, _)| id),
                needs_dict: env.dict.is_some() as u32,
                consumed: env.consumed,
                produced: env.produced,
            });
            CODEC_OK
        });
        super::record(r)
    })
}

/// Forget the current stream and any error; parameters and dictionary are kept and the
/// position restarts at 0. An AUTO decoder detects the format again.
/// Thread safety: one thread at a time per decoder.
#[no_mangle]
pub unsafe extern "C" fn codec_decoder_reset(d: *mut codec_decoder) -> codec_status {
    // SAFETY (all blocks): `d` is NULL or a live decoder (caller contract).
    ffi_boundary!(|m| unsafe { ptr::poison(d, m) }, {
        unsafe {
            ptr::with(d, |h| {
                h.dec.reset();
                Ok(CODEC_OK)
            })
        }
    })
}

/// The message of the last error on this decoder, `""` after a successful call. Never NULL;
/// the string belongs to the decoder and stays valid until the next call on it.
/// Thread safety: one thread at a time per decoder.
#[no_mangle]
pub unsafe extern "C" fn codec_decoder_last_error(d: *const codec_decoder) -> *const c_char {
    // SAFETY: `d` is NULL or a live decoder (caller contract).
    ffi_boundary!(|_| ptr::static_str(c"internal error (panic)"), { unsafe { ptr::last_error(d) } })
}

/// Release a decoder and everything it holds. NULL is a no-op. The handle must not be used
/// afterwards. Thread safety: must not overlap any other call on the same decoder.
#[no_mangle]
pub unsafe extern "C" fn codec_decoder_free(d: *mut codec_decoder) {
    // SAFETY: `d` is NULL or a live decoder, freed once (caller contract).
    ffi_boundary!(|_| (), { unsafe { ptr::free(d) } })
}
