//! `codec_encoder`: streaming compression.

use std::ffi::c_char;

use super::dict::DictHandle;
use super::panic::ffi_boundary;
use super::ptr::{self, Castable, ErrorSlot, Tagged};
use crate::abi::*;
use crate::core::{Action, Status};
use crate::error::Error;
use crate::formats;
use crate::stream::Encoder;

/// A streaming compressor for one format.
///
/// Create it with `codec_encoder_new`, configure it with `codec_encoder_set_param`,
/// `codec_encoder_set_dict` and `codec_encoder_set_pledged_size` before the first byte, feed it
/// with `codec_encoder_encode`, and release it with `codec_encoder_free`. After a completed
/// `CODEC_FINISH` it starts a new frame with the next byte (and may be reconfigured first).
///
/// Thread safety: an encoder may be used from any thread, but from one thread at a time; no
/// two calls on the same encoder may overlap. Different encoders are independent.
pub struct codec_encoder {
    _private: [u8; 0],
}

pub(crate) struct EncoderHandle {
    tag: u32,
    slot: ErrorSlot,
    enc: Encoder,
}

impl Tagged for EncoderHandle {
    const TAG: u32 = 0xC0DE_E11C;
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

impl Castable for codec_encoder {
    type Rust = EncoderHandle;
}

/// Create an encoder for `fmt` (not `CODEC_FORMAT_AUTO`) with the format's default parameters.
///
/// On success `*out` receives a new encoder that the caller owns and must release with
/// `codec_encoder_free`. On failure `*out` is set to NULL and `codec_last_error()` says why.
/// Thread safety: may be called from any thread.
#[no_mangle]
pub unsafe extern "C" fn codec_encoder_new(fmt: codec_format, out: *mut *mut codec_encoder) -> codec_status {
    ffi_boundary!(|_| CODEC_E_PANIC, {
        // SAFETY: `out` is NULL or writable (caller contract).
        let out = match unsafe { ptr::out(out) } {
            Ok(o) => o,
            Err(st) => return st,
        };
        out.write(std::ptr::null_mut());
        let r = formats::encoder_format(fmt).and_then(Encoder::new).map(|enc| {
            out.write(ptr::into_raw::<codec_encoder>(EncoderHandle {
                tag: EncoderHandle::TAG,
                slot: ErrorSlot::default(),
                enc,
            }));
            CODEC_OK
        });
        super::record(r)
    })
}

/// Set a parameter (`CODEC_PARAM_*`) to `value` before the first byte of a frame.
///
/// Returns `CODEC_E_UNSUPPORTED` for a parameter that does not apply to this format's
/// encoder, `CODEC_E_INVALID` for a value outside `codec_param_bounds`, `CODEC_E_SEQUENCE`
/// once the frame has begun (until it is finished or the encoder reset).
/// Thread safety: one thread at a time per encoder.
#[no_mangle]
pub unsafe extern "C" fn codec_encoder_set_param(
    e: *mut codec_encoder,
    param: codec_param,
    value: i64,
) -> codec_status {
    // SAFETY (all blocks): `e` is NULL or a live encoder (caller contract).
    ffi_boundary!(|m| unsafe { ptr::poison(e, m) }, {
        unsafe { ptr::with(e, |h| h.enc.set_param(param, value).map(|_| CODEC_OK)) }
    })
}

/// Use dictionary `dict` for the following frames (NULL = none), before the first byte.
///
/// The encoder takes its own reference: the caller may free `dict` at any time afterwards.
/// xz and .lzma cannot carry a dictionary (`CODEC_E_UNSUPPORTED`).
/// Thread safety: one thread at a time per encoder; `dict` may be shared freely.
#[no_mangle]
pub unsafe extern "C" fn codec_encoder_set_dict(
    e: *mut codec_encoder,
    dict: *const super::dict::codec_dict,
) -> codec_status {
    ffi_boundary!(|m| unsafe { ptr::poison(e, m) }, {
        // SAFETY: `dict` is NULL or a live dictionary (caller contract).
        let d = match unsafe { DictHandle::share(dict) } {
            Ok(d) => d,
            Err(st) => return st,
        };
        // SAFETY: `e` is NULL or a live encoder (caller contract).
        unsafe { ptr::with(e, |h| h.enc.set_dict(d).map(|_| CODEC_OK)) }
    })
}

/// Declare the exact uncompressed size of the next frame, before its first byte. zstd, LZ4
/// frame and xz record it in the header; a frame whose content differs fails with
/// `CODEC_E_INVALID`. It applies to one frame only.
/// Thread safety: one thread at a time per encoder.
#[no_mangle]
pub unsafe extern "C" fn codec_encoder_set_pledged_size(e: *mut codec_encoder, size: u64) -> codec_status {
    // SAFETY (all blocks): `e` is NULL or a live encoder (caller contract).
    ffi_boundary!(|m| unsafe { ptr::poison(e, m) }, {
        unsafe { ptr::with(e, |h| h.enc.set_pledged_size(size).map(|_| CODEC_OK)) }
    })
}

/// Compress `src[0..src_len)` into `dst[0..dst_cap)` and perform `action`
/// (`CODEC_CONTINUE`, `CODEC_FLUSH` or `CODEC_FINISH`).
///
/// `*src_read` and `*dst_written` always receive the bytes consumed and produced, also when an
/// error is returned. Returns `CODEC_OK` when all input was consumed and the flush or finish
/// (if asked) is complete; `CODEC_MORE_OUTPUT` when `dst` filled first: call again with the
/// same action and the unconsumed input. `CODEC_FLUSH` makes everything given so far decodable
/// without ending the frame; where the configuration cannot do that (.lzma, xz with BCJ or
/// threads) it returns `CODEC_E_UNSUPPORTED` before consuming anything and the encoder stays
/// usable. `src` may be NULL when `src_len` is 0, `dst` when `dst_cap` is 0. Argument errors
/// (`CODEC_E_NULL`, `CODEC_E_INVALID` — including input beyond a pledged size, refused before
/// anything is consumed — and `CODEC_E_UNSUPPORTED`) change nothing; after any other error the
/// encoder returns `CODEC_E_SEQUENCE` until `codec_encoder_reset`.
///
/// The library keeps no pointer to `src` or `dst` after the call.
/// Thread safety: one thread at a time per encoder.
#[no_mangle]
pub unsafe extern "C" fn codec_encoder_encode(
    e: *mut codec_encoder,
    src: *const u8,
    src_len: usize,
    src_read: *mut usize,
    dst: *mut u8,
    dst_cap: usize,
    dst_written: *mut usize,
    action: codec_action,
) -> codec_status {
    // SAFETY (all blocks): pointers are NULL or valid as documented (caller contract).
    ffi_boundary!(|m| unsafe { ptr::poison(e, m) }, {
        unsafe {
            ptr::put(src_read, 0);
            ptr::put(dst_written, 0);
        }
        if src_read.is_null() || dst_written.is_null() {
            return CODEC_E_NULL;
        }
        unsafe {
            ptr::with(e, |h| {
                let src = ptr::input(src, src_len)?;
                let dst = ptr::output(dst, dst_cap)?;
                let action =
                    Action::from_raw(action).ok_or_else(|| Error::invalid(format!("unknown action {action}")))?;
                let step = h.enc.encode(src, dst, action);
                ptr::put(src_read, step.read);
                ptr::put(dst_written, step.written);
                step.result.map(Status::code)
            })
        }
    })
}

/// Abandon the current frame and clear any error; parameters and dictionary are kept. The
/// next byte starts a new frame.
/// Thread safety: one thread at a time per encoder.
#[no_mangle]
pub unsafe extern "C" fn codec_encoder_reset(e: *mut codec_encoder) -> codec_status {
    // SAFETY (all blocks): `e` is NULL or a live encoder (caller contract).
    ffi_boundary!(|m| unsafe { ptr::poison(e, m) }, {
        unsafe {
            ptr::with(e, |h| {
                h.enc.reset();
                Ok(CODEC_OK)
            })
        }
    })
}

/// The message of the last error on this encoder, `""` after a successful call. Never NULL;
/// the string belongs to the encoder and stays valid until the next call on it.
/// Thread safety: one thread at a time per encoder.
#[no_mangle]
pub unsafe extern "C" fn codec_encoder_last_error(e: *const codec_encoder) -> *const c_char {
    // SAFETY: `e` is NULL or a live encoder (caller contract).
    ffi_boundary!(|_| ptr::static_str(c"internal error (panic)"), { unsafe { ptr::last_error(e) } })
}

/// Release an encoder and everything it holds (including its dictionary reference).
/// NULL is a no-op. The handle must not be used afterwards.
/// Thread safety: must not overlap any other call on the same encoder.
#[no_mangle]
pub unsafe extern "C" fn codec_encoder_free(e: *mut codec_encoder) {
    // SAFETY: `e` is NULL or a live encoder, freed once (caller contract).
    ffi_boundary!(|_| (), { unsafe { ptr::free(e) } })
}
