//! Dispatch from a format to its core: constructors, parameter tables, detection, frame
//! inspection and bounds. Adding a format means adding one arm to each function here.

use std::sync::Arc;

use crate::abi::*;
use crate::core::{DecoderCore, EncoderCore, ParamSpec};
use crate::dict::Dict;
use crate::error::{Error, Result};
use crate::state::StateReader;

/// A concrete format (AUTO is resolved by the decoder wrapper before a core exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Zstd,
    Lz4Frame,
    Lz4Blocks,
    Xz,
    Lzma2Raw,
    LzmaAlone,
}

pub(crate) const ALL: [Format; 6] =
    [Format::Zstd, Format::Lz4Frame, Format::Lz4Blocks, Format::Xz, Format::Lzma2Raw, Format::LzmaAlone];

impl Format {
    /// `None` for AUTO and for unknown values.
    pub fn from_raw(f: codec_format) -> Option<Format> {
        match f {
            CODEC_FORMAT_ZSTD => Some(Format::Zstd),
            CODEC_FORMAT_LZ4_FRAME => Some(Format::Lz4Frame),
            CODEC_FORMAT_LZ4_BLOCKS => Some(Format::Lz4Blocks),
            CODEC_FORMAT_XZ => Some(Format::Xz),
            CODEC_FORMAT_LZMA2_RAW => Some(Format::Lzma2Raw),
            CODEC_FORMAT_LZMA_ALONE => Some(Format::LzmaAlone),
            _ => None,
        }
    }
    pub fn raw(self) -> codec_format {
        match self {
            Format::Zstd => CODEC_FORMAT_ZSTD,
            Format::Lz4Frame => CODEC_FORMAT_LZ4_FRAME,
            Format::Lz4Blocks => CODEC_FORMAT_LZ4_BLOCKS,
            Format::Xz => CODEC_FORMAT_XZ,
            Format::Lzma2Raw => CODEC_FORMAT_LZMA2_RAW,
            Format::LzmaAlone => CODEC_FORMAT_LZMA_ALONE,
        }
    }
    /// Short name, as the Python package and codecat spell it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Zstd => "zstd",
            Format::Lz4Frame => "lz4",
            Format::Lz4Blocks => "lz4blocks",
            Format::Xz => "xz",
            Format::Lzma2Raw => "lzma2",
            Format::LzmaAlone => "lzma",
        }
    }
}

/// Parse a C format value for an encoder (AUTO is not allowed).
pub fn encoder_format(f: codec_format) -> Result<Format> {
    match Format::from_raw(f) {
        Some(fmt) => Ok(fmt),
        None if f == CODEC_FORMAT_AUTO => {
            Err(Error::invalid("CODEC_FORMAT_AUTO is only for decoders: an encoder needs a concrete format"))
        }
        None => Err(Error::invalid(format!("unknown format {f}"))),
    }
}

/// Parse a C format value for a decoder (`None` = AUTO).
pub fn decoder_format(f: codec_format) -> Result<Option<Format>> {
    match Format::from_raw(f) {
        Some(fmt) => Ok(Some(fmt)),
        None if f == CODEC_FORMAT_AUTO => Ok(None),
        None => Err(Error::invalid(format!("unknown format {f}"))),
    }
}

pub fn new_encoder(fmt: Format) -> Result<Box<dyn EncoderCore>> {
    match fmt {
        Format::Zstd => Ok(Box::new(crate::zstd::ZstdEncoder::new()?)),
        Format::Lz4Frame => Ok(Box::new(crate::lz4::Lz4FrameEncoder::new()?)),
        Format::Lz4Blocks => Ok(Box::new(crate::lz4::Lz4BlocksEncoder::new())),
        Format::Xz | Format::Lzma2Raw | Format::LzmaAlone => Ok(Box::new(crate::xz::new_encoder(fmt)?)),
    }
}

pub fn new_decoder(fmt: Format) -> Result<Box<dyn DecoderCore>> {
    match fmt {
        Format::Zstd => Ok(Box::new(crate::zstd::ZstdDecoder::new()?)),
        Format::Lz4Frame => Ok(Box::new(crate::lz4::Lz4FrameDecoder::new())),
        Format::Lz4Blocks => Ok(Box::new(crate::lz4::Lz4BlocksDecoder::new())),
        Format::Xz | Format::Lzma2Raw | Format::LzmaAlone => Ok(Box::new(crate::xz::new_decoder(fmt))),
    }
}

