//! Thin safe wrappers over the zstd C API (zstd-sys). This file and the decoder-state shim
//! bindings are the only unsafe code of the zstd module. Each wrapper owns its C object and
//! frees it on drop; a context that references a digested dictionary keeps an `Arc` to it,
//! so the dictionary provably outlives its use.
#![allow(unsafe_code)]

use std::ffi::{c_void, CStr};
use std::ptr::NonNull;
use std::sync::Arc;

use zstd_sys as z;

pub use z::{ZSTD_EndDirective, ZSTD_ErrorCode, ZSTD_cParameter, ZSTD_dParameter};

/// A zstd return value that `ZSTD_isError` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZErr(pub usize);

impl ZErr {
    pub fn code(self) -> ZSTD_ErrorCode {
        // SAFETY: pure function of an integer.
        unsafe { z::ZSTD_getErrorCode(self.0) }
    }
    pub fn name(self) -> &'static str {
        // SAFETY: returns a pointer to a static NUL-terminated string.
        unsafe { CStr::from_ptr(z::ZSTD_getErrorName(self.0)) }.to_str().unwrap_or("unknown zstd error")
    }
}

fn check(r: usize) -> Result<usize, ZErr> {
    // SAFETY: pure function of an integer.
    if unsafe { z::ZSTD_isError(r) } != 0 {
        Err(ZErr(r))
    } else {
        Ok(r)
    }
}

/// Result of one streaming call: bytes consumed, bytes produced, zstd's return value.
pub struct Progress {
    pub read: usize,
    pub written: usize,
    pub ret: Result<usize, ZErr>,
}

/// A compression context.
pub struct CCtx {
    ptr: NonNull<z::ZSTD_CCtx>,
    cdict: Option<Arc<CDict>>,
}

// SAFETY: a ZSTD_CCtx has no thread affinity; it is only ever used through `&mut self`.
unsafe impl Send for CCtx {}

impl CCtx {
    pub fn new() -> Option<CCtx> {
        // SAFETY: plain constructor; NULL means allocation failure.
        let p = unsafe { z::ZSTD_createCCtx() };
        NonNull::new(p).map(|ptr| CCtx { ptr, cdict: None })
    }
    pub fn set_parameter(&mut self, p: ZSTD_cParameter, v: i32) -> Result<(), ZErr> {
        // SAFETY: valid context; zstd validates the value.
        check(unsafe { z::ZSTD_CCtx_setParameter(self.ptr.as_ptr(), p, v) }).map(|_| ())
    }
    /// The value of a parameter as set (0 for most: "chosen from the level").
    pub fn get_parameter(&self, p: ZSTD_cParameter) -> Result<i32, ZErr> {
        let mut v = 0;
        // SAFETY: valid context; `v` is a live int for zstd to write.
        check(unsafe { z::ZSTD_CCtx_getParameter(self.ptr.as_ptr(), p, &mut v) })?;
        Ok(v)
    }
    pub fn set_pledged_src_size(&mut self, n: u64) -> Result<(), ZErr> {
        // SAFETY: valid context.
        check(unsafe { z::ZSTD_CCtx_setPledgedSrcSize(self.ptr.as_ptr(), n as _) }).map(|_| ())
    }
    /// Abandon the current frame; parameters and dictionary stay.
    pub fn reset_session(&mut self) {
        // SAFETY: valid context; session reset cannot fail.
        unsafe { z::ZSTD_CCtx_reset(self.ptr.as_ptr(), z::ZSTD_ResetDirective::ZSTD_reset_session_only) };
    }
    /// Reference a digested dictionary for the following frames (`None` = no dictionary).
    pub fn ref_cdict(&mut self, cdict: Option<Arc<CDict>>) -> Result<(), ZErr> {
        let p = cdict.as_ref().map_or(std::ptr::null(), |c| c.ptr.as_ptr() as *const _);
        // SAFETY: the CDict stays alive while referenced: `self.cdict` owns an Arc to it.
        check(unsafe { z::ZSTD_CCtx_refCDict(self.ptr.as_ptr(), p) })?;
        self.cdict = cdict;
        Ok(())
    }
    pub fn compress_stream2(&mut self, src: &[u8], dst: &mut [u8], end: ZSTD_EndDirective) -> Progress {
        let mut out = z::ZSTD_outBuffer { dst: dst.as_mut_ptr() as *mut c_void, size: dst.len(), pos: 0 };
        let mut inp = z::ZSTD_inBuffer { src: src.as_ptr() as *const c_void, size: src.len(), pos: 0 };
        // SAFETY: the buffers describe live slices for the duration of the call; zstd keeps no
        // pointer to them afterwards (buffered mode).
        let r = unsafe { z::ZSTD_compressStream2(self.ptr.as_ptr(), &mut out, &mut inp, end) };
        Progress { read: inp.pos, written: out.pos, ret: check(r) }
    }
}

