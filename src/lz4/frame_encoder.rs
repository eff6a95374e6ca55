//! LZ4 frame encoder over LZ4F (`LZ4F_compressBegin_usingCDict` / `LZ4F_compressUpdate` /
//! `LZ4F_flush` / `LZ4F_compressEnd`).
//!
//! With `CODEC_PARAM_THREADS` > 1 and independent blocks, blocks are compressed concurrently
//! on the shared pool (`crate::pool`), see [`ParEnc`]: byte-identical to the sequential path.
//! Linked blocks depend on the previous 64 KiB, so they are always compressed sequentially.
//!
//! LZ4F needs `dstCapacity >= LZ4F_compressBound(n)` for every call, while our callers may
//! give any output buffer, down to one byte. So each LZ4F call writes straight into the
//! caller's buffer when the bound fits, and otherwise into an internal staging buffer that
//! later calls drain. No input is taken while staged output is pending, so the staging
//! buffer never holds more than one call's worth (a block, or a flush / frame end).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::sys::{self, Cctx, FErr, Preferences, Xxh32State};
use super::{cdict_for, BLOCK_SIZES};
use crate::abi::*;
use crate::core::{Action, EncoderCore, Status, Step};
use crate::dict::Dict;
use crate::error::{try_alloc_zeroed, Error, Result};
use crate::pool::{self, Lease, Task};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameState {
    /// No frame begun: the next byte (or a FINISH) begins one.
    Idle,
    /// Header written; `total` content bytes given to LZ4F so far.
    Open,
    /// `LZ4F_compressEnd` done; the frame end may still be staged.
    Ended,
}

pub struct Lz4FrameEncoder {
    cctx: Cctx,
    /// Level as set (`CODEC_PARAM_LEVEL`).
    level: i32,
    block_size_id: u32,
    linked: bool,
    content_checksum: bool,
    block_checksum: bool,
    favor_dec_speed: bool,
    dict: Option<Arc<Dict>>,
    pledged: Option<u64>,
    /// Preferences of the current frame.
    prefs: Preferences,
    state: FrameState,
    total: u64,
    /// Output LZ4F wrote here because the caller's buffer was too small:
    /// `staged[staged_pos..staged_len]` is still to be delivered. The buffer keeps its size
    /// between calls (it is not re-zeroed per call).
    staged: Vec<u8>,
    staged_pos: usize,
    staged_len: usize,
    /// `CODEC_PARAM_THREADS` (0 and 1: sequential).
    threads: usize,
    spares: Spares,
    /// Parallel state of the current frame (threads > 1, independent blocks).
    par: Option<ParEnc>,
    /// Held while this encoder may use the pool (from its first parallel frame on).
    lease: Option<Lease>,
}

/// A compressed block from a worker: the LZ4F context and buffers it used (returned for
/// reuse, so steady state allocates nothing) and where the block's bytes (size field, data,
/// block checksum) are in `out`, or the LZ4F error. (In a mutex only because an LZ4F context
/// may not be shared between threads; nothing locks it concurrently.)
struct Done {
    cctx: Cctx,
    input: Vec<u8>,
    out: Vec<u8>,
    end: std::result::Result<usize, FErr>,
}
type BlockResult = Mutex<Option<Done>>;

/// Contexts and buffers kept between blocks and frames of a parallel encoder.
#[derive(Default)]
struct Spares {
    cctx: Vec<Cctx>,
    input: Vec<Vec<u8>>,
    out: Vec<Vec<u8>>,
}

/// Parallel frame compression. Input is gathered into batches of whole blocks (about `BATCH`
/// bytes; a FLUSH or FINISH closes a batch and its partial last block); each batch is a pool
/// task that compresses every block with its own LZ4F context as a frame of one block with the
/// same preferences, keeping only the block. LZ4F compresses every independent
/// block from a reset context (`LZ4F_compressBlock` / `LZ4F_compressBlockHC` re-initialise the
/// stream, attaching the dictionary if any), so the block's bytes do not depend on the blocks
/// before it, and LZ4F's own rules (store uncompressed when not smaller, block checksum) apply
/// unchanged. The frame header comes from the encoder's own context (`LZ4F_compressBegin`), the
/// end mark and content checksum (XXH32 of the input, computed here in order) are written
/// here: the frame is byte-identical to the sequential encoder's.
struct ParEnc {
    /// Preferences of the one-block frames (no content size, no content checksum).
    prefs: Preferences,
    cdict: Option<Arc<sys::CDict>>,
    /// The block being gathered.
    cur: Vec<u8>,
    /// Submitted blocks, in frame order.
    inflight: VecDeque<Task<BlockResult>>,
    xxh: Xxh32State,
    /// Most tasks in flight.
    limit: usize,
}

