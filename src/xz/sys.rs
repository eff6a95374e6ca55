//! Thin bindings to liblzma (lzma-sys, built statically). The only unsafe code of the xz
//! module. liblzma is used for encoding; its decoders are exposed here only so that tests and
//! benchmarks can compare our Rust decoder against them.
#![allow(unsafe_code)]

use std::ffi::CStr;
use std::mem::MaybeUninit;

use lzma_sys as l;

pub use l::lzma_ret;
pub use l::{
    LZMA_BUF_ERROR, LZMA_DATA_ERROR, LZMA_FORMAT_ERROR, LZMA_MEMLIMIT_ERROR, LZMA_MEM_ERROR, LZMA_OK,
    LZMA_OPTIONS_ERROR, LZMA_PROG_ERROR, LZMA_STREAM_END,
};

pub fn version_string() -> String {
    // SAFETY: returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(l::lzma_version_string()) }.to_string_lossy().into_owned()
}

/// `LZMA_RUN`, `LZMA_SYNC_FLUSH`, `LZMA_FINISH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LzAction {
    Run,
    SyncFlush,
    Finish,
}

/// An initialised `lzma_stream` (encoder or decoder), ended on drop.
pub struct Stream {
    s: Box<l::lzma_stream>,
}

// SAFETY: the stream exclusively owns its liblzma state; liblzma coders carry no thread
// affinity (the MT encoder's worker threads are internal and joined in lzma_end).
unsafe impl Send for Stream {}

/// One `lzma_code` call's outcome.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub read: usize,
    pub written: usize,
    pub ret: lzma_ret,
}

fn blank() -> Box<l::lzma_stream> {
    // SAFETY: LZMA_STREAM_INIT is all-zero (NULL pointers, zero sizes); lzma_stream is plain
    // data for which the all-zero bit pattern is valid.
    Box::new(unsafe { MaybeUninit::<l::lzma_stream>::zeroed().assume_init() })
}

impl Stream {
    fn init(f: impl FnOnce(*mut l::lzma_stream) -> lzma_ret) -> Result<Stream, lzma_ret> {
        let mut s = blank();
        let ret = f(&mut *s);
        let st = Stream { s };
        if ret != LZMA_OK {
            return Err(ret);
        }
        Ok(st)
    }

    /// One `lzma_code` call over `src` / `dst`.
    pub fn code(&mut self, src: &[u8], dst: &mut [u8], action: LzAction) -> Progress {
        let a = match action {
            LzAction::Run => l::LZMA_RUN,
            LzAction::SyncFlush => l::LZMA_SYNC_FLUSH,
            LzAction::Finish => l::LZMA_FINISH,
        };
        self.s.next_in = if src.is_empty() { std::ptr::null() } else { src.as_ptr() };
        self.s.avail_in = src.len();
        self.s.next_out = if dst.is_empty() { std::ptr::null_mut() } else { dst.as_mut_ptr() };
        self.s.avail_out = dst.len();
        // SAFETY: the stream was initialised by an lzma_*_encoder/decoder call; next_in /
        // next_out describe live buffers of avail_in / avail_out bytes for this call only.
        let ret = unsafe { l::lzma_code(&mut *self.s, a) };
        let p = Progress { read: src.len() - self.s.avail_in, written: dst.len() - self.s.avail_out, ret };
        // Never keep pointers to the caller's buffers.
        self.s.next_in = std::ptr::null();
        self.s.next_out = std::ptr::null_mut();
        self.s.avail_in = 0;
        self.s.avail_out = 0;
        p
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // SAFETY: the stream was initialised (or is all-zero, which lzma_end accepts).
        unsafe { l::lzma_end(&mut *self.s) }
    }
}

