//! zstd: encoder and decoder over libzstd (zstd-sys), parameters, frame inspection and
//! digested-dictionary caching.

mod decoder;
mod encoder;
/// cbindgen:ignore
mod shim;
/// cbindgen:ignore
pub(crate) mod sys;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use once_cell::sync::OnceCell;

pub(crate) use decoder::window_log_for_memlimit;
pub use decoder::ZstdDecoder;
pub use encoder::ZstdEncoder;

use crate::abi::*;
use crate::core::ParamSpec;
use crate::dict::Dict;
use crate::error::{Error, ErrorKind, Result};
use sys::{ZErr, ZSTD_ErrorCode as C, ZSTD_cParameter as P};

pub(crate) const MAGIC: u32 = 0xFD2F_B528;
/// Default decoder window limit, log2 (128 MiB), as zstd's own default.
pub(crate) const WINDOW_LOG_MAX_DEFAULT: u32 = 27;

/// Map a zstd error to a libcodec error, naming what was being done.
pub(crate) fn zstd_error(e: ZErr, doing: &str) -> Error {
    let kind = match e.code() {
        C::ZSTD_error_prefix_unknown
        | C::ZSTD_error_corruption_detected
        | C::ZSTD_error_literals_headerWrong
        | C::ZSTD_error_frameParameter_unsupported
        | C::ZSTD_error_tableLog_tooLarge
        | C::ZSTD_error_maxSymbolValue_tooLarge
        | C::ZSTD_error_maxSymbolValue_tooSmall => ErrorKind::Corrupt,
        C::ZSTD_error_version_unsupported => ErrorKind::Unsupported,
        C::ZSTD_error_frameParameter_windowTooLarge => ErrorKind::MemLimit,
        C::ZSTD_error_checksum_wrong => ErrorKind::Checksum,
        C::ZSTD_error_dictionary_wrong => ErrorKind::Dict,
        C::ZSTD_error_dictionary_corrupted | C::ZSTD_error_dictionaryCreation_failed => ErrorKind::Invalid,
        C::ZSTD_error_parameter_unsupported
        | C::ZSTD_error_parameter_combination_unsupported
        | C::ZSTD_error_parameter_outOfBound => ErrorKind::Invalid,
        C::ZSTD_error_memory_allocation => ErrorKind::NoMem,
        C::ZSTD_error_dstSize_tooSmall => ErrorKind::Buffer,
        C::ZSTD_error_srcSize_wrong => ErrorKind::Invalid,
        _ => ErrorKind::Internal,
    };
    let hint = match e.code() {
        C::ZSTD_error_frameParameter_windowTooLarge => {
            "; the frame's window exceeds the decoder's limit: raise CODEC_PARAM_ZSTD_WINDOW_LOG_MAX (or CODEC_PARAM_MEMLIMIT)"
        }
        C::ZSTD_error_dictionary_wrong => {
            "; the frame was compressed with a dictionary: supply the same one (codec_decoder_set_dict)"
        }
        C::ZSTD_error_srcSize_wrong => "; the frame's content size differs from the pledged size",
        _ => "",
    };
    Error::new(kind, format!("zstd {doing}: {}{hint}", e.name()))
}

