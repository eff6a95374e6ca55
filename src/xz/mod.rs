//! xz / LZMA: encoders over liblzma (bundled, static) and our own marshal-ready decoders.
//!
//! The decoders (`decoder.rs` and below) are written in safe Rust so that their whole state is
//! plain data: they clone, and marshal field by field. See docs/xz-decoder.md.

mod check;
mod decoder;
mod encoder;
mod filters;
mod lzma;
mod payload;
/// cbindgen:ignore
#[doc(hidden)]
pub mod sys;

pub use decoder::XzDecoder;
pub use encoder::XzEncoder;

use crate::abi::*;
use crate::core::ParamSpec;
use crate::error::{Error, Result};
use crate::formats::Format;
use decoder::Kind;

/// Version of the bundled liblzma, like "5.2.5".
pub fn version_string() -> String {
    sys::version_string()
}

fn kind(f: Format) -> Kind {
    match f {
        Format::Xz => Kind::Xz,
        Format::Lzma2Raw => Kind::Raw,
        _ => Kind::Alone,
    }
}

pub fn new_encoder(f: Format) -> Result<XzEncoder> {
    XzEncoder::new(f)
}

pub fn new_decoder(f: Format) -> XzDecoder {
    XzDecoder::new(kind(f))
}

/// Rebuild a decoder; the payload must be one of `f`'s.
pub fn unmarshal_decoder(
    f: Format,
    r: &mut crate::state::StateReader<'_>,
    dict: Option<std::sync::Arc<crate::dict::Dict>>,
    memlimit: Option<u64>,
) -> Result<XzDecoder> {
    if dict.is_some() && f != Format::Lzma2Raw {
        // No xz or .lzma decoder has one (`set_dict` refuses it, as does format detection).
        return Err(Error::state(
            "the state of an xz or .lzma decoder claims a dictionary, which those formats cannot use",
        ));
    }
    let d = XzDecoder::unmarshal(r, dict, memlimit)?;
    if d.kind() != kind(f) {
        return Err(Error::state("the state's payload belongs to another LZMA format"));
    }
    Ok(d)
}

/// Largest thread count the multithreaded xz encoder accepts here.
pub(crate) const THREADS_MAX: i64 = 256;
/// Largest LZMA dictionary: 1.5 GiB (liblzma's limit for its encoders).
pub(crate) const DICT_SIZE_MAX: i64 = 3 << 29;

pub fn param_spec(f: Format, p: codec_param) -> Option<ParamSpec> {
    let lzma_enc = match p {
        CODEC_PARAM_LEVEL | CODEC_PARAM_XZ_PRESET => Some(ParamSpec::enc(0, 9)),
        CODEC_PARAM_XZ_EXTREME => Some(ParamSpec::enc(0, 1)),
        CODEC_PARAM_XZ_LC | CODEC_PARAM_XZ_LP | CODEC_PARAM_XZ_PB => Some(ParamSpec::enc(0, 4)),
        CODEC_PARAM_XZ_MODE => Some(ParamSpec::enc(1, 2)),
        CODEC_PARAM_XZ_MATCH_FINDER => Some(ParamSpec::enc(0x03, 0x14)),
        CODEC_PARAM_XZ_NICE_LEN => Some(ParamSpec::enc(2, 273)),
        CODEC_PARAM_XZ_DEPTH => Some(ParamSpec::enc(0, u32::MAX as i64)),
        CODEC_PARAM_MEMLIMIT => Some(ParamSpec::dec(1 << 10, i64::MAX)),
        _ => None,
    };
    if lzma_enc.is_some() {
        return lzma_enc;
    }
    match (f, p) {
        (_, CODEC_PARAM_XZ_DICT_SIZE) if f == Format::Lzma2Raw => Some(ParamSpec::both(4096, DICT_SIZE_MAX)),
        (_, CODEC_PARAM_XZ_DICT_SIZE) => Some(ParamSpec::enc(4096, DICT_SIZE_MAX)),
        (Format::Xz, CODEC_PARAM_CHECKSUM | CODEC_PARAM_XZ_CHECK) => Some(ParamSpec::enc(0, 10)),
        (Format::Xz, CODEC_PARAM_THREADS) => Some(ParamSpec::enc(1, THREADS_MAX)),
        (Format::Xz, CODEC_PARAM_XZ_BLOCK_SIZE) => Some(ParamSpec::enc(0, i64::MAX)),
        (Format::Xz, CODEC_PARAM_XZ_DELTA_DIST) => Some(ParamSpec::enc(0, 256)),
        (Format::Xz, CODEC_PARAM_XZ_BCJ_X86) => Some(ParamSpec::enc(0, 1)),
        (Format::Lzma2Raw, CODEC_PARAM_XZ_DELTA_DIST) => Some(ParamSpec::both(0, 256)),
        (Format::Lzma2Raw, CODEC_PARAM_XZ_BCJ_X86) => Some(ParamSpec::both(0, 1)),
        _ => None,
    }
}

