//! Thin bindings to liblz4 (lz4-sys), declaring what lz4-sys does not. The only unsafe code of
//! the LZ4 module: every function here is a safe wrapper whose arguments are slices (the
//! lengths travel with the pointers), and every C object is owned by a Rust value that frees
//! it on drop.
//!
//! lz4-sys 1.11.1 compiles lz4.c, lz4frame.c, lz4hc.c and xxhash.c (xxHash 0.6.5, no
//! namespace) but binds only part of them; the rest is declared here by hand against the
//! bundled lz4 1.10.0 headers. The frame structs are declared with plain integer fields
//! instead of lz4-sys's Rust enums, so no value read back from C can be an invalid enum.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_uint, c_ulonglong, c_void, CStr};
use std::ptr::NonNull;

// Using the crate (not only declaring its symbols) makes rustc link liblz4.a into libcodec.
use lz4_sys as _;

/// `LZ4_MAX_INPUT_SIZE`: the largest block LZ4 can compress.
pub const MAX_INPUT_SIZE: usize = 0x7E00_0000;
/// `LZ4F_VERSION`.
const LZ4F_VERSION: c_uint = 100;
/// `LZ4F_HEADER_SIZE_MAX`.
pub const HEADER_SIZE_MAX: usize = 19;

/// `LZ4F_frameInfo_t` (lz4frame.h), enums as their `unsigned` values.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct FrameInfo {
    pub block_size_id: c_uint,
    pub block_mode: c_uint,
    pub content_checksum_flag: c_uint,
    pub frame_type: c_uint,
    pub content_size: c_ulonglong,
    pub dict_id: c_uint,
    pub block_checksum_flag: c_uint,
}

/// `LZ4F_preferences_t`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Preferences {
    pub frame_info: FrameInfo,
    pub compression_level: c_int,
    pub auto_flush: c_uint,
    pub favor_dec_speed: c_uint,
    pub reserved: [c_uint; 3],
}

/// `LZ4F_compressOptions_t`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
struct CompressOptions {
    stable_src: c_uint,
    reserved: [c_uint; 3],
}

/// The public layout of `XXH32_state_t` in xxHash 0.6.5 (`xxhash.h`, `XXH_STATIC_LINKING_ONLY`
/// section): twelve 32-bit fields. Plain data; marshalled field by field.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Xxh32State {
    pub total_len_32: u32,
    pub large_len: u32,
    pub v: [u32; 4],
    pub mem32: [u32; 4],
    pub memsize: u32,
    pub reserved: u32,
}

#[repr(C)]
struct LZ4FCctx(c_void);
#[repr(C)]
struct LZ4FCDict(c_void);
#[repr(C)]
struct LZ4Stream(c_void);
#[repr(C)]
struct LZ4StreamHC(c_void);

