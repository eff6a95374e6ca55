//! Thin bindings to liblz4 (lz4-sys), declaring what lz4-sys does not. The only unsafe code of
//! the LZ4 module.
#![allow(unsafe_code)]

// Using the crate (not only declaring its symbols) makes rustc link liblz4.a into libcodec.
use lz4_sys as _;

pub fn version_number() -> u32 {
    // SAFETY: pure function.
    unsafe { lz4_sys::LZ4_versionNumber() as u32 }
}
