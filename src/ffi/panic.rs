//! The panic boundary. Every exported function wraps its body in `ffi_boundary!`, so a
//! panic (a libcodec bug) never unwinds into C: it becomes the function's fallback value —
//! `CODEC_E_PANIC` for status-returning functions, after poisoning the handle involved.

use std::any::Any;

/// Run `$body`; if it panics, call `$on_panic(message)` and return its value instead.
///
/// ```ignore
/// ffi_boundary!(|msg| poison_encoder(e, msg), { ...body returning codec_status... })
/// ```
macro_rules! ffi_boundary {
    ($on_panic:expr, $body:block) => {{
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| $body)) {
            Ok(v) => v,
            Err(payload) =>
            {
                #[allow(clippy::redundant_closure_call)]
                ($on_panic)($crate::ffi::panic::describe(&*payload))
            }
        }
    }};
}
pub(crate) use ffi_boundary;

/// The message carried by a panic payload.
pub fn describe(payload: &(dyn Any + Send)) -> String {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    format!("internal error (panic): {msg}; this handle is now unusable")
}