impl Drop for CCtx {
    fn drop(&mut self) {
        // SAFETY: we own the context.
        unsafe { z::ZSTD_freeCCtx(self.ptr.as_ptr()) };
    }
}

/// A decompression context, always in buffered-output mode (never `stableOutBuffer`), so it
/// keeps no pointer to caller memory and its state can be marshalled.
pub struct DCtx {
    ptr: NonNull<z::ZSTD_DCtx>,
    ddict: Option<Arc<DDict>>,
}

// SAFETY: a ZSTD_DCtx has no thread affinity; it is only ever used through `&mut self`.
unsafe impl Send for DCtx {}

impl DCtx {
    pub fn new() -> Option<DCtx> {
        // SAFETY: plain constructor; NULL means allocation failure.
        let p = unsafe { z::ZSTD_createDCtx() };
        let ptr = NonNull::new(p)?;
        // zstd leaves the block-level stage unset until a frame header is decoded; begin once
        // so `next_input_is_block` never reads it uninitialised. Streaming begins each frame
        // afresh, so this changes nothing else.
        // SAFETY: valid, fresh context.
        unsafe { z::ZSTD_decompressBegin(ptr.as_ptr()) };
        Some(DCtx { ptr, ddict: None })
    }
    pub fn set_parameter(&mut self, p: ZSTD_dParameter, v: i32) -> Result<(), ZErr> {
        // SAFETY: valid context; zstd validates the value.
        check(unsafe { z::ZSTD_DCtx_setParameter(self.ptr.as_ptr(), p, v) }).map(|_| ())
    }
    pub fn reset_session(&mut self) {
        // SAFETY: valid context; session reset cannot fail.
        unsafe { z::ZSTD_DCtx_reset(self.ptr.as_ptr(), z::ZSTD_ResetDirective::ZSTD_reset_session_only) };
    }
    pub fn ref_ddict(&mut self, ddict: Option<Arc<DDict>>) -> Result<(), ZErr> {
        let p = ddict.as_ref().map_or(std::ptr::null(), |d| d.ptr.as_ptr() as *const _);
        // SAFETY: the DDict stays alive while referenced: `self.ddict` owns an Arc to it.
        check(unsafe { z::ZSTD_DCtx_refDDict(self.ptr.as_ptr(), p) })?;
        self.ddict = ddict;
        Ok(())
    }
    /// True when zstd's next decoding step is a block body (then the hint returned by
    /// `decompress_stream` includes the 3 bytes of the following block header).
    pub fn next_input_is_block(&mut self) -> bool {
        // SAFETY: valid context; a pure query of its stage.
        unsafe { z::ZSTD_nextInputType(self.ptr.as_ptr()) == z::ZSTD_nextInputType_e::ZSTDnit_block }
    }
    pub fn decompress_stream(&mut self, src: &[u8], dst: &mut [u8]) -> Progress {
        let mut out = z::ZSTD_outBuffer { dst: dst.as_mut_ptr() as *mut c_void, size: dst.len(), pos: 0 };
        let mut inp = z::ZSTD_inBuffer { src: src.as_ptr() as *const c_void, size: src.len(), pos: 0 };
        // SAFETY: the buffers describe live slices for the duration of the call; in buffered
        // mode zstd keeps no pointer to them afterwards.
        let r = unsafe { z::ZSTD_decompressStream(self.ptr.as_ptr(), &mut out, &mut inp) };
        Progress { read: inp.pos, written: out.pos, ret: check(r) }
    }
}

impl DCtx {
    /// The raw context, for the decoder-state shim (shim.rs) only.
    pub(crate) fn as_ptr(&self) -> *mut z::ZSTD_DCtx {
        self.ptr.as_ptr()
    }
}