extern "C" {
    fn LZ4_versionNumber() -> c_int;
    fn LZ4_compressBound(input_size: c_int) -> c_int;
    fn LZ4_decompress_safe_usingDict(
        src: *const c_char,
        dst: *mut c_char,
        src_size: c_int,
        dst_capacity: c_int,
        dict_start: *const c_char,
        dict_size: c_int,
    ) -> c_int;

    fn LZ4_createStream() -> *mut LZ4Stream;
    fn LZ4_freeStream(s: *mut LZ4Stream) -> c_int;
    fn LZ4_resetStream_fast(s: *mut LZ4Stream);
    fn LZ4_loadDict(s: *mut LZ4Stream, dict: *const c_char, dict_size: c_int) -> c_int;
    fn LZ4_compress_fast_continue(
        s: *mut LZ4Stream,
        src: *const c_char,
        dst: *mut c_char,
        src_size: c_int,
        dst_capacity: c_int,
        acceleration: c_int,
    ) -> c_int;
    fn LZ4_saveDict(s: *mut LZ4Stream, safe_buffer: *mut c_char, max_dict_size: c_int) -> c_int;

    fn LZ4_createStreamHC() -> *mut LZ4StreamHC;
    fn LZ4_freeStreamHC(s: *mut LZ4StreamHC) -> c_int;
    fn LZ4_resetStreamHC_fast(s: *mut LZ4StreamHC, level: c_int);
    fn LZ4_loadDictHC(s: *mut LZ4StreamHC, dict: *const c_char, dict_size: c_int) -> c_int;
    fn LZ4_compress_HC_continue(
        s: *mut LZ4StreamHC,
        src: *const c_char,
        dst: *mut c_char,
        src_size: c_int,
        dst_capacity: c_int,
    ) -> c_int;
    fn LZ4_saveDictHC(s: *mut LZ4StreamHC, safe_buffer: *mut c_char, max_dict_size: c_int) -> c_int;

    fn LZ4F_isError(code: usize) -> c_uint;
    fn LZ4F_getErrorName(code: usize) -> *const c_char;
    fn LZ4F_createCompressionContext(cctx: *mut *mut LZ4FCctx, version: c_uint) -> usize;
    fn LZ4F_freeCompressionContext(cctx: *mut LZ4FCctx) -> usize;
    fn LZ4F_compressBegin_usingCDict(
        cctx: *mut LZ4FCctx,
        dst: *mut c_void,
        dst_capacity: usize,
        cdict: *const LZ4FCDict,
        prefs: *const Preferences,
    ) -> usize;
    fn LZ4F_compressBound(src_size: usize, prefs: *const Preferences) -> usize;
    fn LZ4F_compressFrameBound(src_size: usize, prefs: *const Preferences) -> usize;
    fn LZ4F_compressUpdate(
        cctx: *mut LZ4FCctx,
        dst: *mut c_void,
        dst_capacity: usize,
        src: *const c_void,
        src_size: usize,
        opts: *const CompressOptions,
    ) -> usize;
    fn LZ4F_flush(cctx: *mut LZ4FCctx, dst: *mut c_void, dst_capacity: usize, opts: *const CompressOptions) -> usize;
    fn LZ4F_compressEnd(
        cctx: *mut LZ4FCctx,
        dst: *mut c_void,
        dst_capacity: usize,
        opts: *const CompressOptions,
    ) -> usize;
    fn LZ4F_createCDict(dict: *const c_void, dict_size: usize) -> *mut LZ4FCDict;
    fn LZ4F_freeCDict(cdict: *mut LZ4FCDict);

    fn XXH32(input: *const c_void, len: usize, seed: c_uint) -> c_uint;
    fn XXH32_reset(state: *mut Xxh32State, seed: c_uint) -> c_int;
    fn XXH32_update(state: *mut Xxh32State, input: *const c_void, len: usize) -> c_int;
    fn XXH32_digest(state: *const Xxh32State) -> c_uint;
}

pub fn version_number() -> u32 {
    // SAFETY: pure function.
    unsafe { LZ4_versionNumber() as u32 }
}

/// `LZ4_compressBound`: worst-case block size for `n` input bytes (0 when `n` is too large).
pub fn compress_bound(n: usize) -> usize {
    if n > MAX_INPUT_SIZE {
        return 0;
    }
    // SAFETY: pure function.
    unsafe { LZ4_compressBound(n as c_int) as usize }
}

fn c_len(n: usize) -> c_int {
    n.min(c_int::MAX as usize) as c_int
}

/// Decode one LZ4 block `src` into `dst[at..at + cap]`, with the `prefix` bytes just before
/// `at` as history (LZ4's fast "prefix" mode). Returns the decoded size, `None` when the block
/// is malformed or decodes to more than `cap` bytes.
pub fn decompress_with_prefix(src: &[u8], dst: &mut [u8], at: usize, prefix: usize, cap: usize) -> Option<usize> {
    assert!(prefix <= at && cap <= dst.len() - at, "bad prefix decode range");
    if src.len() > c_int::MAX as usize {
        return None;
    }
    let base = dst.as_mut_ptr();
    // SAFETY: `[at - prefix, at + cap)` lies inside `dst`, which we borrow mutably; the
    // decoder reads `src` (its own borrow) and the prefix, and writes at most `cap` bytes
    // from `at`. It never reads before `at - prefix` (it checks offsets against the prefix).
    let r = unsafe {
        LZ4_decompress_safe_usingDict(
            src.as_ptr().cast(),
            base.add(at).cast(),
            src.len() as c_int,
            c_len(cap),
            base.add(at - prefix).cast(),
            prefix as c_int,
        )
    };
    (r >= 0).then_some(r as usize)
}

