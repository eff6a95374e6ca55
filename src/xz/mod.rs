//! xz / LZMA: encoders over liblzma (bundled, static) and our own marshal-ready decoders.

/// cbindgen:ignore
pub(crate) mod sys;

/// Version of the bundled liblzma, like "5.2.5".
pub fn version_string() -> String {
    sys::version_string()
}
