//! LZ4: the frame format (`CODEC_FORMAT_LZ4_FRAME`) and block streaming
//! (`CODEC_FORMAT_LZ4_BLOCKS`).
//!
//! Encoders run on liblz4 (LZ4F for frames, `LZ4_compress_*_continue` for block streams).
//! Decoders parse the containers in Rust and call only the stateless
//! `LZ4_decompress_safe_usingDict`, so their state is plain data (see docs/lz4.md).

mod blocks;
mod frame_decoder;
mod frame_encoder;
/// cbindgen:ignore
pub(crate) mod sys;
mod window;

use std::sync::Arc;

use once_cell::sync::OnceCell;

pub use blocks::{Lz4BlocksDecoder, Lz4BlocksEncoder};
pub use frame_decoder::Lz4FrameDecoder;
pub use frame_encoder::Lz4FrameEncoder;

use crate::abi::*;
use crate::core::ParamSpec;
use crate::dict::Dict;
use crate::error::{Error, Result};
use crate::formats::is_skippable_magic;

/// Largest decoded size of an LZ4 block of `csize` bytes (each byte yields at most 255).
pub(crate) fn decoded_max(csize: usize) -> usize {
    csize.saturating_mul(255).saturating_add(64)
}

/// LZ4 frame magic number.
pub(crate) const MAGIC: u32 = 0x184D_2204;
/// The legacy format of `lz4 -l`, which LZ4F does not decode either.
pub(crate) const LEGACY_MAGIC: u32 = 0x184C_2102;
/// Maximum block sizes of block size IDs 4..7.
pub(crate) const BLOCK_SIZES: [usize; 4] = [64 << 10, 256 << 10, 1 << 20, 4 << 20];
/// Default block-stream page size.
pub(crate) const PAGE_SIZE_DEFAULT: usize = 64 << 10;

/// Version of the bundled liblz4, like "1.10.0".
pub fn version_string() -> String {
    let n = sys::version_number();
    format!("{}.{}.{}", n / 10000, n / 100 % 100, n % 100)
}

/// Parameters of both LZ4 formats, with their bounds.
pub fn frame_param_spec(p: codec_param) -> Option<ParamSpec> {
    Some(match p {
        CODEC_PARAM_LEVEL => ParamSpec::enc(-65537, 12),
        CODEC_PARAM_LZ4_BLOCK_SIZE => ParamSpec::enc(64 << 10, 4 << 20),
        CODEC_PARAM_LZ4_LINKED_BLOCKS
        | CODEC_PARAM_CHECKSUM
        | CODEC_PARAM_LZ4_CONTENT_CHECKSUM
        | CODEC_PARAM_LZ4_BLOCK_CHECKSUM
        | CODEC_PARAM_LZ4_FAVOR_DEC_SPEED => ParamSpec::enc(0, 1),
        // 0 and 1: sequential; more: parallel compression of independent blocks. (Decoders
        // take 1..=256: `formats::decoder_param_spec`.)
        CODEC_PARAM_THREADS => ParamSpec::enc(0, crate::pool::MAX_THREADS as i64),
        _ => return None,
    })
}

pub fn blocks_param_spec(p: codec_param) -> Option<ParamSpec> {
    Some(match p {
        CODEC_PARAM_LEVEL => ParamSpec::enc(-65537, 12),
        CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE => ParamSpec::both(1, sys::MAX_INPUT_SIZE as i64),
        CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH => ParamSpec::both(0, 4),
        CODEC_PARAM_LZ4BLOCKS_ACCELERATION => ParamSpec::enc(1, 65537),
        CODEC_PARAM_LZ4BLOCKS_HC_LEVEL => ParamSpec::enc(0, 12),
        _ => return None,
    })
}

/// `codec_compress_bound` for one LZ4 frame with default preferences.
pub fn frame_compress_bound(n: usize) -> usize {
    sys::frame_bound(n, None)
}

/// `codec_compress_bound` for a block stream with default settings (64 KiB pages, 4-byte
/// prefixes): one block per page.
pub fn blocks_compress_bound(n: usize) -> usize {
    let page = PAGE_SIZE_DEFAULT;
    let full = n / page;
    let rest = n % page;
    let per = 4 + sys::compress_bound(page);
    full.saturating_mul(per).saturating_add(if rest > 0 { 4 + sys::compress_bound(rest) } else { 0 })
}