/// Decode one LZ4 block `src` into `dst` with `dict` (at most 64 KiB are used) as the history
/// that precedes it. Returns the decoded size, `None` when the block is malformed or does not
/// fit in `dst`.
pub fn decompress_with_dict(src: &[u8], dst: &mut [u8], dict: &[u8]) -> Option<usize> {
    if src.len() > c_int::MAX as usize {
        return None;
    }
    let dict = &dict[dict.len().saturating_sub(64 << 10)..];
    // SAFETY: all three buffers are valid for their lengths; `dict` and `dst` are distinct
    // borrows, so they do not overlap; the decoder writes at most `dst.len()` bytes.
    let r = unsafe {
        LZ4_decompress_safe_usingDict(
            src.as_ptr().cast(),
            dst.as_mut_ptr().cast(),
            src.len() as c_int,
            c_len(dst.len()),
            dict.as_ptr().cast(),
            dict.len() as c_int,
        )
    };
    (r >= 0).then_some(r as usize)
}

/// `n` zero bytes, or `None` when the allocation fails. Large blocks come from `calloc`-like
/// zeroed memory that the OS maps lazily, so a big page size costs address space, not RAM,
/// until it is used.
fn zeroed_vec(n: usize) -> Option<Vec<u8>> {
    if n == 0 {
        return Some(Vec::new());
    }
    let layout = std::alloc::Layout::array::<u8>(n).ok()?;
    // SAFETY: `layout` has a non-zero size.
    let p = unsafe { std::alloc::alloc_zeroed(layout) };
    if p.is_null() {
        return None;
    }
    // SAFETY: `p` was allocated by the global allocator with exactly this layout (size `n`,
    // alignment 1), and all `n` bytes are initialised (zeroed).
    Some(unsafe { Vec::from_raw_parts(p, n, n) })
}

/// One-shot XXH32.
pub fn xxh32(data: &[u8], seed: u32) -> u32 {
    // SAFETY: `data` is valid for its length.
    unsafe { XXH32(data.as_ptr().cast(), data.len(), seed) }
}

impl Xxh32State {
    pub fn new(seed: u32) -> Self {
        let mut s = Xxh32State::default();
        // SAFETY: `s` is a properly laid out, writable XXH32_state_t.
        unsafe { XXH32_reset(&mut s, seed) };
        s
    }
    /// Check the fields XXH32_update trusts (a buffer index); a state that passes cannot make
    /// the C code read or write out of bounds. Also what a state of `seed` (LZ4 uses 0) always
    /// satisfies: until 16 bytes were hashed the accumulators are still the seed's (the digest
    /// of a short input reads one of them), and the reserved word stays 0.
    pub fn is_plausible(&self, seed: u32) -> bool {
        self.memsize < 16
            && self.memsize == self.total_len_32 % 16
            && self.large_len <= 1
            && (self.large_len == 1 || self.total_len_32 < 16)
            && (self.large_len == 1 || self.v == Xxh32State::new(seed).v)
            && self.reserved == 0
    }
    pub fn update(&mut self, data: &[u8]) {
        debug_assert!(self.is_plausible(0));
        // SAFETY: `self` is a valid state (memsize < 16 is an invariant of every constructor
        // and checked on unmarshal); `data` is valid for its length.
        unsafe { XXH32_update(self, data.as_ptr().cast(), data.len()) };
    }
    pub fn digest(&self) -> u32 {
        // SAFETY: as for `update`; digest only reads the state.
        unsafe { XXH32_digest(self) }
    }
}