/// Worst-case compressed size of `n` bytes in one frame.
pub fn compress_bound(f: Format, n: usize) -> usize {
    match f {
        Format::LzmaAlone => n.saturating_add(n / 16).saturating_add(4096),
        _ => sys::stream_buffer_bound(n).max(n.saturating_add(n / 16).saturating_add(4096)),
    }
}

pub fn frame_info(f: Format, src: &[u8]) -> Result<codec_frame_header> {
    match f {
        Format::Xz => {
            if src.len() < 12 {
                return Err(Error::truncated(format!("the xz stream header needs 12 bytes, only {} given", src.len())));
            }
            let flags = decoder::parse_stream_header(&src[..12])?;
            Ok(codec_frame_header {
                format: CODEC_FORMAT_XZ,
                header_size: 12,
                content_size: CODEC_CONTENT_SIZE_UNKNOWN,
                checksum: (flags[1] & 15) as codec_check,
                ..Default::default()
            })
        }
        Format::LzmaAlone => {
            if src.len() < 13 {
                return Err(Error::truncated(format!("the .lzma header needs 13 bytes, only {} given", src.len())));
            }
            if payload::decode_props(src[0]).is_none() {
                return Err(Error::corrupt(format!("invalid .lzma properties byte {:#04x}", src[0])));
            }
            let dict = u32::from_le_bytes(src[1..5].try_into().unwrap()) as u64;
            let size = u64::from_le_bytes(src[5..13].try_into().unwrap());
            Ok(codec_frame_header {
                format: CODEC_FORMAT_LZMA_ALONE,
                header_size: 13,
                content_size: size,
                window_size: dict,
                checksum: CODEC_CHECK_NONE,
                ..Default::default()
            })
        }
        _ => Err(Error::unsupported("raw LZMA2 has no header to inspect")),
    }
}

/// Size of the complete .xz stream (with its stream padding) at the start of `src`, found by
/// decoding it (output discarded), since single-threaded xz blocks do not record their size.
/// The decoding has the default memory limit: `src` is untrusted, and a header may declare a
/// 4 GiB dictionary that the window would grow into.
pub fn frame_size(f: Format, src: &[u8]) -> Result<u64> {
    if f != Format::Xz {
        return Err(Error::unsupported(format!(
            "{} streams cannot be measured without decoding them to the end",
            f.name()
        )));
    }
    use crate::core::{DecoderCore, Status};
    let mut d = XzDecoder::new(Kind::Xz);
    let mut scratch = vec![0u8; 1 << 16];
    let mut read = 0;
    loop {
        let s = d.decode(&src[read..], &mut scratch);
        read += s.read;
        match s.result? {
            Status::FrameEnd => break,
            Status::MoreOutput => {}
            Status::Ok => {
                return Err(Error::truncated(format!("the xz stream is not complete in the {} bytes given", src.len())))
            }
        }
    }
    // Stream padding that follows belongs to this stream.
    let pad = src[read..].iter().take_while(|&&b| b == 0).count();
    Ok((read + pad - pad % 4) as u64)
}

#[cfg(test)]
mod tests {
    /// The bundled liblzma gets the definition xz's own builds make on x86-64 (from
    /// .cargo/config.toml through the cc crate; build.rs reads the same flags). Without it the
    /// match finder compares byte by byte and compression is 7-10 % slower.
    #[test]
    fn liblzma_is_built_with_fast_unaligned_access() {
        let state = env!("CODEC_LIBLZMA_FAST_UNALIGNED");
        assert_ne!(state, "no", "see the build warning and docs/packaging.md");
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        assert_eq!(state, "yes");
    }
}