/// LZMA1/LZMA2 options: a preset plus explicit overrides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LzmaOpts {
    pub preset: u32,
    pub extreme: bool,
    pub dict_size: Option<u32>,
    pub lc: Option<u32>,
    pub lp: Option<u32>,
    pub pb: Option<u32>,
    pub mode: Option<u32>,
    pub mf: Option<u32>,
    pub nice_len: Option<u32>,
    pub depth: Option<u32>,
}

/// A filter placed before LZMA2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreFilter {
    Delta(u32),
    X86,
}

const LZMA_FILTER_DELTA: l::lzma_vli = 0x03;

#[repr(C)]
struct OptionsDelta {
    type_: u32,
    dist: u32,
    reserved_int: [u32; 8],
    reserved_ptr: [*mut std::ffi::c_void; 2],
}

/// Resolve a preset plus overrides into liblzma's options struct.
fn lzma_options(o: &LzmaOpts, preset_dict: Option<&[u8]>) -> Result<l::lzma_options_lzma, lzma_ret> {
    // SAFETY: lzma_options_lzma is plain data (integers, NULL pointers); all-zero is valid,
    // and lzma_lzma_preset fills every field it uses.
    let mut opt: l::lzma_options_lzma = unsafe { MaybeUninit::zeroed().assume_init() };
    let preset = o.preset | if o.extreme { l::LZMA_PRESET_EXTREME } else { 0 };
    // SAFETY: `opt` is a valid, writable options struct.
    if unsafe { l::lzma_lzma_preset(&mut opt, preset) } != 0 {
        return Err(LZMA_OPTIONS_ERROR);
    }
    if let Some(v) = o.dict_size {
        opt.dict_size = v;
    }
    if let Some(v) = o.lc {
        opt.lc = v;
    }
    if let Some(v) = o.lp {
        opt.lp = v;
    }
    if let Some(v) = o.pb {
        opt.pb = v;
    }
    if let Some(v) = o.mode {
        opt.mode = v as _;
    }
    if let Some(v) = o.mf {
        opt.mf = v as _;
    }
    if let Some(v) = o.nice_len {
        opt.nice_len = v;
    }
    if let Some(v) = o.depth {
        opt.depth = v;
    }
    if let Some(d) = preset_dict {
        if !d.is_empty() {
            opt.preset_dict = d.as_ptr();
            opt.preset_dict_size = d.len().min(u32::MAX as usize) as u32;
        }
    }
    Ok(opt)
}

/// Owns the option structs a filter array points into; valid while it lives.
struct Chain {
    _lzma: Box<l::lzma_options_lzma>,
    /// Boxed so the addresses in `filters` stay valid while the Vec grows.
    #[allow(clippy::vec_box)]
    _deltas: Vec<Box<OptionsDelta>>,
    filters: Vec<l::lzma_filter>,
}

fn chain(pre: &[PreFilter], lzma: l::lzma_options_lzma, lzma1: bool) -> Chain {
    let mut lzma = Box::new(lzma);
    let mut deltas = Vec::new();
    let mut filters = Vec::new();
    for f in pre {
        match *f {
            PreFilter::Delta(dist) => {
                let mut d = Box::new(OptionsDelta {
                    type_: 0,
                    dist,
                    reserved_int: [0; 8],
                    reserved_ptr: [std::ptr::null_mut(); 2],
                });
                filters.push(l::lzma_filter { id: LZMA_FILTER_DELTA, options: &mut *d as *mut OptionsDelta as *mut _ });
                deltas.push(d);
            }
            PreFilter::X86 => filters.push(l::lzma_filter { id: l::LZMA_FILTER_X86, options: std::ptr::null_mut() }),
        }
    }
    filters.push(l::lzma_filter {
        id: if lzma1 { l::LZMA_FILTER_LZMA1 } else { l::LZMA_FILTER_LZMA2 },
        options: &mut *lzma as *mut l::lzma_options_lzma as *mut _,
    });
    filters.push(l::lzma_filter { id: l::LZMA_VLI_UNKNOWN, options: std::ptr::null_mut() });
    Chain { _lzma: lzma, _deltas: deltas, filters }
}