/// Compress `input` as blocks of `block` bytes (the last may be shorter), each as LZ4F would
/// inside a frame with `prefs`, back to back into `out` (grown as needed); returns the end.
fn compress_blocks(
    cctx: &mut Cctx,
    prefs: &Preferences,
    cdict: Option<Arc<sys::CDict>>,
    input: &[u8],
    block: usize,
    out: &mut Vec<u8>,
) -> std::result::Result<usize, FErr> {
    let mut header = [0u8; sys::HEADER_SIZE_MAX];
    let mut pos = 0;
    for chunk in input.chunks(block) {
        let need = pos + sys::frame_compress_bound(chunk.len(), prefs);
        if out.len() < need {
            out.resize(need, 0);
        }
        // The one-block frame's header goes to a scratch buffer: only the block is kept.
        cctx.begin(&mut header, prefs, cdict.clone())?;
        pos += cctx.update(&mut out[pos..], chunk)?;
        pos += cctx.flush(&mut out[pos..])?;
    }
    Ok(pos)
}

/// Input bytes per task: whole blocks, at least this much (small blocks are batched). Each
/// task costs a hand-over between threads; against 256 KiB, 1 MiB batches of 64 KiB blocks at
/// level 1 measured 1.72-1.78x with 2 threads instead of 1.57-1.72x (three paired runs), and
/// 4 MiB batches were slower again (1.53-1.60x).
const BATCH: usize = 1 << 20;

fn lz4f_error(e: FErr, doing: &str) -> Error {
    Error::internal(format!("LZ4F {doing} failed: {}", e.name()))
}

/// LZ4F's compression level for ours: negative levels are fast mode with acceleration
/// `-level` (LZ4F uses acceleration `1 - level`), 0..2 the default fast mode, 3..12 HC.
pub(crate) fn lz4f_level(level: i32) -> i32 {
    match level {
        l if l < 0 => l + 1,
        0..=2 => 0,
        l => l,
    }
}

impl Lz4FrameEncoder {
    pub fn new() -> Result<Self> {
        Ok(Lz4FrameEncoder {
            cctx: Cctx::new().ok_or_else(|| Error::nomem("cannot allocate an LZ4F compression context"))?,
            level: 0,
            block_size_id: 4,
            linked: true,
            content_checksum: false,
            block_checksum: false,
            favor_dec_speed: false,
            dict: None,
            pledged: None,
            prefs: Preferences::default(),
            state: FrameState::Idle,
            total: 0,
            staged: Vec::new(),
            staged_pos: 0,
            staged_len: 0,
            threads: 1,
            spares: Spares::default(),
            par: None,
            lease: None,
        })
    }

    fn frame_prefs(&self) -> Preferences {
        let mut p = Preferences::default();
        p.frame_info.block_size_id = self.block_size_id;
        p.frame_info.block_mode = if self.linked { 0 } else { 1 };
        p.frame_info.content_checksum_flag = self.content_checksum as u32;
        p.frame_info.block_checksum_flag = self.block_checksum as u32;
        p.frame_info.content_size = self.pledged.unwrap_or(0);
        p.frame_info.dict_id = self.dict.as_ref().map_or(0, |d| d.id());
        p.compression_level = lz4f_level(self.level);
        p.favor_dec_speed = self.favor_dec_speed as u32;
        p
    }

    fn block_size(&self) -> usize {
        BLOCK_SIZES[(self.block_size_id - 4) as usize]
    }

    fn has_staged(&self) -> bool {
        self.staged_pos < self.staged_len
    }

