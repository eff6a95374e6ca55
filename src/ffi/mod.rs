//! The C surface: every `codec_*` export, one file per handle type, plus `library.rs` for the
//! calls that take no handle. Raw pointers are only touched through `ptr.rs`; every export
//! runs inside `ffi_boundary!` (`panic.rs`).
#![allow(unsafe_code)]
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)] // each export documents its contract in the header
#![deny(missing_docs)]

pub(crate) mod panic;
pub(crate) mod ptr;

pub mod decoder;
pub mod dict;
pub mod encoder;
pub mod library;

use std::cell::RefCell;
use std::ffi::{c_char, CString};

use crate::abi::codec_status;
use crate::error::Error;

thread_local! {
    /// Message of the last failed call that has no handle to keep it on.
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Record the outcome of a handle-less call in the thread's last-error slot.
pub(crate) fn record(r: Result<codec_status, Error>) -> codec_status {
    match r {
        Ok(st) => st,
        Err(e) => {
            let msg = CString::new(e.msg.replace('\0', " ")).unwrap_or_default();
            LAST_ERROR.with(|m| *m.borrow_mut() = msg);
            e.status()
        }
    }
}

pub(crate) fn last_error_ptr() -> *const c_char {
    LAST_ERROR.with(|m| m.borrow().as_ptr())
}