/// A parsed LZ4 frame descriptor (FLG, BD, optional content size and dictionary ID).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FrameDesc {
    pub flg: u8,
    pub bd: u8,
    /// As recorded (0 when absent; 0 is also treated as "unknown", as LZ4F does).
    pub content_size: u64,
    pub dict_id: u32,
}

/// Length of the descriptor (FLG .. HC) that starts with `flg`.
pub(crate) fn header_len(flg: u8) -> usize {
    3 + 8 * ((flg >> 3) & 1) as usize + 4 * (flg & 1) as usize
}

impl FrameDesc {
    pub fn linked(&self) -> bool {
        self.flg & 0x20 == 0
    }
    pub fn block_checksum(&self) -> bool {
        self.flg & 0x10 != 0
    }
    pub fn has_content_size(&self) -> bool {
        self.flg & 0x08 != 0 && self.content_size != 0
    }
    pub fn content_checksum(&self) -> bool {
        self.flg & 0x04 != 0
    }
    pub fn block_max(&self) -> usize {
        BLOCK_SIZES[(((self.bd >> 4) & 7) as usize).clamp(4, 7) - 4]
    }
    /// Output room of a block with size field `hdr` (at most the block maximum): a stored
    /// block's size, or the most its compressed bytes decode to.
    pub fn block_room(&self, hdr: u32) -> usize {
        let size = (hdr & 0x7FFF_FFFF) as usize;
        if hdr & 0x8000_0000 != 0 {
            size
        } else {
            self.block_max().min(decoded_max(size))
        }
    }

    /// Check FLG and BD; the fields a frame without those flags lacks must be 0.
    pub fn from_fields(flg: u8, bd: u8, content_size: u64, dict_id: u32) -> Result<FrameDesc> {
        if flg >> 6 != 1 {
            return Err(Error::corrupt(format!(
                "LZ4 frame version {} is not supported (FLG byte {flg:#04x})",
                flg >> 6
            )));
        }
        if flg & 0x02 != 0 || bd & 0x8F != 0 {
            return Err(Error::corrupt(format!(
                "LZ4 frame descriptor has reserved bits set (FLG {flg:#04x}, BD {bd:#04x})"
            )));
        }
        if (bd >> 4) & 7 < 4 {
            return Err(Error::corrupt(format!(
                "LZ4 frame descriptor has an invalid block maximum size id {} (BD {bd:#04x})",
                (bd >> 4) & 7
            )));
        }
        if (flg & 0x08 == 0 && content_size != 0) || (flg & 0x01 == 0 && dict_id != 0) {
            return Err(Error::corrupt("LZ4 frame descriptor fields do not match its flags"));
        }
        Ok(FrameDesc { flg, bd, content_size, dict_id })
    }

    /// Parse a complete descriptor (FLG .. HC, `header_len(d[0])` bytes) and check its
    /// header checksum.
    pub fn parse(d: &[u8]) -> Result<FrameDesc> {
        debug_assert_eq!(d.len(), header_len(d[0]));
        let flg = d[0];
        let mut pos = 2;
        let mut content_size = 0;
        if flg & 0x08 != 0 {
            content_size = u64::from_le_bytes(d[pos..pos + 8].try_into().unwrap());
            pos += 8;
        }
        let mut dict_id = 0;
        if flg & 0x01 != 0 {
            dict_id = u32::from_le_bytes(d[pos..pos + 4].try_into().unwrap());
            pos += 4;
        }
        let desc = FrameDesc::from_fields(flg, d[1], content_size, dict_id)?;
        let hc = ((sys::xxh32(&d[..pos], 0) >> 8) & 0xFF) as u8;
        if hc != d[pos] {
            return Err(Error::checksum(format!(
                "LZ4 frame header checksum mismatch (stored {:#04x}, computed {hc:#04x})",
                d[pos]
            )));
        }
        Ok(desc)
    }
}

