//! libcodec: streaming zstd, LZ4 (frame and block streaming) and xz/LZMA behind one C ABI,
//! with flush on every format, decoders whose state can be cloned or marshalled mid-frame, and
//! shared dictionaries.
//!
//! Layout: `abi` is the C vocabulary; `core` the trait pair each format implements (`zstd`,
//! `lz4`, `xz`); `stream` the format-independent wrappers; `state` the marshalled-state
//! container; `dict` dictionaries; `ffi` the exported C functions. Only `ffi` and the thin
//! bindings inside each format module contain unsafe code.
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod abi;
pub mod core;
pub mod dict;
pub mod error;
pub mod ffi;
pub mod formats;
pub mod lz4;
pub mod params;
/// cbindgen:ignore
pub mod pool;
pub mod state;
pub mod stream;
pub mod xz;
pub mod zstd;

pub use crate::core::{Action, Status, Step};
pub use crate::dict::Dict;
pub use crate::error::{Error, ErrorKind, Result};
pub use crate::formats::Format;
pub use crate::stream::{Decoder, Encoder};
