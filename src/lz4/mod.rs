//! LZ4: the frame format and block streaming.

/// cbindgen:ignore
pub(crate) mod sys;

/// Version of the bundled liblz4, like "1.10.0".
pub fn version_string() -> String {
    let n = sys::version_number();
    format!("{}.{}.{}", n / 10000, n / 100 % 100, n % 100)
}