impl Drop for DCtx {
    fn drop(&mut self) {
        // SAFETY: we own the context.
        unsafe { z::ZSTD_freeDCtx(self.ptr.as_ptr()) };
    }
}

/// A digested compression dictionary; immutable and shareable across threads.
pub struct CDict {
    ptr: NonNull<z::ZSTD_CDict>,
}
// SAFETY: zstd.h: a CDict "can be shared by multiple threads concurrently, since its usage is
// read-only".
unsafe impl Send for CDict {}
unsafe impl Sync for CDict {}

impl CDict {
    /// Digest `dict` (zstd format or raw content; zstd copies it) for `level`.
    pub fn new(dict: &[u8], level: i32) -> Option<CDict> {
        // SAFETY: zstd copies the bytes.
        let p = unsafe { z::ZSTD_createCDict(dict.as_ptr() as *const c_void, dict.len(), level) };
        NonNull::new(p).map(|ptr| CDict { ptr })
    }
}
impl Drop for CDict {
    fn drop(&mut self) {
        // SAFETY: we own it; no context references it any more (they hold Arcs).
        unsafe { z::ZSTD_freeCDict(self.ptr.as_ptr()) };
    }
}

/// A digested decompression dictionary; immutable and shareable across threads.
pub struct DDict {
    ptr: NonNull<z::ZSTD_DDict>,
}
// SAFETY: a DCtx only reads a DDict (`const ZSTD_DDict*`); it is never modified after creation.
unsafe impl Send for DDict {}
unsafe impl Sync for DDict {}

impl DDict {
    pub fn new(dict: &[u8]) -> Option<DDict> {
        // SAFETY: zstd copies the bytes.
        let p = unsafe { z::ZSTD_createDDict(dict.as_ptr() as *const c_void, dict.len()) };
        NonNull::new(p).map(|ptr| DDict { ptr })
    }
}
impl Drop for DDict {
    fn drop(&mut self) {
        // SAFETY: we own it; no context references it any more (they hold Arcs).
        unsafe { z::ZSTD_freeDDict(self.ptr.as_ptr()) };
    }
}

pub fn c_bounds(p: ZSTD_cParameter) -> Option<(i32, i32)> {
    // SAFETY: pure query.
    let b = unsafe { z::ZSTD_cParam_getBounds(p) };
    check(b.error).ok().map(|_| (b.lowerBound, b.upperBound))
}

pub fn d_bounds(p: ZSTD_dParameter) -> Option<(i32, i32)> {
    // SAFETY: pure query.
    let b = unsafe { z::ZSTD_dParam_getBounds(p) };
    check(b.error).ok().map(|_| (b.lowerBound, b.upperBound))
}

/// Window log and strategy (`ZSTD_strategy` as an int) that `level` chooses for input of
/// unknown size.
pub fn level_window_and_strategy(level: i32) -> (u32, i32) {
    // SAFETY: pure function.
    let c = unsafe { z::ZSTD_getCParams(level, z::ZSTD_CONTENTSIZE_UNKNOWN as u64, 0) };
    (c.windowLog, c.strategy as i32)
}

pub fn compress_bound(n: usize) -> usize {
    // SAFETY: pure function.
    unsafe { z::ZSTD_compressBound(n) }
}

pub fn default_level() -> i32 {
    // SAFETY: pure function.
    unsafe { z::ZSTD_defaultCLevel() }
}

/// Parsed frame header: `Ok(Ok(h))`, or `Ok(Err(n))` when `n` bytes are needed.
pub fn frame_header(src: &[u8]) -> Result<Result<z::ZSTD_FrameHeader, usize>, ZErr> {
    // SAFETY: zeroed is a valid value of this plain C struct.
    let mut h: z::ZSTD_FrameHeader = unsafe { std::mem::zeroed() };
    // SAFETY: reads at most `src.len()` bytes.
    let r = check(unsafe { z::ZSTD_getFrameHeader(&mut h, src.as_ptr() as *const c_void, src.len()) })?;
    Ok(if r == 0 { Ok(h) } else { Err(r) })
}

pub fn find_frame_compressed_size(src: &[u8]) -> Result<usize, ZErr> {
    // SAFETY: reads at most `src.len()` bytes.
    check(unsafe { z::ZSTD_findFrameCompressedSize(src.as_ptr() as *const c_void, src.len()) })
}

