//! Every raw-pointer cast and NULL check of the C surface lives here, so the safety argument is
//! made once. The exported functions call these helpers and never dereference a pointer
//! themselves.
//!
//! Handles are `Box`es of Rust structs carrying a type tag; the C side sees an opaque struct.
//! The tag turns the commonest misuse (a decoder passed where an encoder is expected) into a
//! clean `CODEC_E_INVALID` instead of memory corruption. It is a diagnostic, not a guarantee:
//! a freed handle is undefined behaviour as in any C library.
#![allow(unsafe_code)]

use std::ffi::{c_char, CString};

use crate::abi::*;
use crate::error::Error;

/// Connects an opaque C handle type to the Rust struct behind it.
pub(crate) trait Castable {
    type Rust: Tagged;
}

/// A handle's Rust struct: starts with a tag, can remember the last error and be poisoned.
pub(crate) trait Tagged {
    const TAG: u32;
    fn tag(&self) -> u32;
    fn slot(&mut self) -> &mut ErrorSlot;
    fn slot_ref(&self) -> &ErrorSlot;
}

/// Per-handle error bookkeeping: the last message and the poisoned flag (set by a panic).
#[derive(Default)]
pub(crate) struct ErrorSlot {
    message: CString,
    poisoned: bool,
}

impl ErrorSlot {
    pub fn set(&mut self, msg: &str) {
        self.message = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    }
    pub fn clear(&mut self) {
        if !self.message.as_bytes().is_empty() {
            self.message = CString::default();
        }
    }
    pub fn message_ptr(&self) -> *const c_char {
        self.message.as_ptr()
    }
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }
    pub fn poison(&mut self, msg: &str) {
        self.poisoned = true;
        self.set(msg);
    }
    /// Record the outcome of a call: errors leave their message, success clears it.
    pub fn record(&mut self, r: Result<codec_status, Error>) -> codec_status {
        match r {
            Ok(st) => {
                self.clear();
                st
            }
            Err(e) => {
                self.set(&e.msg);
                e.status()
            }
        }
    }
}

/// Hand a new handle to C.
pub(crate) fn into_raw<C: Castable>(h: C::Rust) -> *mut C {
    Box::into_raw(Box::new(h)) as *mut C
}

/// Borrow the Rust struct behind a handle.
///
/// # Safety
/// `p` must be NULL or a pointer returned by the matching `_new` / `_clone` / `_unmarshal`
/// that has not been freed, and no other reference to it may be live.
pub(crate) unsafe fn handle<'a, C: Castable>(p: *const C) -> Result<&'a mut C::Rust, codec_status> {
    if p.is_null() {
        return Err(CODEC_E_NULL);
    }
    // SAFETY: per the contract, `p` came from `into_raw::<C>` and is live and unaliased.
    let h = unsafe { &mut *(p as *mut C::Rust) };
    if h.tag() != <C::Rust as Tagged>::TAG {
        return Err(CODEC_E_INVALID);
    }
    Ok(h)
}

/// Run `f` on a handle: NULL and tag checks, refusal once poisoned, last-error bookkeeping.
///
/// # Safety
/// As for [`handle`].
pub(crate) unsafe fn with<C: Castable>(
    p: *const C,
    f: impl FnOnce(&mut C::Rust) -> Result<codec_status, Error>,
) -> codec_status {
    // SAFETY: forwarded contract.
    let h = match unsafe { handle(p) } {
        Ok(h) => h,
        Err(st) => return st,
    };
    if h.slot_ref().poisoned {
        return CODEC_E_PANIC;
    }
    let r = f(h);
    h.slot().record(r)
}

/// Mark a handle unusable after a panic inside a call on it; returns `CODEC_E_PANIC`.
///
/// # Safety
/// As for [`handle`]. The panicking call's borrows have ended when this runs.
pub(crate) unsafe fn poison<C: Castable>(p: *const C, msg: String) -> codec_status {
    // SAFETY: forwarded contract.
    if let Ok(h) = unsafe { handle(p) } {
        h.slot().poison(&msg);
    }
    CODEC_E_PANIC
}

/// The last error message of a handle; never NULL.
///
/// # Safety
/// As for [`handle`].
pub(crate) unsafe fn last_error<C: Castable>(p: *const C) -> *const c_char {
    // SAFETY: forwarded contract.
    match unsafe { handle(p) } {
        Ok(h) => h.slot_ref().message_ptr(),
        Err(CODEC_E_NULL) => c"NULL handle".as_ptr(),
        Err(_) => c"not a valid handle of this type (wrong type, or already freed)".as_ptr(),
    }
}

/// Free a handle; NULL is a no-op.
///
/// # Safety
/// `p` must be NULL or a live handle from the matching constructor, not used afterwards.
pub(crate) unsafe fn free<C: Castable>(p: *mut C) {
    if p.is_null() {
        return;
    }
    // SAFETY: per the contract, `p` came from `into_raw::<C>` and is freed exactly once.
    let b = unsafe { Box::from_raw(p as *mut C::Rust) };
    if b.tag() != <C::Rust as Tagged>::TAG {
        // A handle of another type: freeing it as this type would corrupt memory, so leak it.
        std::mem::forget(b);
    }
}

/// An input buffer; NULL is allowed when the length is 0.
///
/// # Safety
/// `p` must be NULL or valid for reads of `len` bytes for the duration of the call.
pub(crate) unsafe fn input<'a>(p: *const u8, len: usize) -> Result<&'a [u8], Error> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Error::new(crate::error::ErrorKind::Null, "input pointer is NULL with a non-zero length"));
    }
    // SAFETY: per the contract.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// An output buffer; NULL is allowed when the capacity is 0.
///
/// # Safety
/// `p` must be NULL or valid for writes of `cap` bytes for the duration of the call, and not
/// overlap any input buffer of the same call.
pub(crate) unsafe fn output<'a>(p: *mut u8, cap: usize) -> Result<&'a mut [u8], Error> {
    if cap == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(Error::new(crate::error::ErrorKind::Null, "output pointer is NULL with a non-zero capacity"));
    }
    // SAFETY: per the contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, cap) })
}

/// An array of `n` values; NULL is allowed when `n` is 0.
///
/// # Safety
/// `p` must be NULL or valid for reads of `n` values for the duration of the call.
pub(crate) unsafe fn array<'a, T>(p: *const T, n: usize) -> Result<&'a [T], Error> {
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Error::new(crate::error::ErrorKind::Null, "array pointer is NULL with a non-zero count"));
    }
    // SAFETY: per the contract.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// A required out-parameter.
///
/// # Safety
/// `p` must be NULL or valid for a write of one `T`.
pub(crate) unsafe fn out<'a, T>(p: *mut T) -> Result<&'a mut std::mem::MaybeUninit<T>, codec_status> {
    if p.is_null() {
        return Err(CODEC_E_NULL);
    }
    // SAFETY: per the contract; MaybeUninit makes no claim about the current contents.
    Ok(unsafe { &mut *(p as *mut std::mem::MaybeUninit<T>) })
}

/// Write `v` through `p` if it is not NULL.
///
/// # Safety
/// `p` must be NULL or valid for a write of one `T`.
pub(crate) unsafe fn put<T>(p: *mut T, v: T) {
    if !p.is_null() {
        // SAFETY: per the contract.
        unsafe { p.write(v) };
    }
}

/// A static NUL-terminated string as a C pointer.
pub(crate) fn static_str(s: &'static std::ffi::CStr) -> *const c_char {
    s.as_ptr()
}
