//! Build script: the shared library's soname, and the zstd decoder-state shim
//! (csrc/zstd_state.c), compiled against the exact zstd sources zstd-sys built.

use std::path::PathBuf;

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
    // cargo applies cdylib-link-arg to the cdylib only (the .a and the rlib are unaffected).
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libcodec.so.{major}");

    // zstd-sys (links = "zstd") exports its source tree: DEP_ZSTD_INCLUDE = .../zstd/lib.
    let inc = PathBuf::from(std::env::var("DEP_ZSTD_INCLUDE").expect(
        "DEP_ZSTD_INCLUDE is not set: zstd-sys must build its bundled zstd (not pkg-config) for the state shim",
    ));
    let internal = inc.join("decompress/zstd_decompress_internal.h");
    assert!(
        internal.exists(),
        "{} is missing: the decoder-state shim needs zstd's source tree (bundled zstd-sys build)",
        internal.display()
    );
    let zstd_h = std::fs::read_to_string(inc.join("zstd.h")).expect("zstd.h");
    assert!(
        zstd_h.contains("#define ZSTD_VERSION_MINOR    5") && zstd_h.contains("#define ZSTD_VERSION_RELEASE  7"),
        "csrc/zstd_state.c is written for zstd 1.5.7; review it before changing zstd-sys"
    );
    cc::Build::new()
        .file("csrc/zstd_state.c")
        .include(&inc)
        .include(inc.join("common"))
        .include("csrc")
        // The same layout-affecting definitions zstd-sys uses for libzstd itself (its `legacy`
        // feature is on; `thin` must stay off), or the struct view would not match.
        .define("ZSTD_LEGACY_SUPPORT", Some("1"))
        .define("XXH_PRIVATE_API", Some(""))
        .define("ZSTDLIB_VISIBILITY", Some(""))
        .define("ZSTDERRORLIB_VISIBILITY", Some(""))
        .define("ZSTD_LIB_DEPRECATED", Some("0"))
        .flag("-fvisibility=hidden")
        .warnings(true)
        .flag("-Werror")
        .compile("codec_zstd_state");
    println!("cargo:rerun-if-changed=csrc/zstd_state.c");
    println!("cargo:rerun-if-changed=csrc/zstd_state.h");
    println!("cargo:rerun-if-changed=build.rs");

    liblzma_flags();
}

/// The C flags the cc crate gives every -sys crate of this build (lzma-sys included): CFLAGS,
/// then HOST_CFLAGS (TARGET_CFLAGS when cross-compiling), then CFLAGS_<target> with
/// underscores and with dashes, each appended when set. .cargo/config.toml adds
/// -DTUKLIB_FAST_UNALIGNED_ACCESS=1 for the x86-64 and AArch64 Linux and macOS targets; warn
/// when it is lost there (a packager's own CFLAGS_<target_with_underscores> replaces ours) and
/// tell the test that checks it (src/xz/mod.rs): CODEC_LIBLZMA_FAST_UNALIGNED is "yes", "no",
/// or "n/a" on targets the config does not cover.
fn liblzma_flags() {
    let target = std::env::var("TARGET").unwrap();
    let kind = if std::env::var("HOST").unwrap() == target { "HOST" } else { "TARGET" };
    let names = [
        "CFLAGS".to_string(),
        format!("{kind}_CFLAGS"),
        format!("CFLAGS_{}", target.replace(['-', '.'], "_")),
        format!("CFLAGS_{target}"),
    ];
    let mut flags = Vec::new();
    for n in &names {
        println!("cargo:rerun-if-env-changed={n}");
        if let Ok(v) = std::env::var(n) {
            flags.extend(v.split_ascii_whitespace().map(str::to_string));
        }
    }
    // liblzma tests it with #ifdef, so any value counts; "-D NAME" may come as two words.
    let mut defined = false;
    let mut prev = "";
    for f in &flags {
        let name = match f.strip_prefix("-D") {
            Some(n) if !n.is_empty() => n,
            _ if prev == "-D" => f.as_str(),
            _ => "",
        };
        defined |= name.split('=').next() == Some("TUKLIB_FAST_UNALIGNED_ACCESS");
        prev = f;
    }
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap();
    let covered = matches!(arch.as_str(), "x86_64" | "aarch64") && matches!(os.as_str(), "linux" | "macos");
    if covered && !defined {
        println!(
            "cargo:warning=liblzma is built without -DTUKLIB_FAST_UNALIGNED_ACCESS=1 (C flags: {:?}); \
             xz compression will be 7-10 % slower. See docs/packaging.md.",
            flags.join(" ")
        );
    }
    let state = match (covered, defined) {
        (false, _) => "n/a",
        (true, true) => "yes",
        (true, false) => "no",
    };
    println!("cargo:rustc-env=CODEC_LIBLZMA_FAST_UNALIGNED={state}");
}