/// The zstd compression parameter behind a libcodec parameter.
fn cparam(p: codec_param) -> Option<P> {
    Some(match p {
        CODEC_PARAM_LEVEL => P::ZSTD_c_compressionLevel,
        CODEC_PARAM_CHECKSUM | CODEC_PARAM_ZSTD_CHECKSUM_FLAG => P::ZSTD_c_checksumFlag,
        CODEC_PARAM_THREADS | CODEC_PARAM_ZSTD_NB_WORKERS => P::ZSTD_c_nbWorkers,
        CODEC_PARAM_ZSTD_WINDOW_LOG => P::ZSTD_c_windowLog,
        CODEC_PARAM_ZSTD_HASH_LOG => P::ZSTD_c_hashLog,
        CODEC_PARAM_ZSTD_CHAIN_LOG => P::ZSTD_c_chainLog,
        CODEC_PARAM_ZSTD_SEARCH_LOG => P::ZSTD_c_searchLog,
        CODEC_PARAM_ZSTD_MIN_MATCH => P::ZSTD_c_minMatch,
        CODEC_PARAM_ZSTD_TARGET_LENGTH => P::ZSTD_c_targetLength,
        CODEC_PARAM_ZSTD_STRATEGY => P::ZSTD_c_strategy,
        CODEC_PARAM_ZSTD_ENABLE_LONG_DISTANCE_MATCHING => P::ZSTD_c_enableLongDistanceMatching,
        CODEC_PARAM_ZSTD_LDM_HASH_LOG => P::ZSTD_c_ldmHashLog,
        CODEC_PARAM_ZSTD_LDM_MIN_MATCH => P::ZSTD_c_ldmMinMatch,
        CODEC_PARAM_ZSTD_LDM_BUCKET_SIZE_LOG => P::ZSTD_c_ldmBucketSizeLog,
        CODEC_PARAM_ZSTD_LDM_HASH_RATE_LOG => P::ZSTD_c_ldmHashRateLog,
        CODEC_PARAM_ZSTD_CONTENT_SIZE_FLAG => P::ZSTD_c_contentSizeFlag,
        CODEC_PARAM_ZSTD_DICT_ID_FLAG => P::ZSTD_c_dictIDFlag,
        CODEC_PARAM_ZSTD_JOB_SIZE => P::ZSTD_c_jobSize,
        CODEC_PARAM_ZSTD_OVERLAP_LOG => P::ZSTD_c_overlapLog,
        _ => return None,
    })
}

/// Parameters for which zstd reads 0 as "choose from the level".
fn zero_means_default(p: codec_param) -> bool {
    matches!(
        p,
        CODEC_PARAM_ZSTD_WINDOW_LOG
            | CODEC_PARAM_ZSTD_HASH_LOG
            | CODEC_PARAM_ZSTD_CHAIN_LOG
            | CODEC_PARAM_ZSTD_SEARCH_LOG
            | CODEC_PARAM_ZSTD_MIN_MATCH
            | CODEC_PARAM_ZSTD_STRATEGY
            | CODEC_PARAM_ZSTD_LDM_HASH_LOG
            | CODEC_PARAM_ZSTD_LDM_MIN_MATCH
            | CODEC_PARAM_ZSTD_LDM_BUCKET_SIZE_LOG
            | CODEC_PARAM_ZSTD_LDM_HASH_RATE_LOG
    )
}

pub fn param_spec(p: codec_param) -> Option<ParamSpec> {
    match p {
        CODEC_PARAM_ZSTD_WINDOW_LOG_MAX => {
            let (lo, hi) = sys::d_bounds(sys::ZSTD_dParameter::ZSTD_d_windowLogMax)?;
            Some(ParamSpec::dec(lo as i64, hi as i64))
        }
        CODEC_PARAM_MEMLIMIT => Some(ParamSpec::dec(1 << 10, i64::MAX)),
        _ => {
            let (lo, hi) = sys::c_bounds(cparam(p)?)?;
            let lo = if zero_means_default(p) { 0 } else { lo };
            Some(ParamSpec::enc(lo as i64, hi as i64))
        }
    }
}

pub fn compress_bound(n: usize) -> usize {
    sys::compress_bound(n)
}

pub fn frame_info(src: &[u8]) -> Result<codec_frame_header> {
    let h = match sys::frame_header(src) {
        Ok(Ok(h)) => h,
        Ok(Err(need)) => {
            return Err(Error::truncated(format!("zstd frame header needs {need} bytes, only {} given", src.len())))
        }
        Err(e) => return Err(Error::corrupt(format!("not a zstd frame header: {}", e.name()))),
    };
    let skippable = h.frameType == zstd_sys::ZSTD_FrameType_e::ZSTD_skippableFrame;
    Ok(codec_frame_header {
        format: CODEC_FORMAT_ZSTD,
        header_size: h.headerSize,
        content_size: h.frameContentSize as u64,
        window_size: if skippable { 0 } else { h.windowSize as u64 },
        block_size: if skippable { 0 } else { h.blockSizeMax as u64 },
        dict_id: h.dictID,
        checksum: if h.checksumFlag != 0 { CODEC_CHECK_XXH64 } else { CODEC_CHECK_NONE },
        flags: if skippable { CODEC_FRAME_FLAG_SKIPPABLE } else { 0 },
    })
}