/// Rebuild a core from its marshalled payload.
pub(crate) fn unmarshal_decoder(
    fmt: Format,
    r: &mut StateReader<'_>,
    dict: Option<Arc<Dict>>,
    limits: &crate::stream::Limits,
) -> Result<Box<dyn DecoderCore>> {
    match fmt {
        Format::Zstd => Ok(Box::new(crate::zstd::ZstdDecoder::unmarshal(r, dict, limits.zstd_window_log_max())?)),
        Format::Lz4Frame => Ok(Box::new(crate::lz4::Lz4FrameDecoder::unmarshal(r, dict)?)),
        Format::Lz4Blocks => Ok(Box::new(crate::lz4::Lz4BlocksDecoder::unmarshal(r, dict)?)),
        Format::Xz | Format::Lzma2Raw | Format::LzmaAlone => {
            Ok(Box::new(crate::xz::unmarshal_decoder(fmt, r, dict, limits.memlimit())?))
        }
    }
}

/// Build identity written into marshalled states of formats whose state depends on the exact
/// build (zstd); empty for portable states.
pub fn state_fingerprint(fmt: Format) -> Vec<u8> {
    match fmt {
        Format::Zstd => crate::zstd::state_fingerprint(),
        _ => Vec::new(),
    }
}

/// The accepted range of a parameter for a format, `None` when it does not apply.
pub fn param_spec(fmt: Format, p: codec_param) -> Option<ParamSpec> {
    match fmt {
        Format::Zstd => crate::zstd::param_spec(p),
        Format::Lz4Frame => crate::lz4::frame_param_spec(p),
        Format::Lz4Blocks => crate::lz4::blocks_param_spec(p),
        Format::Xz | Format::Lzma2Raw | Format::LzmaAlone => crate::xz::param_spec(fmt, p),
    }
}

/// The bounds a decoder of `fmt` accepts for `p`, `None` when it does not apply. The same as
/// `param_spec` except for `CODEC_PARAM_THREADS` of LZ4 frames, whose encoder also takes 0.
pub fn decoder_param_spec(fmt: Format, p: codec_param) -> Option<ParamSpec> {
    if p == CODEC_PARAM_THREADS && matches!(fmt, Format::Lz4Frame | Format::Xz) {
        return Some(ParamSpec::dec(1, crate::pool::MAX_THREADS as i64));
    }
    param_spec(fmt, p).filter(|s| s.decoder)
}

/// `param_spec` for AUTO decoders: a parameter applies when some format's decoder takes it;
/// the bounds are the union.
pub fn auto_decoder_param_spec(p: codec_param) -> Option<ParamSpec> {
    ALL.iter().filter_map(|&f| decoder_param_spec(f, p)).reduce(|a, b| ParamSpec::dec(a.lo.min(b.lo), a.hi.max(b.hi)))
}

/// Largest compressed size of `n` input bytes in one frame with default parameters.
pub fn compress_bound(fmt: Format, n: usize) -> usize {
    match fmt {
        Format::Zstd => crate::zstd::compress_bound(n),
        Format::Lz4Frame => crate::lz4::frame_compress_bound(n),
        Format::Lz4Blocks => crate::lz4::blocks_compress_bound(n),
        Format::Xz | Format::Lzma2Raw | Format::LzmaAlone => crate::xz::compress_bound(fmt, n),
    }
}

/// Inspect the header at the start of `src`.
pub fn frame_info(fmt: Format, src: &[u8]) -> Result<codec_frame_header> {
    match fmt {
        Format::Zstd => crate::zstd::frame_info(src),
        Format::Lz4Frame => crate::lz4::frame_info(src),
        Format::Lz4Blocks => Err(Error::unsupported("LZ4 block streams have no frame header to inspect")),
        Format::Xz | Format::Lzma2Raw | Format::LzmaAlone => crate::xz::frame_info(fmt, src),
    }
}

/// Compressed size of the complete frame at the start of `src`.
pub fn frame_size(fmt: Format, src: &[u8]) -> Result<u64> {
    match fmt {
        Format::Zstd => crate::zstd::frame_size(src),
        Format::Lz4Frame => crate::lz4::frame_size(src),
        Format::Lz4Blocks => Err(Error::unsupported("LZ4 block streams have no frames")),
        Format::Xz | Format::Lzma2Raw | Format::LzmaAlone => crate::xz::frame_size(fmt, src),
    }
}

/// Outcome of looking at the first bytes of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    Format(Format),
    /// A skippable frame (zstd and LZ4 share the magic range): its total size in bytes.
    Skippable(u64),
    /// Not enough bytes to decide.
    NeedMore,
    Unknown,
}

/// Most bytes `detect` ever needs.
pub(crate) const DETECT_MAX: usize = 13;