/// Read a skippable frame's or an LZ4 frame's header at the start of `src`:
/// `Ok(Err(skippable payload size))` or `Ok(Ok((descriptor, header size)))`.
fn read_header(src: &[u8]) -> Result<std::result::Result<(FrameDesc, usize), u32>> {
    let short =
        |need: usize| Error::truncated(format!("the LZ4 frame header needs {need} bytes, only {} given", src.len()));
    if src.len() < 4 {
        return Err(short(4));
    }
    let m = u32::from_le_bytes(src[..4].try_into().unwrap());
    if is_skippable_magic(m) {
        if src.len() < 8 {
            return Err(short(8));
        }
        return Ok(Err(u32::from_le_bytes(src[4..8].try_into().unwrap())));
    }
    if m == LEGACY_MAGIC {
        return Err(Error::unsupported("legacy LZ4 frame format (magic 0x184C2102, made by lz4 -l) is not supported"));
    }
    if m != MAGIC {
        return Err(Error::corrupt(format!("unknown frame magic {m:#010x}: not an LZ4 frame")));
    }
    if src.len() < 5 {
        return Err(short(7));
    }
    let n = header_len(src[4]);
    if src.len() < 4 + n {
        return Err(short(4 + n));
    }
    Ok(Ok((FrameDesc::parse(&src[4..4 + n])?, 4 + n)))
}

pub fn frame_info(src: &[u8]) -> Result<codec_frame_header> {
    Ok(match read_header(src)? {
        Err(size) => codec_frame_header {
            format: CODEC_FORMAT_LZ4_FRAME,
            header_size: 8,
            content_size: size as u64,
            flags: CODEC_FRAME_FLAG_SKIPPABLE,
            ..Default::default()
        },
        Ok((d, hs)) => codec_frame_header {
            format: CODEC_FORMAT_LZ4_FRAME,
            header_size: hs as u32,
            content_size: if d.has_content_size() { d.content_size } else { CODEC_CONTENT_SIZE_UNKNOWN },
            window_size: if d.linked() { 64 << 10 } else { 0 },
            block_size: d.block_max() as u64,
            dict_id: d.dict_id,
            checksum: if d.content_checksum() { CODEC_CHECK_XXH32 } else { CODEC_CHECK_NONE },
            flags: if d.linked() { CODEC_FRAME_FLAG_LINKED_BLOCKS } else { 0 }
                | if d.block_checksum() { CODEC_FRAME_FLAG_BLOCK_CHECKSUM } else { 0 },
        },
    })
}

/// Size of the complete frame at the start of `src`, walking its block headers.
pub fn frame_size(src: &[u8]) -> Result<u64> {
    let (d, mut pos) = match read_header(src)? {
        Err(size) => {
            let total = 8 + size as u64;
            if (src.len() as u64) < total {
                return Err(Error::truncated(format!(
                    "the skippable frame of {total} bytes is not complete in the {} bytes given",
                    src.len()
                )));
            }
            return Ok(total);
        }
        Ok(x) => x,
    };
    let truncated = || Error::truncated(format!("the LZ4 frame is not complete in the {} bytes given", src.len()));
    loop {
        let Some(h) = src.get(pos..pos + 4) else {
            return Err(truncated());
        };
        let v = u32::from_le_bytes(h.try_into().unwrap());
        pos += 4;
        if v == 0 {
            pos += 4 * d.content_checksum() as usize;
            break;
        }
        let size = (v & 0x7FFF_FFFF) as usize;
        if size > d.block_max() {
            return Err(Error::corrupt(format!(
                "LZ4 block of {size} bytes at offset {} exceeds the frame's maximum block size {}",
                pos - 4,
                d.block_max()
            )));
        }
        pos += size + 4 * d.block_checksum() as usize;
    }
    if pos > src.len() {
        return Err(truncated());
    }
    Ok(pos as u64)
}

/// Digested LZ4 dictionaries, built once per `Dict`.
#[derive(Default)]
pub struct DictCache {
    cdict: OnceCell<Arc<sys::CDict>>,
}

/// The frame-compression CDict of a dictionary (its last 64 KiB of content).
pub(crate) fn cdict_for(d: &Dict) -> Result<Arc<sys::CDict>> {
    d.lz4_cache
        .cdict
        .get_or_try_init(|| {
            sys::CDict::new(d.content_tail(window::WINDOW))
                .map(Arc::new)
                .ok_or_else(|| Error::nomem("cannot digest the dictionary for LZ4"))
        })
        .cloned()
}
