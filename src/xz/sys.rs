//! Thin bindings to liblzma (lzma-sys, built statically). The only unsafe code of the xz
//! module.
#![allow(unsafe_code)]

use std::ffi::CStr;

pub fn version_string() -> String {
    // SAFETY: returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(lzma_sys::lzma_version_string()) }.to_string_lossy().into_owned()
}
