//! Build script: the shared library's soname.

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
    // cargo applies cdylib-link-arg to the cdylib only (the .a and the rlib are unaffected).
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libcodec.so.{major}");
    println!("cargo:rerun-if-changed=build.rs");
}