/// One-shot decompression's fast path: when `src` is nothing but complete zstd (or skippable)
/// frames that record their content sizes, whose total fits `dst` and whose windows respect the
/// default limit, decode them in one pass with a per-thread context. `None` means "use the
/// streaming path" (which also gives exact errors: any failure here falls back to it).
pub(crate) fn decompress_fast(src: &[u8], dst: &mut [u8]) -> Option<usize> {
    let mut pos = 0;
    let mut total: u64 = 0;
    while pos < src.len() {
        let rest = &src[pos..];
        let magic = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?);
        let h = sys::frame_header(rest).ok()?.ok()?;
        if magic != MAGIC && !crate::formats::is_skippable_magic(magic) {
            return None; // legacy or foreign: the streaming path says what it is
        }
        if magic == MAGIC {
            if h.frameContentSize >= zstd_sys::ZSTD_CONTENTSIZE_ERROR as u64
                || h.windowSize as u64 > 1u64 << WINDOW_LOG_MAX_DEFAULT
                || h.dictID != 0
                // A single-segment frame declaring no content has a window and block limit of 0.
                // zstd's streaming decoder then refuses an RLE block (its one byte exceeds the
                // limit) while its one-pass decoder accepts it; such frames always take the
                // streaming path, so the outcome never depends on how the input arrives.
                || h.windowSize == 0
            {
                return None;
            }
            total = total.checked_add(h.frameContentSize as u64)?;
        }
        pos += sys::find_frame_compressed_size(rest).ok()?;
    }
    if total > dst.len() as u64 || total == 0 && src.is_empty() {
        return None;
    }
    thread_local! {
        static DCTX: std::cell::RefCell<Option<sys::DCtx>> = const { std::cell::RefCell::new(None) };
    }
    DCTX.with(|c| {
        let mut c = c.try_borrow_mut().ok()?;
        if c.is_none() {
            *c = sys::DCtx::new();
        }
        let d = c.as_mut()?;
        match sys::decompress_dctx(d, src, dst) {
            Ok(n) if n as u64 == total => Some(n),
            _ => {
                d.reset_session();
                None
            }
        }
    })
}

pub fn frame_size(src: &[u8]) -> Result<u64> {
    sys::find_frame_compressed_size(src).map(|n| n as u64).map_err(|e| match e.code() {
        C::ZSTD_error_srcSize_wrong => {
            Error::truncated(format!("the zstd frame is not complete in the {} bytes given", src.len()))
        }
        _ => Error::corrupt(format!("not a zstd frame: {}", e.name())),
    })
}

/// `(id, content offset)` of a zstd-format dictionary; refuses a malformed one.
pub fn dict_header(bytes: &[u8]) -> Result<(u32, usize)> {
    let hs =
        sys::dict_header_size(bytes).map_err(|e| Error::invalid(format!("malformed zstd dictionary: {}", e.name())))?;
    let id = sys::dict_id(bytes);
    if id == 0 || hs > bytes.len() {
        return Err(Error::invalid("malformed zstd dictionary header"));
    }
    Ok((id, hs))
}

/// Build identity for marshalled zstd decoder states: they hold zstd's private structs, so a
/// state only restores in a build with the same zstd and layout.
pub fn state_fingerprint() -> Vec<u8> {
    shim::fingerprint()
}

pub fn version_string() -> &'static str {
    sys::version_string()
}

/// Digested zstd dictionaries, built once per dictionary (and per level for CDicts).
#[derive(Default)]
pub struct DictCache {
    cdicts: Mutex<HashMap<i32, Arc<sys::CDict>>>,
    ddict: OnceCell<Arc<sys::DDict>>,
}

pub(crate) fn cdict_for(d: &Dict, level: i32) -> Result<Arc<sys::CDict>> {
    let mut map = d.cache.cdicts.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(c) = map.get(&level) {
        return Ok(c.clone());
    }
    let c = Arc::new(
        sys::CDict::new(d.bytes(), level)
            .ok_or_else(|| Error::invalid("zstd could not digest the dictionary for compression"))?,
    );
    map.insert(level, c.clone());
    Ok(c)
}

pub(crate) fn ddict_for(d: &Dict) -> Result<Arc<sys::DDict>> {
    d.cache
        .ddict
        .get_or_try_init(|| {
            sys::DDict::new(d.bytes())
                .map(Arc::new)
                .ok_or_else(|| Error::invalid("zstd could not digest the dictionary for decompression"))
        })
        .cloned()
}