    /// Copy staged output into `dst[*w..]`; true when nothing is left staged.
    fn drain(&mut self, dst: &mut [u8], w: &mut usize) -> bool {
        let n = (self.staged_len - self.staged_pos).min(dst.len() - *w);
        dst[*w..*w + n].copy_from_slice(&self.staged[self.staged_pos..self.staged_pos + n]);
        self.staged_pos += n;
        *w += n;
        if self.staged_pos == self.staged_len {
            self.staged_pos = 0;
            self.staged_len = 0;
            true
        } else {
            false
        }
    }

    /// Run one LZ4F call that needs `need` bytes of room: into `dst[*w..]` when it fits, else
    /// into the staging buffer (then drained as far as `dst` allows).
    fn emit(
        &mut self,
        dst: &mut [u8],
        w: &mut usize,
        need: usize,
        f: impl FnOnce(&mut Cctx, &mut [u8]) -> std::result::Result<usize, FErr>,
        doing: &str,
    ) -> Result<()> {
        debug_assert!(!self.has_staged());
        if dst.len() - *w >= need {
            let n = f(&mut self.cctx, &mut dst[*w..]).map_err(|e| lz4f_error(e, doing))?;
            *w += n;
        } else {
            if self.staged.len() < need {
                self.staged = try_alloc_zeroed(need, "staged LZ4 output")?;
            }
            let n = f(&mut self.cctx, &mut self.staged[..need]).map_err(|e| lz4f_error(e, doing))?;
            self.staged_pos = 0;
            self.staged_len = n;
            self.drain(dst, w);
        }
        Ok(())
    }

    fn begin(&mut self, dst: &mut [u8], w: &mut usize) -> Result<()> {
        self.prefs = self.frame_prefs();
        let cdict = match &self.dict {
            Some(d) => Some(cdict_for(d)?),
            None => None,
        };
        let prefs = self.prefs;
        self.emit(dst, w, sys::HEADER_SIZE_MAX, |c, out| c.begin(out, &prefs, cdict), "frame header")?;
        self.state = FrameState::Open;
        self.total = 0;
        self.par = None;
        if self.threads > 1 && !self.linked {
            let cdict = self.cctx_cdict()?;
            let threads = self.threads;
            let lease = self.lease.get_or_insert_with(|| Lease::new(threads));
            let mut p = self.prefs;
            p.frame_info.content_size = 0;
            p.frame_info.content_checksum_flag = 0;
            self.par = Some(ParEnc {
                prefs: p,
                cdict,
                cur: Vec::new(),
                inflight: VecDeque::new(),
                xxh: Xxh32State::new(0),
                limit: 2 * lease.threads(),
            });
        }
        Ok(())
    }

    fn cctx_cdict(&self) -> Result<Option<Arc<sys::CDict>>> {
        match &self.dict {
            Some(d) => Ok(Some(cdict_for(d)?)),
            None => Ok(None),
        }
    }

    /// Stage `bytes` as output (nothing may be staged yet) and deliver what fits.
    fn stage(&mut self, bytes: &[u8], dst: &mut [u8], w: &mut usize) -> Result<()> {
        debug_assert!(!self.has_staged());
        if self.staged.len() < bytes.len() {
            self.staged = try_alloc_zeroed(bytes.len(), "staged LZ4 output")?;
        }
        self.staged[..bytes.len()].copy_from_slice(bytes);
        self.staged_pos = 0;
        self.staged_len = bytes.len();
        self.drain(dst, w);
        Ok(())
    }

    /// Queue the gathered block as a task.
    fn submit(&mut self) -> Result<()> {
        let p = self.par.as_mut().expect("parallel frame");
        let input = std::mem::take(&mut p.cur);
        let mut cctx = match self.spares.cctx.pop() {
            Some(c) => c,
            None => Cctx::new().ok_or_else(|| Error::nomem("cannot allocate an LZ4F compression context"))?,
        };
        let mut out = self.spares.out.pop().unwrap_or_default();
        let prefs = p.prefs;
        let cdict = p.cdict.clone();
        let block = BLOCK_SIZES[(self.block_size_id - 4) as usize];
        p.inflight.push_back(Task::spawn(move || {
            let end = compress_blocks(&mut cctx, &prefs, cdict, &input, block, &mut out);
            Mutex::new(Some(Done { cctx, input, out, end }))
        }));
        Ok(())
    }

