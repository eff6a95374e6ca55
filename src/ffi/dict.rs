//! `codec_dict`: immutable, reference-counted dictionaries.

use std::sync::Arc;

use super::panic::ffi_boundary;
use super::ptr::{self, Castable, ErrorSlot, Tagged};
use crate::abi::*;
use crate::dict::Dict;

/// A dictionary: immutable once created, shareable by any number of encoders, decoders and
/// threads at once. Encoders and decoders take their own reference, so the creator may free
/// it with `codec_dict_free` as soon as it has handed it to them.
///
/// Thread safety: every function on a dictionary may be called from any thread concurrently.
pub struct codec_dict {
    _private: [u8; 0],
}

pub(crate) struct DictHandle {
    tag: u32,
    slot: ErrorSlot,
    pub(crate) dict: Arc<Dict>,
}

impl Tagged for DictHandle {
    const TAG: u32 = 0xC0DE_D1C7;
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

impl Castable for codec_dict {
    type Rust = DictHandle;
}

impl DictHandle {
    pub(crate) fn into_raw(dict: Dict) -> *mut codec_dict {
        ptr::into_raw::<codec_dict>(DictHandle { tag: Self::TAG, slot: ErrorSlot::default(), dict: Arc::new(dict) })
    }

    /// A new reference to the dictionary behind `p` (`None` for NULL).
    ///
    /// # Safety
    /// `p` must be NULL or a live dictionary.
    pub(crate) unsafe fn share(p: *const codec_dict) -> Result<Option<Arc<Dict>>, codec_status> {
        if p.is_null() {
            return Ok(None);
        }
        // SAFETY: forwarded contract; only shared access is used.
        unsafe { ptr::handle(p) }.map(|h| Some(h.dict.clone()))
    }
}

/// Load a dictionary from `content[0..len)`: a zstd-format dictionary (starting with the
/// magic `0xEC30A437`; it must be well formed) or any other bytes as raw content (ID 0).
/// The bytes are copied.
///
/// On success `*out` receives a dictionary the caller owns (release with `codec_dict_free`);
/// on failure `*out` is NULL and `codec_last_error()` says why.
/// Thread safety: may be called from any thread.
#[no_mangle]
pub unsafe extern "C" fn codec_dict_load(content: *const u8, len: usize, out: *mut *mut codec_dict) -> codec_status {
    ffi_boundary!(|_| CODEC_E_PANIC, {
        // SAFETY: `out` is NULL or writable; `content` is valid for `len` bytes (caller contract).
        let out = match unsafe { ptr::out(out) } {
            Ok(o) => o,
            Err(st) => return st,
        };
        out.write(std::ptr::null_mut());
        let r = unsafe { ptr::input(content, len) }.and_then(Dict::load).map(|d| {
            out.write(DictHandle::into_raw(d));
            CODEC_OK
        });
        super::record(r)
    })
}

fn train(
    samples: *const u8,
    sample_sizes: *const usize,
    n_samples: usize,
    capacity: usize,
    params: Option<&codec_train_params>,
    out: *mut *mut codec_dict,
) -> codec_status {
    // SAFETY: `out` is NULL or writable; `sample_sizes` holds `n_samples` entries and
    // `samples` their sum in bytes (caller contract).
    let out = match unsafe { ptr::out(out) } {
        Ok(o) => o,
        Err(st) => return st,
    };
    out.write(std::ptr::null_mut());
    let r = (|| {
        let sizes = unsafe { ptr::array(sample_sizes, n_samples) }?;
        let total = sizes
            .iter()
            .try_fold(0usize, |a, &n| a.checked_add(n))
            .ok_or_else(|| crate::error::Error::invalid("sample sizes overflow"))?;
        let samples = unsafe { ptr::input(samples, total) }?;
        let d = Dict::train(samples, sizes, capacity, params)?;
        out.write(DictHandle::into_raw(d));
        Ok(CODEC_OK)
    })();
    super::record(r)
}

/// Train a zstd dictionary of at most `dict_capacity` bytes from `n_samples` samples stored
/// one after another at `samples`, sample `i` being `sample_sizes[i]` bytes, with the
/// settings of `zstd --train` (fastCover, d = 8, searching k). Train on representative data:
/// typically thousands of samples totalling about 100 times the dictionary size.
///
/// Fewer than 8 samples of at least 8 bytes, or a capacity below 256 bytes, give
/// `CODEC_E_INVALID`, as does any failure of zstd's trainer (with its message in
/// `codec_last_error()`). On success `*out` receives a dictionary the caller owns.
/// Thread safety: may be called from any thread.
#[no_mangle]
pub unsafe extern "C" fn codec_dict_train(
    samples: *const u8,
    sample_sizes: *const usize,
    n_samples: usize,
    dict_capacity: usize,
    out: *mut *mut codec_dict,
) -> codec_status {
    ffi_boundary!(|_| CODEC_E_PANIC, { train(samples, sample_sizes, n_samples, dict_capacity, None, out) })
}

/// `codec_dict_train` with a choice of trainer and its parameters (`params` NULL = the
/// defaults of `codec_dict_train`; a zeroed struct = fastCover searching both k and d).
/// Thread safety: may be called from any thread.
#[no_mangle]
pub unsafe extern "C" fn codec_dict_train_ex(
    samples: *const u8,
    sample_sizes: *const usize,
    n_samples: usize,
    dict_capacity: usize,
    params: *const codec_train_params,
    out: *mut *mut codec_dict,
) -> codec_status {
    ffi_boundary!(|_| CODEC_E_PANIC, {
        // SAFETY: `params` is NULL or points to a readable struct (caller contract).
        let p = unsafe { params.as_ref() };
        train(samples, sample_sizes, n_samples, dict_capacity, p, out)
    })
}

/// The zstd dictionary ID (0 for raw content or NULL).
/// Thread safety: any thread, concurrently.
#[no_mangle]
pub unsafe extern "C" fn codec_dict_id(d: *const codec_dict) -> u32 {
    // SAFETY: `d` is NULL or a live dictionary (caller contract).
    ffi_boundary!(|_| 0, { unsafe { ptr::handle(d) }.map_or(0, |h| h.dict.id()) })
}

/// The dictionary's bytes exactly as loaded or trained; `*len` (if not NULL) receives their
/// size. The pointer belongs to the dictionary and stays valid until it is freed. NULL for a
/// NULL dictionary.
/// Thread safety: any thread, concurrently.
#[no_mangle]
pub unsafe extern "C" fn codec_dict_content(d: *const codec_dict, len: *mut usize) -> *const u8 {
    // SAFETY: `d` is NULL or a live dictionary; `len` NULL or writable (caller contract).
    ffi_boundary!(|_| std::ptr::null(), {
        match unsafe { ptr::handle(d) } {
            Ok(h) => {
                unsafe { ptr::put(len, h.dict.bytes().len()) };
                h.dict.bytes().as_ptr()
            }
            Err(_) => {
                unsafe { ptr::put(len, 0) };
                std::ptr::null()
            }
        }
    })
}

/// Release the caller's reference. Encoders and decoders that use the dictionary keep their
/// own; the memory goes when the last user is gone. NULL is a no-op.
/// Thread safety: any thread, but not concurrently with other calls on the same reference.
#[no_mangle]
pub unsafe extern "C" fn codec_dict_free(d: *mut codec_dict) {
    // SAFETY: `d` is NULL or a live dictionary, freed once (caller contract).
    ffi_boundary!(|_| (), { unsafe { ptr::free(d) } })
}