/// An LZ4F error code.
#[derive(Debug, Clone, Copy)]
pub struct FErr(usize);

impl FErr {
    pub fn name(self) -> &'static str {
        // SAFETY: returns a pointer to a static NUL-terminated string.
        unsafe { CStr::from_ptr(LZ4F_getErrorName(self.0)) }.to_str().unwrap_or("unknown LZ4F error")
    }
}

fn fcheck(r: usize) -> Result<usize, FErr> {
    // SAFETY: pure function of an integer.
    if unsafe { LZ4F_isError(r) } != 0 {
        Err(FErr(r))
    } else {
        Ok(r)
    }
}

/// `LZ4F_compressBound`: the room `compress_update` (or `flush` / `end` with `n == 0`) needs.
pub fn frame_compress_bound(n: usize, prefs: &Preferences) -> usize {
    // SAFETY: `prefs` is a valid preferences struct.
    unsafe { LZ4F_compressBound(n, prefs) }
}

/// `LZ4F_compressFrameBound` (default preferences when `None`).
pub fn frame_bound(n: usize, prefs: Option<&Preferences>) -> usize {
    let p = prefs.map_or(std::ptr::null(), |p| p as *const Preferences);
    // SAFETY: NULL or a valid preferences struct.
    unsafe { LZ4F_compressFrameBound(n, p) }
}

/// A digested dictionary for frame compression (LZ4F keeps the last 64 KiB). Immutable and
/// shareable across threads (lz4frame.h: "can be created once and shared by multiple threads
/// concurrently, since its usage is read-only").
pub struct CDict(NonNull<LZ4FCDict>);

// SAFETY: read-only after creation, as documented by lz4frame.h.
unsafe impl Send for CDict {}
// SAFETY: as above.
unsafe impl Sync for CDict {}

impl CDict {
    pub fn new(content: &[u8]) -> Option<CDict> {
        // SAFETY: `content` is valid for its length; LZ4F copies it.
        NonNull::new(unsafe { LZ4F_createCDict(content.as_ptr().cast(), content.len()) }).map(CDict)
    }
}

impl Drop for CDict {
    fn drop(&mut self) {
        // SAFETY: created by LZ4F_createCDict, freed once.
        unsafe { LZ4F_freeCDict(self.0.as_ptr()) }
    }
}

/// An LZ4F compression context. A frame begun with a `CDict` keeps an `Arc` to it until the
/// next begin, so the dictionary outlives its use.
pub struct Cctx {
    ptr: NonNull<LZ4FCctx>,
    cdict: Option<std::sync::Arc<CDict>>,
}

// SAFETY: an LZ4F context has no thread affinity; it is only used through `&mut self`.
unsafe impl Send for Cctx {}

impl Cctx {
    pub fn new() -> Option<Cctx> {
        let mut p = std::ptr::null_mut();
        // SAFETY: `p` is a valid out pointer.
        let r = unsafe { LZ4F_createCompressionContext(&mut p, LZ4F_VERSION) };
        if fcheck(r).is_err() {
            return None;
        }
        NonNull::new(p).map(|ptr| Cctx { ptr, cdict: None })
    }

    /// Write the frame header into `dst` (needs `HEADER_SIZE_MAX` bytes of room).
    pub fn begin(
        &mut self,
        dst: &mut [u8],
        prefs: &Preferences,
        cdict: Option<std::sync::Arc<CDict>>,
    ) -> Result<usize, FErr> {
        let c = cdict.as_ref().map_or(std::ptr::null(), |c| c.0.as_ptr() as *const _);
        // SAFETY: valid context, `dst` valid for its length, `prefs` valid; the CDict (if
        // any) is kept alive in `self.cdict` for the whole frame.
        let r =
            unsafe { LZ4F_compressBegin_usingCDict(self.ptr.as_ptr(), dst.as_mut_ptr().cast(), dst.len(), c, prefs) };
        self.cdict = cdict;
        fcheck(r)
    }