    /// Wait for the oldest task (helping) and stage its block.
    fn collect(&mut self, dst: &mut [u8], w: &mut usize) -> Result<()> {
        let p = self.par.as_mut().expect("parallel frame");
        let front = p.inflight.pop_front().expect("a task in flight");
        let res = pool::wait_front(front, p.inflight.iter())?;
        let done = res.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(Done { cctx, mut input, out, end }) = done else {
            return Err(Error::internal("LZ4 block result taken twice"));
        };
        self.spares.cctx.push(cctx);
        input.clear();
        self.spares.input.push(input);
        let end = end.map_err(|e| lz4f_error(e, "compression"))?;
        // The task's buffer becomes the staging buffer (no copy); the old one is reused.
        debug_assert!(!self.has_staged());
        let old = std::mem::replace(&mut self.staged, out);
        if !old.is_empty() {
            self.spares.out.push(old);
        }
        self.staged_pos = 0;
        self.staged_len = end;
        self.drain(dst, w);
        Ok(())
    }

    /// The parallel counterpart of `run` after the frame header (see `ParEnc`).
    fn run_par(&mut self, src: &[u8], dst: &mut [u8], action: Action, r: &mut usize, w: &mut usize) -> Result<Status> {
        let block = self.block_size();
        let batch = block * BATCH.div_ceil(block);
        loop {
            if !self.drain(dst, w) {
                return Ok(Status::MoreOutput);
            }
            let p = self.par.as_mut().expect("parallel frame");
            // Deliver finished blocks as they come; wait only when the pipeline is full.
            if p.inflight.len() >= p.limit || p.inflight.front().is_some_and(|t| t.is_done()) {
                self.collect(dst, w)?;
                continue;
            }
            if *r < src.len() {
                let n = (batch - p.cur.len()).min(src.len() - *r);
                if let Some(pl) = self.pledged {
                    if self.total + n as u64 > pl {
                        return Err(Error::invalid(format!("more input than the pledged size of {pl} bytes")));
                    }
                }
                let chunk = &src[*r..*r + n];
                if p.cur.capacity() == 0 {
                    if let Some(b) = self.spares.input.pop() {
                        p.cur = b;
                    }
                    if p.cur.capacity() < batch {
                        p.cur.try_reserve_exact(batch).map_err(|_| Error::nomem("cannot buffer LZ4 blocks"))?;
                    }
                }
                p.cur.extend_from_slice(chunk);
                if self.content_checksum {
                    p.xxh.update(chunk);
                }
                *r += n;
                self.total += n as u64;
                if p.cur.len() == batch {
                    self.submit()?;
                }
                continue;
            }
            // All input taken.
            if action == Action::Continue {
                return Ok(Status::Ok);
            }
            if !p.cur.is_empty() {
                self.submit()?;
                continue;
            }
            if !p.inflight.is_empty() {
                self.collect(dst, w)?;
                continue;
            }
            if action == Action::Flush {
                return Ok(Status::Ok);
            }
            if let Some(pl) = self.pledged {
                if self.total != pl {
                    return Err(Error::invalid(format!("the frame holds {} bytes but {pl} were pledged", self.total)));
                }
            }
            let mut end = [0u8; 8];
            let n = if self.content_checksum {
                end[4..].copy_from_slice(&p.xxh.digest().to_le_bytes());
                8
            } else {
                4
            };
            self.par = None;
            self.state = FrameState::Ended;
            self.stage(&end[..n], dst, w)?;
            if self.has_staged() {
                return Ok(Status::MoreOutput);
            }
            self.state = FrameState::Idle;
            self.pledged = None;
            return Ok(Status::Ok);
        }
    }

