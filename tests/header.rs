//! include/codec.h must be exactly what cbindgen generates from the sources, so the committed
//! header can never drift from the library. `CODEC_REGENERATE_HEADER=1 cargo test --test
//! header` (or `make header`) rewrites it.

use std::path::Path;

fn version_macros() -> String {
    let major: u32 = env!("CARGO_PKG_VERSION_MAJOR").parse().unwrap();
    let minor: u32 = env!("CARGO_PKG_VERSION_MINOR").parse().unwrap();
    let patch: u32 = env!("CARGO_PKG_VERSION_PATCH").parse().unwrap();
    format!(
        "\n/** Major version of this header (the library's is codec_version_number()). */\n\
         #define CODEC_VERSION_MAJOR {major}\n\
         /** Minor version of this header. */\n\
         #define CODEC_VERSION_MINOR {minor}\n\
         /** Patch version of this header. */\n\
         #define CODEC_VERSION_PATCH {patch}\n\
         /** MAJOR*10000 + MINOR*100 + PATCH; compare with codec_version_number(). */\n\
         #define CODEC_VERSION_NUMBER {}\n\
         /** The version as a string literal. */\n\
         #define CODEC_VERSION_STRING \"{major}.{minor}.{patch}\"\n",
        major * 10000 + minor * 100 + patch
    )
}

fn generate() -> Vec<u8> {
    let dir = env!("CARGO_MANIFEST_DIR");
    let mut config = cbindgen::Config::from_file(Path::new(dir).join("cbindgen.toml")).expect("cbindgen.toml");
    config.after_includes = Some(version_macros());
    let mut out = Vec::new();
    cbindgen::Builder::new().with_crate(dir).with_config(config).generate().expect("cbindgen failed").write(&mut out);
    // A negative macro must be parenthesised: `x-CODEC_E_NULL` would otherwise read `x--1`.
    let text = String::from_utf8(out).unwrap();
    let text: String = text
        .lines()
        .map(|l| match l.strip_prefix("#define ").and_then(|r| r.split_once(' ')) {
            Some((name, v)) if v.starts_with('-') && v[1..].bytes().all(|b| b.is_ascii_digit()) => {
                format!("#define {name} ({v})\n")
            }
            _ => format!("{l}\n"),
        })
        .collect();
    text.into_bytes()
}

#[test]
fn committed_header_matches_generation() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/codec.h");
    let fresh = generate();
    if std::env::var_os("CODEC_REGENERATE_HEADER").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    if committed != fresh {
        let c = String::from_utf8_lossy(&committed);
        let f = String::from_utf8_lossy(&fresh);
        let first =
            c.lines().zip(f.lines()).position(|(a, b)| a != b).unwrap_or(c.lines().count().min(f.lines().count()));
        panic!(
            "include/codec.h differs from a fresh generation (first difference at line {}): run `make header` and commit it\n  committed: {:?}\n  generated: {:?}",
            first + 1,
            c.lines().nth(first),
            f.lines().nth(first)
        );
    }
}

#[test]
fn every_header_item_is_documented() {
    let h = String::from_utf8(generate()).unwrap();
    let lines: Vec<&str> = h.lines().collect();
    let mut undocumented = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let is_item = (l.starts_with("#define CODEC_") && !l.starts_with("#define CODEC_H"))
            || l.starts_with("codec_status ")
            || l.starts_with("typedef ")
            || (l.contains(" codec_") && l.contains('(') && !l.starts_with([' ', '*', '/']));
        if is_item {
            let prev = lines[..i].iter().rev().find(|p| !p.trim().is_empty()).copied().unwrap_or("");
            if !prev.trim_end().ends_with("*/") {
                undocumented.push(*l);
            }
        }
    }
    assert!(undocumented.is_empty(), "header items without a doc comment: {undocumented:#?}");
}

#[test]
fn header_exports_only_codec_names() {
    let h = String::from_utf8(generate()).unwrap();
    for l in h.lines() {
        if let Some(rest) = l.strip_prefix("#define ") {
            assert!(rest.starts_with("CODEC_"), "non-codec macro in the header: {l}");
        }
        if l.starts_with("typedef ") {
            assert!(l.contains(" codec_"), "non-codec type in the header: {l}");
        }
    }
}

#[test]
fn header_version_matches_cargo_toml() {
    let h = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("include/codec.h")).unwrap();
    let want = format!("#define CODEC_VERSION_STRING \"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(h.contains(&want), "header version is not Cargo.toml's {}", env!("CARGO_PKG_VERSION"));
    let n = codec::ffi::library::codec_version_number();
    assert!(h.contains(&format!("#define CODEC_VERSION_NUMBER {n}")));
}

#[test]
fn every_param_in_the_header_has_a_name() {
    let h = String::from_utf8(generate()).unwrap();
    let in_header: Vec<&str> = h
        .lines()
        .filter_map(|l| l.strip_prefix("#define CODEC_PARAM_"))
        .map(|r| r.split(' ').next().unwrap())
        .collect();
    let known: Vec<&str> = codec::params::ALL_PARAMS
        .iter()
        .map(|&p| codec::params::param_name(p).trim_start_matches("CODEC_PARAM_"))
        .collect();
    assert_eq!(in_header, known, "src/params.rs is out of step with src/abi.rs");
}