const ZSTD_MAGIC: u32 = 0xFD2F_B528;
const LZ4_MAGIC: u32 = 0x184D_2204;
const XZ_MAGIC: [u8; 6] = [0xFD, b'7', b'z', b'X', b'Z', 0];

/// True for the 16 skippable-frame magic numbers zstd and LZ4 share.
pub fn is_skippable_magic(m: u32) -> bool {
    m & 0xFFFF_FFF0 == 0x184D_2A50
}

/// Identify a stream by its first bytes: zstd, LZ4 frame, xz by magic; .lzma by a plausible
/// 13-byte header (the same test xz's `--format=auto` applies).
pub fn detect(src: &[u8]) -> Detected {
    if src.len() >= 4 {
        let m = u32::from_le_bytes(src[..4].try_into().unwrap());
        // Legacy zstd (v0.1..v0.7) goes to the zstd decoder too, which explains it refuses them.
        if m == ZSTD_MAGIC || (0xFD2F_B522..=0xFD2F_B527).contains(&m) || m == 0x1EB5_2FFD {
            return Detected::Format(Format::Zstd);
        }
        if m == LZ4_MAGIC {
            return Detected::Format(Format::Lz4Frame);
        }
        if is_skippable_magic(m) {
            if src.len() < 8 {
                return Detected::NeedMore;
            }
            let n = u32::from_le_bytes(src[4..8].try_into().unwrap());
            return Detected::Skippable(8 + n as u64);
        }
    }
    let n = src.len().min(6);
    if src[..n] == XZ_MAGIC[..n] {
        return if n == 6 { Detected::Format(Format::Xz) } else { Detected::NeedMore };
    }
    if src.len() < 4 && is_magic_prefix(src) {
        return Detected::NeedMore;
    }
    match lzma_alone_plausible(src) {
        Some(true) => Detected::Format(Format::LzmaAlone),
        Some(false) => Detected::Unknown,
        None => Detected::NeedMore,
    }
}

/// True when fewer than 4 bytes could still grow into the zstd, LZ4 or skippable magic.
fn is_magic_prefix(src: &[u8]) -> bool {
    let zstd = ZSTD_MAGIC.to_le_bytes();
    let lz4 = LZ4_MAGIC.to_le_bytes();
    let skippable = src.iter().enumerate().all(|(i, &b)| match i {
        0 => b & 0xF0 == 0x50,
        _ => b == [0x50, 0x2A, 0x4D, 0x18][i],
    });
    src == &zstd[..src.len()] || src == &lz4[..src.len()] || skippable
}

/// .lzma header test: properties byte < 225, dictionary size 2^n or 2^n + 2^(n-1), and an
/// uncompressed size that is unknown (all ones) or below 2^38. `None` = need more bytes.
fn lzma_alone_plausible(src: &[u8]) -> Option<bool> {
    if src.is_empty() {
        return None;
    }
    if src[0] >= 225 {
        return Some(false);
    }
    if src.len() < 5 {
        return None;
    }
    let d = u32::from_le_bytes(src[1..5].try_into().unwrap());
    let plausible = d.is_power_of_two() || (d % 3 == 0 && (d / 3).is_power_of_two()) || d == u32::MAX;
    if !plausible {
        return Some(false);
    }
    if src.len() < 13 {
        return None;
    }
    let size = u64::from_le_bytes(src[5..13].try_into().unwrap());
    Some(size == u64::MAX || size < (1u64 << 38))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_magics() {
        assert_eq!(detect(&[0x28, 0xB5, 0x2F, 0xFD]), Detected::Format(Format::Zstd));
        assert_eq!(detect(&[0x28, 0xB5]), Detected::NeedMore);
        assert_eq!(detect(&[0x04, 0x22, 0x4D, 0x18]), Detected::Format(Format::Lz4Frame));
        assert_eq!(detect(&[0xFD, b'7', b'z', b'X', b'Z', 0]), Detected::Format(Format::Xz));
        assert_eq!(detect(&[0xFD, b'7', b'z']), Detected::NeedMore);
        assert_eq!(detect(&[0x53, 0x2A, 0x4D, 0x18, 5, 0, 0, 0]), Detected::Skippable(13));
        assert_eq!(detect(&[0x53, 0x2A, 0x4D]), Detected::NeedMore);
        let lzma = [0x5D, 0, 0, 0x80, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        assert_eq!(detect(&lzma), Detected::Format(Format::LzmaAlone));
        assert_eq!(detect(&lzma[..7]), Detected::NeedMore);
        assert_eq!(detect(b"hello, world!"), Detected::Unknown);
        assert_eq!(detect(&[0xFF]), Detected::Unknown);
    }
}