    fn run(&mut self, src: &[u8], dst: &mut [u8], action: Action, r: &mut usize, w: &mut usize) -> Result<Status> {
        if !self.drain(dst, w) {
            return Ok(Status::MoreOutput);
        }
        if self.state == FrameState::Ended {
            // The previous call's FINISH is now complete.
            self.state = FrameState::Idle;
            self.pledged = None;
            if src.is_empty() {
                return Ok(Status::Ok);
            }
        }
        if self.state == FrameState::Idle {
            if src.is_empty() && action != Action::Finish {
                return Ok(Status::Ok);
            }
            self.begin(dst, w)?;
            if self.has_staged() {
                return Ok(Status::MoreOutput);
            }
        }
        if self.par.is_some() {
            return self.run_par(src, dst, action, r, w);
        }
        let block = self.block_size();
        while *r < src.len() {
            let rest = src.len() - *r;
            let room = dst.len() - *w;
            let bound_all = sys::frame_compress_bound(rest, &self.prefs);
            let n = if room >= bound_all { rest } else { rest.min(block) };
            if let Some(p) = self.pledged {
                if self.total + n as u64 > p {
                    return Err(Error::invalid(format!("more input than the pledged size of {p} bytes")));
                }
            }
            let need = sys::frame_compress_bound(n, &self.prefs);
            let chunk = &src[*r..*r + n];
            self.emit(dst, w, need, |c, out| c.update(out, chunk), "compression")?;
            *r += n;
            self.total += n as u64;
            if self.has_staged() {
                return Ok(Status::MoreOutput);
            }
        }
        let need = sys::frame_compress_bound(0, &self.prefs);
        match action {
            Action::Continue => {}
            Action::Flush => {
                self.emit(dst, w, need, |c, out| c.flush(out), "flush")?;
            }
            Action::Finish => {
                if let Some(p) = self.pledged {
                    if self.total != p {
                        return Err(Error::invalid(format!(
                            "the frame holds {} bytes but {p} were pledged",
                            self.total
                        )));
                    }
                }
                self.emit(dst, w, need, |c, out| c.end(out), "frame end")?;
                self.state = FrameState::Ended;
            }
        }
        if self.has_staged() {
            return Ok(Status::MoreOutput);
        }
        if self.state == FrameState::Ended {
            self.state = FrameState::Idle;
            self.pledged = None;
        }
        Ok(Status::Ok)
    }
}

impl EncoderCore for Lz4FrameEncoder {
    fn set_param(&mut self, p: codec_param, v: i64) -> Result<()> {
        match p {
            CODEC_PARAM_LEVEL => self.level = v as i32,
            CODEC_PARAM_LZ4_BLOCK_SIZE => {
                let id = BLOCK_SIZES.iter().position(|&b| b as i64 == v).ok_or_else(|| {
                    Error::invalid(format!(
                        "CODEC_PARAM_LZ4_BLOCK_SIZE = {v}: the LZ4 frame format allows 65536, 262144, 1048576 or 4194304"
                    ))
                })?;
                self.block_size_id = 4 + id as u32;
            }
            CODEC_PARAM_LZ4_LINKED_BLOCKS => self.linked = v != 0,
            CODEC_PARAM_CHECKSUM | CODEC_PARAM_LZ4_CONTENT_CHECKSUM => self.content_checksum = v != 0,
            CODEC_PARAM_LZ4_BLOCK_CHECKSUM => self.block_checksum = v != 0,
            CODEC_PARAM_LZ4_FAVOR_DEC_SPEED => self.favor_dec_speed = v != 0,
            CODEC_PARAM_THREADS => {
                self.threads = (v as usize).max(1);
                if self.lease.as_ref().is_some_and(|l| l.threads() != self.threads) {
                    self.lease = None;
                }
            }
            _ => return Err(Error::unsupported("not an LZ4 frame encoder parameter")),
        }
        Ok(())
    }

    fn set_dict(&mut self, d: Option<Arc<Dict>>) -> Result<()> {
        self.dict = d;
        Ok(())
    }

    fn set_pledged_size(&mut self, size: u64) -> Result<()> {
        self.pledged = Some(size);
        Ok(())
    }

    fn encode(&mut self, src: &[u8], dst: &mut [u8], action: Action) -> Step {
        let (mut r, mut w) = (0, 0);
        match self.run(src, dst, action, &mut r, &mut w) {
            Ok(st) => Step::ok(r, w, st),
            Err(e) => {
                // LZ4F's context is undefined after an error, and a pledged-size mismatch
                // leaves a frame that cannot be completed: abandon the frame either way.
                self.reset();
                Step::err(r, w, e)
            }
        }
    }

    fn reset(&mut self) {
        self.par = None;
        self.state = FrameState::Idle;
        self.pledged = None;
        self.total = 0;
        self.staged_pos = 0;
        self.staged_len = 0;
    }
}