/// The dictionary ID of a zstd-format dictionary (0 if it is not one).
pub fn dict_id(dict: &[u8]) -> u32 {
    // SAFETY: reads at most `dict.len()` bytes.
    unsafe { z::ZSTD_getDictID_fromDict(dict.as_ptr() as *const c_void, dict.len()) }
}

/// Size of the header and entropy tables of a zstd-format dictionary.
pub fn dict_header_size(dict: &[u8]) -> Result<usize, ZErr> {
    // SAFETY: reads at most `dict.len()` bytes.
    check(unsafe { z::ZDICT_getDictHeaderSize(dict.as_ptr() as *const c_void, dict.len()) })
}

pub fn version_string() -> &'static str {
    // SAFETY: static NUL-terminated string.
    unsafe { CStr::from_ptr(z::ZSTD_versionString()) }.to_str().unwrap_or("?")
}

/// Run a zstd dictionary trainer over `samples` (concatenated) split by `sizes`; the
/// dictionary is written into `dst`, its size returned. COVER or fastCover per `o.algorithm`;
/// with k or d left 0 the optimising variant searches for them.
pub fn train_dictionary(
    dst: &mut [u8],
    samples: &[u8],
    sizes: &[usize],
    o: &crate::abi::codec_train_params,
) -> Result<usize, ZErr> {
    let cover = o.algorithm == crate::abi::CODEC_TRAIN_COVER;
    let optimise = o.k == 0 || o.d == 0;
    let threads = o.threads.max(1);
    debug_assert_eq!(sizes.iter().sum::<usize>(), samples.len());
    let zparams = z::ZDICT_params_t { compressionLevel: o.level, notificationLevel: 0, dictID: o.dict_id };
    let (d, s, n) = (dst.as_mut_ptr() as *mut c_void, samples.as_ptr() as *const c_void, sizes.len() as u32);
    // SAFETY (both arms): `dst` and `samples` are live slices of the given lengths, `sizes`
    // has `n` entries summing to `samples.len()`; zstd writes at most `dst.len()` bytes.
    let r = if cover {
        let mut p = z::ZDICT_cover_params_t {
            k: o.k,
            d: o.d,
            steps: o.steps,
            nbThreads: threads,
            splitPoint: 0.0,
            shrinkDict: 0,
            shrinkDictMaxRegression: 0,
            zParams: zparams,
        };
        unsafe {
            if optimise {
                z::ZDICT_optimizeTrainFromBuffer_cover(d, dst.len(), s, sizes.as_ptr(), n, &mut p)
            } else {
                z::ZDICT_trainFromBuffer_cover(d, dst.len(), s, sizes.as_ptr(), n, p)
            }
        }
    } else {
        let mut p = z::ZDICT_fastCover_params_t {
            k: o.k,
            d: o.d,
            f: 0,
            steps: o.steps,
            nbThreads: threads,
            splitPoint: 0.0,
            accel: 0,
            shrinkDict: 0,
            shrinkDictMaxRegression: 0,
            zParams: zparams,
        };
        unsafe {
            if optimise {
                z::ZDICT_optimizeTrainFromBuffer_fastCover(d, dst.len(), s, sizes.as_ptr(), n, &mut p)
            } else {
                z::ZDICT_trainFromBuffer_fastCover(d, dst.len(), s, sizes.as_ptr(), n, p)
            }
        }
    };
    // SAFETY: pure functions of an integer.
    if unsafe { z::ZDICT_isError(r) } != 0 {
        return Err(ZErr(r));
    }
    Ok(r)
}

/// The message of a ZDICT error code.
pub fn zdict_error_name(e: ZErr) -> &'static str {
    // SAFETY: returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(z::ZDICT_getErrorName(e.0)) }.to_str().unwrap_or("unknown error")
}

/// Decompress every frame of `src` into `dst` in one pass (`ZSTD_decompressDCtx`).
pub fn decompress_dctx(d: &mut DCtx, src: &[u8], dst: &mut [u8]) -> Result<usize, ZErr> {
    // SAFETY: live slices of the given lengths; zstd writes at most `dst.len()` bytes.
    check(unsafe {
        z::ZSTD_decompressDCtx(
            d.as_ptr(),
            dst.as_mut_ptr() as *mut c_void,
            dst.len(),
            src.as_ptr() as *const c_void,
            src.len(),
        )
    })
}