/// Single-threaded .xz encoder.
pub fn stream_encoder(pre: &[PreFilter], o: &LzmaOpts, check: u32) -> Result<Stream, lzma_ret> {
    let c = chain(pre, lzma_options(o, None)?, false);
    // SAFETY: the filter array and the options it points to live in `c` for the call;
    // liblzma copies what it keeps.
    Stream::init(|s| unsafe { l::lzma_stream_encoder(s, c.filters.as_ptr(), check as _) })
}

/// Multithreaded .xz encoder.
pub fn stream_encoder_mt(
    pre: &[PreFilter],
    o: &LzmaOpts,
    check: u32,
    threads: u32,
    block_size: u64,
) -> Result<Stream, lzma_ret> {
    let c = chain(pre, lzma_options(o, None)?, false);
    // SAFETY: lzma_mt is plain data; all-zero is valid and the public fields are set below.
    let mut mt: l::lzma_mt = unsafe { MaybeUninit::zeroed().assume_init() };
    mt.flags = 0;
    mt.threads = threads;
    mt.block_size = block_size;
    mt.timeout = 0;
    mt.preset = o.preset;
    mt.filters = c.filters.as_ptr();
    mt.check = check as _;
    // SAFETY: `mt` and the filters it points to are valid for the call; liblzma copies them.
    Stream::init(|s| unsafe { l::lzma_stream_encoder_mt(s, &mt) })
}

/// Raw LZMA2 encoder (optionally with a preset dictionary, copied by liblzma at init).
pub fn raw_encoder(pre: &[PreFilter], o: &LzmaOpts, preset_dict: Option<&[u8]>) -> Result<Stream, lzma_ret> {
    let c = chain(pre, lzma_options(o, preset_dict)?, false);
    // SAFETY: as above; the preset dictionary is copied into the encoder's window at init.
    Stream::init(|s| unsafe { l::lzma_raw_encoder(s, c.filters.as_ptr()) })
}

/// .lzma (LZMA_Alone) encoder.
pub fn alone_encoder(o: &LzmaOpts) -> Result<Stream, lzma_ret> {
    let opt = lzma_options(o, None)?;
    // SAFETY: `opt` is valid for the call; liblzma copies it.
    Stream::init(|s| unsafe { l::lzma_alone_encoder(s, &opt) })
}

/// liblzma's .xz decoder (concatenated streams), for tests and benchmarks.
pub fn stream_decoder(memlimit: u64) -> Result<Stream, lzma_ret> {
    // SAFETY: plain init call on a blank stream.
    Stream::init(|s| unsafe { l::lzma_stream_decoder(s, memlimit, l::LZMA_CONCATENATED) })
}

/// liblzma's .lzma decoder, for tests and benchmarks.
pub fn alone_decoder(memlimit: u64) -> Result<Stream, lzma_ret> {
    // SAFETY: plain init call on a blank stream.
    Stream::init(|s| unsafe { l::lzma_alone_decoder(s, memlimit) })
}

/// liblzma's raw LZMA2 decoder, for tests and benchmarks.
pub fn raw_decoder(pre: &[PreFilter], dict_size: u32, preset_dict: Option<&[u8]>) -> Result<Stream, lzma_ret> {
    let o = LzmaOpts { preset: 6, dict_size: Some(dict_size), ..Default::default() };
    let c = chain(pre, lzma_options(&o, preset_dict)?, false);
    // SAFETY: as for the encoders; the preset dictionary is copied at init.
    Stream::init(|s| unsafe { l::lzma_raw_decoder(s, c.filters.as_ptr()) })
}

/// Worst-case size of a single-block .xz stream holding `n` bytes.
pub fn stream_buffer_bound(n: usize) -> usize {
    // SAFETY: pure function.
    unsafe { l::lzma_stream_buffer_bound(n) }
}