    /// `LZ4F_compressUpdate`; `dst` must hold `frame_compress_bound(src.len())` bytes.
    pub fn update(&mut self, dst: &mut [u8], src: &[u8]) -> Result<usize, FErr> {
        let opts = CompressOptions::default();
        // SAFETY: valid context; buffers valid for their lengths; LZ4F checks the capacity.
        fcheck(unsafe {
            LZ4F_compressUpdate(
                self.ptr.as_ptr(),
                dst.as_mut_ptr().cast(),
                dst.len(),
                src.as_ptr().cast(),
                src.len(),
                &opts,
            )
        })
    }

    /// `LZ4F_flush`; `dst` must hold `frame_compress_bound(0)` bytes.
    pub fn flush(&mut self, dst: &mut [u8]) -> Result<usize, FErr> {
        let opts = CompressOptions::default();
        // SAFETY: as for `update`.
        fcheck(unsafe { LZ4F_flush(self.ptr.as_ptr(), dst.as_mut_ptr().cast(), dst.len(), &opts) })
    }

    /// `LZ4F_compressEnd`; `dst` must hold `frame_compress_bound(0)` bytes.
    pub fn end(&mut self, dst: &mut [u8]) -> Result<usize, FErr> {
        let opts = CompressOptions::default();
        // SAFETY: as for `update`.
        fcheck(unsafe { LZ4F_compressEnd(self.ptr.as_ptr(), dst.as_mut_ptr().cast(), dst.len(), &opts) })
    }
}

impl Drop for Cctx {
    fn drop(&mut self) {
        // SAFETY: created by LZ4F_createCompressionContext, freed once.
        unsafe { LZ4F_freeCompressionContext(self.ptr.as_ptr()) };
    }
}

/// A block-streaming compression state, fast (`LZ4_stream_t`) or high-compression
/// (`LZ4_streamHC_t`), that compresses consecutive blocks out of one buffer it owns.
///
/// LZ4 keeps pointers into the previously compressed data (up to 64 KiB of history). To make
/// that sound, blocks are not compressed from the caller's memory: input is appended to the
/// pending block in `buf` (which never reallocates), blocks are compressed from there, and
/// when `buf` runs out of room for a new block the history is moved to its start with
/// `LZ4_saveDict` / `LZ4_saveDictHC`, which re-points LZ4's state.
pub struct BlockStream {
    kind: StreamKind,
    buf: Vec<u8>,
    /// Where the pending block starts; `buf[..pos]` holds history.
    pos: usize,
    /// Bytes of the pending block (`buf[pos..pos + fill]`).
    fill: usize,
    /// Largest block.
    page: usize,
}

enum StreamKind {
    Fast(NonNull<LZ4Stream>, c_int),
    Hc(NonNull<LZ4StreamHC>, c_int),
}

// SAFETY: the LZ4 stream states have no thread affinity and are used only through `&mut
// self`. The pointers they hold point into `buf`'s heap block, which does not move with the
// struct.
unsafe impl Send for BlockStream {}

impl BlockStream {
    /// A stream compressing blocks of up to `page` bytes (at most `MAX_INPUT_SIZE`);
    /// `hc_level` 0 selects the fast compressor with `acceleration`. `room` (at least `page`)
    /// is the buffer size beyond the 64 KiB of history: the history is moved once per `room`
    /// bytes. Call `restart` before the first block.
    pub fn new(hc_level: i32, acceleration: i32, page: usize, room: usize) -> Option<BlockStream> {
        assert!((1..=MAX_INPUT_SIZE).contains(&page));
        let kind = if hc_level > 0 {
            // SAFETY: plain constructor; NULL means allocation failure.
            let p = NonNull::new(unsafe { LZ4_createStreamHC() })?;
            StreamKind::Hc(p, hc_level)
        } else {
            // SAFETY: plain constructor; NULL means allocation failure.
            StreamKind::Fast(NonNull::new(unsafe { LZ4_createStream() })?, acceleration)
        };
        let buf = zeroed_vec((64 << 10) + room.max(page))?;
        let mut s = BlockStream { kind, buf, pos: 0, fill: 0, page };
        s.restart(&[]);
        Some(s)
    }

    /// Forget all history and any pending bytes; start over with `dict` (its last 64 KiB) as
    /// the history.
    pub fn restart(&mut self, dict: &[u8]) {
        let dict = &dict[dict.len().saturating_sub(64 << 10)..];
        self.buf[..dict.len()].copy_from_slice(dict);
        self.pos = dict.len();
        self.fill = 0;
        let d = self.buf.as_ptr().cast::<c_char>();
        // SAFETY: the states are valid (created by their constructors); `buf[..dict.len()]`
        // is the dictionary, which stays in place until `append` moves it via LZ4_saveDict*.
        unsafe {
            match self.kind {
                StreamKind::Fast(p, _) => {
                    LZ4_resetStream_fast(p.as_ptr());
                    LZ4_loadDict(p.as_ptr(), d, dict.len() as c_int);
                }
                StreamKind::Hc(p, level) => {
                    LZ4_resetStreamHC_fast(p.as_ptr(), level);
                    LZ4_loadDictHC(p.as_ptr(), d, dict.len() as c_int);
                }
            }
        }
    }

    /// Bytes in the pending block.
    pub fn pending(&self) -> usize {
        self.fill
    }

    /// Append up to `page - pending()` bytes of `data` to the pending block; returns how many.
    pub fn append(&mut self, data: &[u8]) -> usize {
        if self.fill == 0 && self.pos + self.page > self.buf.len() {
            let base = self.buf.as_mut_ptr().cast::<c_char>();
            // SAFETY: the state is valid; LZ4_saveDict* memmove at most 64 KiB of history,
            // which lies inside `buf` (before `pos`), to the start of `buf` and re-point the
            // state there. Nothing is pending, so no block data is lost.
            let saved = unsafe {
                match self.kind {
                    StreamKind::Fast(p, _) => LZ4_saveDict(p.as_ptr(), base, 64 << 10),
                    StreamKind::Hc(p, _) => LZ4_saveDictHC(p.as_ptr(), base, 64 << 10),
                }
            };
            self.pos = (saved.max(0) as usize).min(64 << 10);
        }
        let n = data.len().min(self.page - self.fill);
        let at = self.pos + self.fill;
        self.buf[at..at + n].copy_from_slice(&data[..n]);
        self.fill += n;
        n
    }

    /// Compress the pending block into `dst`, which should hold `compress_bound(pending())`
    /// bytes. Returns the block size, `None` on failure (then the stream must be restarted).
    pub fn compress(&mut self, dst: &mut [u8]) -> Option<usize> {
        let n = self.fill;
        let src = self.buf[self.pos..self.pos + n].as_ptr().cast::<c_char>();
        // SAFETY: `src` points at the `n` pending bytes of `buf`, preceded by the history the
        // state references (inside `buf`, unmoved since it was compressed or loaded); `dst`
        // is a distinct buffer valid for its length, which LZ4 respects.
        let r = unsafe {
            match self.kind {
                StreamKind::Fast(p, accel) => LZ4_compress_fast_continue(
                    p.as_ptr(),
                    src,
                    dst.as_mut_ptr().cast(),
                    n as c_int,
                    c_len(dst.len()),
                    accel,
                ),
                StreamKind::Hc(p, _) => {
                    LZ4_compress_HC_continue(p.as_ptr(), src, dst.as_mut_ptr().cast(), n as c_int, c_len(dst.len()))
                }
            }
        };
        self.pos += n;
        self.fill = 0;
        (r > 0).then_some(r as usize)
    }
}

impl Drop for StreamKind {
    fn drop(&mut self) {
        // SAFETY: each state was created by its constructor and is freed once.
        unsafe {
            match *self {
                StreamKind::Fast(p, _) => {
                    LZ4_freeStream(p.as_ptr());
                }
                StreamKind::Hc(p, _) => {
                    LZ4_freeStreamHC(p.as_ptr());
                }
            }
        }
    }
}
