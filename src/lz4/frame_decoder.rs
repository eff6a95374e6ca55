//! LZ4 frame decoder written in Rust: the frame format is parsed here and block bodies are
//! decoded with the stateless `LZ4_decompress_safe_usingDict` (uncompressed blocks are
//! copied), so the whole state is plain data that clones and marshals between any two calls.
//!
//! State: the stage and the bytes of a partly received field (magic, descriptor, block size,
//! checksum); the frame descriptor; the content XXH32 state; ≤ 64 KiB of history (linked
//! blocks only); a partly received block (compressed bytes plus its checksum); decoded output
//! not yet delivered (at most one block).
//!
//! With `CODEC_PARAM_THREADS` > 1, frames with independent blocks are decoded in parallel
//! (see [`ParDec`]); the state between calls is still this sequential state plus compressed
//! input in flight, which marshal hands back as held input.
//!
//! A block is decoded once it has fully arrived (with its checksum, which is verified first):
//! straight into `dst` when `dst` has room for a whole block, otherwise into an internal
//! buffer that the following calls drain.

use std::collections::VecDeque;
use std::sync::Arc;

use super::sys::{self, Xxh32State};
use super::window::{self, History, WINDOW};
use super::{header_len, FrameDesc, LEGACY_MAGIC, MAGIC};
use crate::abi::*;
use crate::core::{DecoderCore, Status, Step};
use crate::dict::Dict;
use crate::error::{try_alloc_zeroed, Error, Result};
use crate::formats::is_skippable_magic;
use crate::pool::{self, Lease, Task};
use crate::state::{StateReader, StateWriter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Stage {
    /// Between frames: collecting a magic number in `field`.
    Magic = 0,
    /// After a skippable magic: collecting its 4-byte size.
    SkipSize = 1,
    /// Inside a skippable frame: `skip_left` bytes to go.
    Skip = 2,
    /// After the LZ4 magic: collecting the frame descriptor (FLG .. HC).
    Header = 3,
    /// Collecting a 4-byte block size (or the end mark).
    BlockSize = 4,
    /// Collecting a block's bytes (and its checksum) in `cbuf`.
    Block = 5,
    /// Collecting the 4-byte content checksum.
    ContentChecksum = 6,
}

impl Stage {
    fn from_u8(v: u8) -> Option<Stage> {
        Some(match v {
            0 => Stage::Magic,
            1 => Stage::SkipSize,
            2 => Stage::Skip,
            3 => Stage::Header,
            4 => Stage::BlockSize,
            5 => Stage::Block,
            6 => Stage::ContentChecksum,
            _ => return None,
        })
    }
    /// Inside a data frame, after its descriptor.
    fn in_frame(self) -> bool {
        matches!(self, Stage::BlockSize | Stage::Block | Stage::ContentChecksum)
    }
    /// Largest number of bytes `field` may hold while in this stage.
    fn field_max(self) -> usize {
        match self {
            Stage::Magic | Stage::SkipSize | Stage::BlockSize | Stage::ContentChecksum => 3,
            Stage::Header => 14,
            Stage::Skip | Stage::Block => 0,
        }
    }
}

pub struct Lz4FrameDecoder {
    dict: Option<Arc<Dict>>,
    stage: Stage,
    field: [u8; 16],
    have: u8,
    skip_left: u64,
    desc: FrameDesc,
    /// Content bytes still expected (when the frame records its size).
    remaining: u64,
    /// The frame is decoded with the supplied dictionary.
    use_dict: bool,
    xxh: Xxh32State,
    /// The current block's size field.
    block_hdr: u32,
    /// A partly received block (and its checksum).
    cbuf: Vec<u8>,
    hist: History,
    /// Decoded output not yet delivered: `out[out_pos..out_len]`.
    out: Vec<u8>,
    out_pos: usize,
    out_len: usize,
    /// `CODEC_PARAM_THREADS` (1: sequential).
    threads: usize,
    par: ParDec,
    lease: Option<Lease>,
    /// Input bytes taken so far (error offsets of blocks decoded in earlier calls).
    pos: u64,
}

/// What one in-call parallel round did (see `Lz4FrameDecoder::par_round`).
enum Round {
    /// Blocks decoded and delivered (or kept in `out`): go on.
    Done,
    /// `dst` is full and a data block is next: return for more room.
    Full,
    /// Exactly one block to decode: let the sequential code take it.
    One,
    /// Not enough complete blocks in this call's input: use the pipeline.
    No,
}

/// Least output room of an in-call round: below this, starting threads costs more than it wins.
const ROUND_MIN: usize = 256 << 10;

/// Compressed size of a batch of blocks that makes one task.
const BATCH: usize = 256 << 10;
/// Output room of a batch: each compressed block needs what it can decode to (`block_room`: at
/// most the frame's block maximum, at most 255 bytes per compressed byte), so a batch also ends
/// at this much (plus one block), which bounds memory for hostile frames.
const BATCH_OUT: usize = 1 << 20;

/// Parallel decoding of frames with independent blocks, two ways.
///
/// **In-call rounds** (`par_round`), when nothing is in flight and this call's input holds
/// complete blocks: every block that fits gets its own slot of `dst` (its stored size, or the
/// frame's block maximum), one more block may go to `out` (when room is left over, or a thread
/// would otherwise idle: it is copied out by the next call), and the blocks are decoded on the
/// calling thread and scoped helpers ([`pool::scoped`]) straight from `src` into their slots:
/// no copy in, no copy out. The results are then taken in order on the calling thread: a
/// block that decoded short of its slot has the next ones moved down (`copy_within`; only the
/// last block of a frame or of a flush is short), each block is accounted exactly as the
/// sequential decoder would, and at the first block that failed (or failed accounting) the
/// round stops and the sequential code decodes that block again, so the error, its offset and
/// the output before it are the sequential decoder's.
///
/// **The pipeline**, when the input comes in pieces smaller than that. At a block boundary (stage
/// `BlockSize`, nothing buffered) complete blocks are gathered from the input into batches of
/// about `BATCH` compressed bytes; each batch is a pool task that checks and decodes its blocks
/// with the same code as the sequential path (`decode_independent`), stopping at the first bad
/// one. Results are taken in order: each block is accounted (content size, content checksum)
/// exactly when the sequential decoder would account it, and its output is delivered through
/// `out` like a sequentially decoded block, so errors, their kinds and the output before them
/// are the same. A header that is not a data block (the end mark, an oversized block) stops
/// gathering; once everything before it is delivered, the sequential code takes over.
///
/// Between calls the sequential fields describe the state after the last block taken out of
/// a result (its undelivered output in `out`); everything after it is compressed input in
/// flight (`in_flight_input`): clones share the tasks, marshal writes that input as held input.
#[derive(Default, Clone)]
struct ParDec {
    /// Submitted batches, oldest first.
    inflight: VecDeque<Batch>,
    /// The batch being delivered.
    cur: Option<Current>,
    /// Gathered input: complete blocks in `gbuf[..gdone]`, then part of the next block.
    gbuf: Vec<u8>,
    gdone: usize,
    /// Output room the complete blocks of `gbuf` need (`FrameDesc::block_room`).
    gcap: usize,
    /// The next header is not a data block: leave it to the sequential code.
    stop: bool,
    /// That header is next in the input, for the sequential code.
    handoff: bool,
    spares: Spares,
}

/// Buffers kept for reuse by later batches (input and output), so steady state allocates
/// nothing. A clone starts without.
#[derive(Default)]
struct Spares {
    raw: Vec<Vec<u8>>,
    out: Vec<Vec<u8>>,
}

impl Clone for Spares {
    fn clone(&self) -> Self {
        Spares::default()
    }
}

impl Spares {
    fn keep(list: &mut Vec<Vec<u8>>, v: Vec<u8>) {
        if v.capacity() > 0 && list.len() < 4 {
            list.push(v);
        }
    }
}

#[derive(Clone)]
struct Batch {
    task: Task<BatchOut>,
    raw: Arc<Vec<u8>>,
    /// Input position of `raw[0]`.
    abs: u64,
}

/// A decoded batch: the blocks' output back to back (`data` may be longer), the end of each
/// block in the batch and in `data`, and the error of the block that stopped it (offset in the
/// batch).
struct BatchOut {
    data: Vec<u8>,
    blocks: Vec<(usize, usize)>,
    err: Option<(usize, Error)>,
}

#[derive(Clone)]
struct Current {
    raw: Arc<Vec<u8>>,
    abs: u64,
    /// (end of the block in `raw`, end of its output in `out`) of each block still to deliver.
    blocks: VecDeque<(usize, usize)>,
    /// Start of the next block in `raw` and of its output.
    raw_at: usize,
    out_at: usize,
    err: Option<(usize, Error)>,
}

/// Check and decode one complete independent block (`raw` = size field, data, checksum).
fn decode_independent(desc: &FrameDesc, raw: &[u8], tail: &[u8], out: &mut [u8]) -> Result<usize> {
    let hdr = u32::from_le_bytes(raw[..4].try_into().unwrap());
    let size = (hdr & 0x7FFF_FFFF) as usize;
    let data = &raw[4..];
    check_block(desc, size, data, 0)?;
    let body = &data[..size];
    if hdr & 0x8000_0000 != 0 {
        out[..size].copy_from_slice(body);
        return Ok(size);
    }
    sys::decompress_with_dict(body, &mut out[..desc.block_room(hdr)], tail)
        .ok_or_else(|| Error::corrupt(format!("corrupt LZ4 block ({size} bytes)")).at(0))
}

/// Verify a block's checksum (when the frame has them); `data` = body then checksum.
fn check_block(desc: &FrameDesc, size: usize, data: &[u8], at: i64) -> Result<()> {
    if desc.block_checksum() {
        let body = &data[..size];
        let want = u32::from_le_bytes(data[size..size + 4].try_into().unwrap());
        let got = sys::xxh32(body, 0);
        if want != got {
            return Err(Error::checksum(format!(
                "LZ4 block checksum mismatch (block of {size} bytes: stored {want:#010x}, computed {got:#010x})"
            ))
            .at(at));
        }
    }
    Ok(())
}

/// Decode a batch of complete blocks (a pool task).
fn decode_batch(desc: FrameDesc, raw: &[u8], dict: Option<Arc<Dict>>, use_dict: bool, mut data: Vec<u8>) -> BatchOut {
    let tail = dict_tail(&dict, use_dict);
    let bc = 4 * desc.block_checksum() as usize;
    // Output room: what each block can decode to.
    let mut cap = 0;
    let mut p = 0;
    while p < raw.len() {
        let hdr = u32::from_le_bytes(raw[p..p + 4].try_into().unwrap());
        cap += desc.block_room(hdr);
        p += 4 + (hdr & 0x7FFF_FFFF) as usize + bc;
    }
    if data.len() < cap {
        if data.try_reserve_exact(cap - data.len()).is_err() {
            let e = Error::nomem(format!("cannot allocate {cap} bytes for decoded LZ4 blocks"));
            return BatchOut { data: Vec::new(), blocks: Vec::new(), err: Some((0, e.at(0))) };
        }
        data.resize(cap, 0);
    }
    let (mut p, mut o) = (0, 0);
    let mut blocks = Vec::new();
    while p < raw.len() {
        let size = (u32::from_le_bytes(raw[p..p + 4].try_into().unwrap()) & 0x7FFF_FFFF) as usize;
        let end = p + 4 + size + bc;
        match decode_independent(&desc, &raw[p..end], tail, &mut data[o..]) {
            Ok(n) => {
                o += n;
                p = end;
                blocks.push((p, o));
            }
            Err(e) => return BatchOut { data, blocks, err: Some((p, e)) },
        }
    }
    BatchOut { data, blocks, err: None }
}

fn dict_tail(dict: &Option<Arc<Dict>>, use_dict: bool) -> &[u8] {
    match dict {
        Some(d) if use_dict => d.content_tail(WINDOW),
        _ => &[],
    }
}

impl Lz4FrameDecoder {
    pub fn new() -> Self {
        Lz4FrameDecoder {
            dict: None,
            stage: Stage::Magic,
            field: [0; 16],
            have: 0,
            skip_left: 0,
            desc: FrameDesc::default(),
            remaining: 0,
            use_dict: false,
            xxh: Xxh32State::default(),
            block_hdr: 0,
            cbuf: Vec::new(),
            hist: History::default(),
            out: Vec::new(),
            out_pos: 0,
            out_len: 0,
            threads: 1,
            par: ParDec::default(),
            lease: None,
            pos: 0,
        }
    }

    /// Parallel decoding applies: threads, a frame of independent blocks, at a block boundary.
    fn par_active(&self) -> bool {
        self.threads > 1 && !self.desc.linked() && self.have == 0 && !self.par.handoff
    }

    /// Nothing gathered, in flight or being delivered: an in-call round may start.
    fn par_idle(&self) -> bool {
        self.par.cur.is_none() && self.par.inflight.is_empty() && self.par.gbuf.is_empty()
    }

    /// An in-call parallel round (see `ParDec`), at a block boundary with `out` drained.
    fn par_round(&mut self, src: &[u8], r: &mut usize, dst: &mut [u8], w: &mut usize) -> Result<Round> {
        let block_max = self.desc.block_max();
        let bc = 4 * self.desc.block_checksum() as usize;
        let room = dst.len() - *w;
        // Plan: (start, end) in src and the slot length in dst; the last may go to `out`.
        let mut plan: Vec<(usize, usize, usize)> = Vec::new();
        let (mut p, mut used) = (*r, 0usize);
        let mut overflow = false;
        while src.len() - p >= 4 {
            let hdr = u32::from_le_bytes(src[p..p + 4].try_into().unwrap());
            let size = (hdr & 0x7FFF_FFFF) as usize;
            if hdr == 0 || size > block_max {
                break;
            }
            if plan.is_empty() && room == 0 {
                return Ok(Round::Full);
            }
            let end = p + 4 + size + bc;
            if end > src.len() {
                break;
            }
            let slot = if hdr & 0x8000_0000 != 0 { size } else { block_max };
            if used + slot > room {
                // One block more goes to `out`: to fill the room left (the sequential code
                // would otherwise decode it alone), or to occupy a thread the slots leave idle.
                // With the room full and every thread busy it waits for the next call, which
                // then starts with nothing to copy out.
                if used == room && plan.len() % self.threads == 0 {
                    break;
                }
                overflow = true;
                plan.push((p, end, slot));
                break;
            }
            plan.push((p, end, slot));
            used += slot;
            p = end;
        }
        match plan.len() {
            0 => return Ok(Round::No),
            1 => return Ok(Round::One),
            // Too little work to start threads for: one block at a time, sequentially.
            _ if used.max(block_max) < ROUND_MIN => return Ok(Round::One),
            _ => {}
        }
        // Split dst into the slots; the overflow block decodes into `out`.
        let mut spill = std::mem::take(&mut self.out);
        if overflow && spill.len() < block_max {
            spill = try_alloc_zeroed(block_max, "an LZ4 output block")?;
        }
        let mut items: Vec<(&[u8], &mut [u8])> = Vec::with_capacity(plan.len());
        let mut rest = &mut dst[*w..];
        let slots = plan.len() - overflow as usize;
        for &(s0, s1, slot) in &plan[..slots] {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(slot);
            items.push((&src[s0..s1], head));
            rest = tail;
        }
        if overflow {
            let (s0, s1, _) = plan[slots];
            items.push((&src[s0..s1], &mut spill[..]));
        }
        let (desc, dict, use_dict) = (self.desc, self.dict.clone(), self.use_dict);
        let tail = dict_tail(&dict, use_dict);
        let results = pool::scoped(self.threads, items, |(raw, out)| decode_independent(&desc, raw, tail, out));
        // Take the results in order, as the sequential decoder would.
        let mut at_w = *w;
        let mut slot_at = *w;
        let mut stopped = false;
        for (i, res) in results.into_iter().enumerate() {
            let (s0, s1, slot) = plan[i];
            let at = s0 as i64;
            let Ok(Ok(n)) = res else {
                stopped = true;
                break;
            };
            let spilled = overflow && i == plan.len() - 1;
            let ok = if spilled {
                self.account(&spill[..n], at).is_ok()
            } else {
                if slot_at != at_w {
                    dst.copy_within(slot_at..slot_at + n, at_w);
                }
                slot_at += slot;
                self.account(&dst[at_w..at_w + n], at).is_ok()
            };
            if !ok {
                stopped = true;
                break;
            }
            *r = s1;
            if spilled {
                self.out_pos = 0;
                self.out_len = n;
            } else {
                at_w += n;
            }
        }
        self.out = spill;
        *w = at_w;
        // The block that stopped the round is decoded again by the sequential code, which
        // reports its error with the sequential decoder's message and offset.
        self.par.handoff = stopped;
        Ok(Round::Done)
    }

    /// Gather complete blocks from `src` into batches and submit them (see `ParDec`).
    fn par_gather(&mut self, src: &[u8], r: &mut usize, base: u64) -> Result<()> {
        let block_max = self.desc.block_max();
        let bc = 4 * self.desc.block_checksum() as usize;
        let limit = 2 * self.threads;
        while !self.par.stop && self.par.inflight.len() < limit {
            let tail = self.par.gbuf.len() - self.par.gdone;
            let avail = src.len() - *r;
            let hdr = if tail >= 4 {
                u32::from_le_bytes(self.par.gbuf[self.par.gdone..self.par.gdone + 4].try_into().unwrap())
            } else if tail == 0 && avail >= 4 {
                u32::from_le_bytes(src[*r..*r + 4].try_into().unwrap())
            } else {
                let k = (4 - tail).min(avail);
                self.par.gbuf.extend_from_slice(&src[*r..*r + k]);
                *r += k;
                if tail + k < 4 {
                    break;
                }
                continue;
            };
            let size = (hdr & 0x7FFF_FFFF) as usize;
            if hdr == 0 || size > block_max {
                self.par.stop = true;
                break;
            }
            let need = 4 + size + bc;
            let k = (need - tail).min(avail);
            if self.par.gbuf.capacity() == 0 {
                self.par.gbuf = self.par.spares.raw.pop().unwrap_or_default();
                self.par.gbuf.clear();
                self.par.gbuf.reserve(BATCH.max(need) + need);
            }
            self.par.gbuf.extend_from_slice(&src[*r..*r + k]);
            *r += k;
            if tail + k < need {
                break;
            }
            self.par.gdone = self.par.gbuf.len();
            self.par.gcap += self.desc.block_room(hdr);
            if self.par.gdone >= BATCH || self.par.gcap >= BATCH_OUT {
                self.par_submit(base + *r as u64);
            }
        }
        if self.par.gdone > 0 {
            self.par_submit(base + *r as u64);
        }
        Ok(())
    }

    /// Submit the complete blocks of `gbuf`; `end` is the input position just after `gbuf`.
    fn par_submit(&mut self, end: u64) {
        let p = &mut self.par;
        let mut next = p.spares.raw.pop().unwrap_or_default();
        next.clear();
        next.extend_from_slice(&p.gbuf[p.gdone..]);
        p.gbuf.truncate(p.gdone);
        let raw = Arc::new(std::mem::replace(&mut p.gbuf, next));
        let abs = end - (raw.len() + p.gbuf.len()) as u64;
        p.gdone = 0;
        p.gcap = 0;
        let data = p.spares.out.pop().unwrap_or_default();
        let (desc, dict, use_dict, r2) = (self.desc, self.dict.clone(), self.use_dict, raw.clone());
        let task = Task::spawn(move || decode_batch(desc, &r2, dict, use_dict, data));
        if self.lease.is_none() {
            self.lease = Some(Lease::new(self.threads));
        }
        self.par.inflight.push_back(Batch { task, raw, abs });
    }

    /// Deliver the next block of the results: account it and put its output in `out`.
    /// `Ok(false)` when nothing is in flight.
    fn par_next(&mut self, base: u64) -> Result<bool> {
        if self.par.cur.as_ref().is_some_and(|c| c.blocks.is_empty() && c.err.is_none()) {
            let c = self.par.cur.take().expect("checked");
            if let Ok(raw) = Arc::try_unwrap(c.raw) {
                Spares::keep(&mut self.par.spares.raw, raw);
            }
        }
        if self.par.cur.is_none() {
            let Some(b) = self.par.inflight.pop_front() else { return Ok(false) };
            let res = pool::wait_front(b.task, self.par.inflight.iter().map(|x| &x.task))?;
            let out = pool::unwrap_or_clone_with(res, |o: &BatchOut| BatchOut {
                data: o.data.clone(),
                blocks: o.blocks.clone(),
                err: o.err.clone(),
            });
            let old = std::mem::replace(&mut self.out, out.data);
            Spares::keep(&mut self.par.spares.out, old);
            self.out_pos = 0;
            self.out_len = 0;
            self.par.cur =
                Some(Current { raw: b.raw, abs: b.abs, blocks: out.blocks.into(), raw_at: 0, out_at: 0, err: out.err });
        }
        let c = self.par.cur.as_mut().expect("current batch");
        let at = (c.abs + c.raw_at as u64) as i64 - base as i64;
        let Some((raw_end, out_end)) = c.blocks.pop_front() else {
            let (_, e) = c.err.take().expect("a batch without blocks left ends with its error");
            let mut e = e;
            e.at = e.at.map(|a| a + at);
            return Err(e);
        };
        let (o0, o1) = (c.out_at, out_end);
        c.raw_at = raw_end;
        c.out_at = out_end;
        let out = std::mem::take(&mut self.out);
        let res = self.account(&out[o0..o1], at);
        self.out = out;
        res?;
        self.out_pos = o0;
        self.out_len = o1;
        Ok(true)
    }

    /// Input taken but not yet turned into delivered state (see `ParDec`).
    fn par_in_flight(&self) -> Vec<u8> {
        let p = &self.par;
        let mut v = Vec::new();
        if let Some(c) = &p.cur {
            v.extend_from_slice(&c.raw[c.raw_at..]);
        }
        for b in &p.inflight {
            v.extend_from_slice(&b.raw);
        }
        v.extend_from_slice(&p.gbuf);
        v
    }

    /// Collect bytes of an `n`-byte field; true once `field[..n]` is complete.
    fn take_field(&mut self, src: &[u8], r: &mut usize, n: usize) -> bool {
        let have = self.have as usize;
        let k = (n - have).min(src.len() - *r);
        self.field[have..have + k].copy_from_slice(&src[*r..*r + k]);
        *r += k;
        self.have = (have + k) as u8;
        have + k == n
    }

    fn field_u32(&mut self) -> u32 {
        self.have = 0;
        u32::from_le_bytes(self.field[..4].try_into().unwrap())
    }

    fn end_frame(&mut self) {
        self.stage = Stage::Magic;
        self.have = 0;
        self.hist.start(false);
        self.cbuf.clear();
        self.use_dict = false;
    }

    /// Validate the complete descriptor in `field[..n]` and enter the frame.
    fn start_frame(&mut self, n: usize, at: i64) -> Result<()> {
        let desc = FrameDesc::parse(&self.field[..n]).map_err(|e| e.at(at))?;
        let use_dict = match (desc.dict_id, &self.dict) {
            (0, d) => d.is_some(),
            (id, Some(d)) if d.id() == id => true,
            (id, Some(d)) => {
                return Err(Error::dict(format!(
                    "the LZ4 frame needs dictionary id {id}, but the supplied dictionary has id {}",
                    d.id()
                ))
                .at(at))
            }
            (id, None) => {
                return Err(Error::dict(format!(
                    "the LZ4 frame needs dictionary id {id}; supply it with codec_decoder_set_dict"
                ))
                .at(at))
            }
        };
        self.desc = desc;
        self.use_dict = use_dict;
        self.remaining = desc.content_size;
        self.xxh = Xxh32State::new(0);
        self.hist.start(use_dict && desc.linked());
        self.have = 0;
        self.stage = Stage::BlockSize;
        Ok(())
    }

    /// Account decoded content: size against the recorded content size, and the checksum.
    fn account(&mut self, decoded: &[u8], at: i64) -> Result<()> {
        if self.desc.has_content_size() {
            if decoded.len() as u64 > self.remaining {
                return Err(Error::corrupt(format!(
                    "LZ4 frame content is longer than the {} bytes its header records",
                    self.desc.content_size
                ))
                .at(at));
            }
            self.remaining -= decoded.len() as u64;
        }
        if self.desc.content_checksum() {
            self.xxh.update(decoded);
        }
        Ok(())
    }

    /// Decode one complete block (`data` = body and, with block checksums, its checksum).
    #[allow(clippy::too_many_arguments)]
    fn decode_block(
        &mut self,
        data: &[u8],
        dst: &mut [u8],
        w: &mut usize,
        run: &mut usize,
        dict: &Option<Arc<Dict>>,
        at: i64,
    ) -> Result<()> {
        let size = (self.block_hdr & 0x7FFF_FFFF) as usize;
        let body = &data[..size];
        if self.desc.block_checksum() {
            let want = u32::from_le_bytes(data[size..size + 4].try_into().unwrap());
            let got = sys::xxh32(body, 0);
            if want != got {
                return Err(Error::checksum(format!(
                    "LZ4 block checksum mismatch (block of {size} bytes: stored {want:#010x}, computed {got:#010x})"
                ))
                .at(at));
            }
        }
        let linked = self.desc.linked();
        let tail = dict_tail(dict, self.use_dict);
        let block_max = self.desc.block_max();
        let uncompressed = self.block_hdr & 0x8000_0000 != 0;
        let room = dst.len() - *w;
        let corrupt = |what: &str| Error::corrupt(format!("corrupt LZ4 block ({size} bytes){what}")).at(at);
        // Straight into dst when a whole block fits.
        let direct_cap = if uncompressed {
            (room >= size).then_some(size)
        } else if room >= block_max {
            Some(block_max)
        } else if self.desc.has_content_size() && room as u64 >= self.remaining {
            Some(self.remaining as usize)
        } else {
            None
        };
        if let Some(cap) = direct_cap {
            let n = if uncompressed {
                dst[*w..*w + size].copy_from_slice(body);
                size
            } else if linked {
                window::decode_linked_direct(body, dst, *w, cap, run, &mut self.hist, tail).ok_or_else(|| {
                    corrupt(if cap < block_max {
                        ", or it decodes to more than the frame's recorded content size"
                    } else {
                        ""
                    })
                })?
            } else {
                sys::decompress_with_dict(body, &mut dst[*w..*w + cap], tail).ok_or_else(|| {
                    corrupt(if cap < block_max {
                        ", or it decodes to more than the frame's recorded content size"
                    } else {
                        ""
                    })
                })?
            };
            let start = *w;
            let decoded = &dst[start..start + n];
            // (account needs &mut self; `decoded` borrows dst only.)
            self.account(decoded, at)?;
            *w += n;
            if !linked {
                *run = *w;
            }
            return Ok(());
        }
        // Otherwise into the internal buffer, drained by this and later calls.
        if linked {
            window::save_run(dst, *w, run, &mut self.hist, tail);
        }
        if self.out.len() < block_max {
            self.out = try_alloc_zeroed(block_max, "an LZ4 output block")?;
        }
        let n = if uncompressed {
            self.out[..size].copy_from_slice(body);
            size
        } else {
            let hist = if linked { self.hist.get(tail) } else { tail };
            sys::decompress_with_dict(body, &mut self.out[..block_max], hist).ok_or_else(|| corrupt(""))?
        };
        let out = std::mem::take(&mut self.out);
        let res = self.account(&out[..n], at);
        if res.is_ok() && linked {
            self.hist.push(&out[..n], tail);
        }
        self.out = out;
        res?;
        self.out_pos = 0;
        self.out_len = n;
        Ok(())
    }

    fn run(&mut self, src: &[u8], dst: &mut [u8], r: &mut usize, w: &mut usize, run: &mut usize) -> Result<Status> {
        let dict = self.dict.clone();
        let base = self.pos;
        loop {
            if self.out_pos < self.out_len {
                let n = (self.out_len - self.out_pos).min(dst.len() - *w);
                dst[*w..*w + n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                *w += n;
                // Drained bytes are already in the history: a new run starts after them.
                *run = *w;
                if self.out_pos < self.out_len {
                    return Ok(Status::MoreOutput);
                }
            }
            match self.stage {
                Stage::Magic => {
                    // Fast path: the whole magic in this call's input.
                    let m = if self.have == 0 && src.len() - *r >= 4 {
                        *r += 4;
                        u32::from_le_bytes(src[*r - 4..*r].try_into().unwrap())
                    } else if self.take_field(src, r, 4) {
                        self.field_u32()
                    } else {
                        return Ok(Status::Ok);
                    };
                    let at = *r as i64 - 4;
                    if m == MAGIC {
                        self.stage = Stage::Header;
                    } else if is_skippable_magic(m) {
                        self.stage = Stage::SkipSize;
                    } else if m == LEGACY_MAGIC {
                        return Err(Error::unsupported(
                            "legacy LZ4 frame format (magic 0x184C2102, made by lz4 -l) is not supported",
                        )
                        .at(at));
                    } else {
                        return Err(Error::corrupt(format!("unknown frame magic {m:#010x}: not an LZ4 frame")).at(at));
                    }
                }
                Stage::SkipSize => {
                    if !self.take_field(src, r, 4) {
                        return Ok(Status::Ok);
                    }
                    self.skip_left = self.field_u32() as u64;
                    self.stage = Stage::Skip;
                }
                Stage::Skip => {
                    let n = self.skip_left.min((src.len() - *r) as u64);
                    *r += n as usize;
                    self.skip_left -= n;
                    if self.skip_left > 0 {
                        return Ok(Status::Ok);
                    }
                    self.stage = Stage::Magic;
                }
                Stage::Header => {
                    if self.have == 0 && !self.take_field(src, r, 1) {
                        return Ok(Status::Ok);
                    }
                    let n = header_len(self.field[0]);
                    if !self.take_field(src, r, n) {
                        return Ok(Status::Ok);
                    }
                    self.start_frame(n, *r as i64 - n as i64)?;
                    *run = *w;
                }
                Stage::BlockSize if self.par_active() => {
                    if self.par_idle() {
                        match self.par_round(src, r, dst, w)? {
                            Round::Done => {
                                *run = *w;
                                continue;
                            }
                            Round::Full => return Ok(Status::MoreOutput),
                            Round::One => {
                                self.par.handoff = true;
                                continue;
                            }
                            Round::No => {}
                        }
                    }
                    self.par_gather(src, r, base)?;
                    if self.par_next(base)? {
                        *run = *w;
                        continue;
                    }
                    // Nothing in flight.
                    self.par.cur = None;
                    if self.par.stop {
                        // Hand the header that stopped gathering to the sequential code.
                        self.par.stop = false;
                        let g = std::mem::take(&mut self.par.gbuf);
                        if !g.is_empty() {
                            self.field[..4].copy_from_slice(&g[..4]);
                            self.have = 4;
                        }
                        // The header is in `field`, or still in `src`: either way the sequential
                        // arm reads it next.
                        self.par.handoff = g.is_empty();
                        continue;
                    }
                    return Ok(Status::Ok);
                }
                Stage::BlockSize => {
                    self.par.handoff = false;
                    let v = if self.have == 0 && src.len() - *r >= 4 {
                        *r += 4;
                        u32::from_le_bytes(src[*r - 4..*r].try_into().unwrap())
                    } else if self.take_field(src, r, 4) {
                        self.field_u32()
                    } else {
                        return Ok(Status::Ok);
                    };
                    if v == 0 {
                        if self.desc.has_content_size() && self.remaining != 0 {
                            return Err(Error::corrupt(format!(
                                "LZ4 frame ended {} bytes short of the {} bytes its header records",
                                self.remaining, self.desc.content_size
                            ))
                            .at(*r as i64 - 4));
                        }
                        if self.desc.content_checksum() {
                            self.stage = Stage::ContentChecksum;
                        } else {
                            self.end_frame();
                            *run = *w;
                            return Ok(Status::FrameEnd);
                        }
                        continue;
                    }
                    let size = (v & 0x7FFF_FFFF) as usize;
                    if size > self.desc.block_max() {
                        return Err(Error::corrupt(format!(
                            "LZ4 block of {size} bytes exceeds the frame's maximum block size {}",
                            self.desc.block_max()
                        ))
                        .at(*r as i64 - 4));
                    }
                    self.block_hdr = v;
                    self.cbuf.clear();
                    self.stage = Stage::Block;
                }
                Stage::Block => {
                    let size = (self.block_hdr & 0x7FFF_FFFF) as usize;
                    let need = size + 4 * self.desc.block_checksum() as usize;
                    let avail = src.len() - *r;
                    if self.cbuf.is_empty() && avail >= need {
                        *r += need;
                        let at = *r as i64 - need as i64 - 4;
                        self.decode_block(&src[*r - need..*r], dst, w, run, &dict, at)?;
                    } else {
                        let k = (need - self.cbuf.len()).min(avail);
                        // Grow with the bytes actually received, not with the declared size.
                        self.cbuf.try_reserve(k).map_err(|_| Error::nomem("cannot buffer an LZ4 block"))?;
                        self.cbuf.extend_from_slice(&src[*r..*r + k]);
                        *r += k;
                        if self.cbuf.len() < need {
                            return Ok(Status::Ok);
                        }
                        let at = *r as i64 - need as i64 - 4;
                        let cbuf = std::mem::take(&mut self.cbuf);
                        let res = self.decode_block(&cbuf, dst, w, run, &dict, at);
                        self.cbuf = cbuf;
                        self.cbuf.clear();
                        res?;
                    }
                    self.stage = Stage::BlockSize;
                }
                Stage::ContentChecksum => {
                    if !self.take_field(src, r, 4) {
                        return Ok(Status::Ok);
                    }
                    let want = self.field_u32();
                    let got = self.xxh.digest();
                    if want != got {
                        return Err(Error::checksum(format!(
                            "LZ4 content checksum mismatch (stored {want:#010x}, computed {got:#010x})"
                        ))
                        .at(*r as i64 - 4));
                    }
                    self.end_frame();
                    *run = *w;
                    return Ok(Status::FrameEnd);
                }
            }
        }
    }

    /// Rebuild a decoder from `marshal`'s payload, validating every field.
    pub fn unmarshal(rd: &mut StateReader<'_>, dict: Option<Arc<Dict>>) -> Result<Self> {
        let mut d = Lz4FrameDecoder::new();
        d.dict = dict;
        let tag = rd.u8("lz4 stage")?;
        d.stage = Stage::from_u8(tag).ok_or_else(|| Error::state(format!("lz4 stage {tag} is not a valid stage")))?;
        let have = rd.u8_max("lz4 field length", d.stage.field_max() as u8)? as usize;
        d.field[..have].copy_from_slice(rd.raw("lz4 field", have)?);
        d.have = have as u8;
        if d.stage == Stage::Header && have > 0 && have >= header_len(d.field[0]) {
            return Err(Error::state("lz4 descriptor field is already complete"));
        }
        if d.stage == Stage::Skip {
            d.skip_left = rd.u64_in("lz4 skip remaining", 1, u32::MAX as u64)?;
        }
        if d.stage.in_frame() {
            let flg = rd.u8("lz4 FLG")?;
            let bd = rd.u8("lz4 BD")?;
            let content_size = rd.u64("lz4 content size")?;
            let remaining = rd.u64("lz4 content remaining")?;
            let dict_id = rd.u32("lz4 dict id")?;
            let desc = FrameDesc::from_fields(flg, bd, content_size, dict_id)
                .map_err(|e| Error::state(format!("lz4 frame descriptor: {}", e.msg)))?;
            if remaining > content_size {
                return Err(Error::state("lz4 content remaining exceeds the content size"));
            }
            d.desc = desc;
            d.remaining = remaining;
            d.use_dict = rd.bool("lz4 uses dictionary")?;
            match (&d.dict, d.use_dict, desc.dict_id) {
                (None, true, _) => return Err(Error::state("lz4 state uses a dictionary but none was given")),
                (Some(x), true, id) if id != 0 && x.id() != id => {
                    return Err(Error::state("lz4 frame's dictionary id differs from the dictionary's"))
                }
                (_, false, id) if id != 0 => {
                    return Err(Error::state("lz4 frame needs a dictionary but the state uses none"))
                }
                _ => {}
            }
            if desc.content_checksum() {
                let total_len_32 = rd.u32("xxh32 total_len_32")?;
                let large_len = rd.u32("xxh32 large_len")?;
                let mut v = [0u32; 4];
                for (i, x) in v.iter_mut().enumerate() {
                    *x = rd.u32(["xxh32 v1", "xxh32 v2", "xxh32 v3", "xxh32 v4"][i])?;
                }
                let mut mem32 = [0u32; 4];
                for m in mem32.iter_mut() {
                    *m = rd.u32("xxh32 mem32")?;
                }
                let s = Xxh32State {
                    total_len_32,
                    large_len,
                    v,
                    mem32,
                    memsize: rd.u32("xxh32 memsize")?,
                    reserved: rd.u32("xxh32 reserved")?,
                };
                if !s.is_plausible(0) {
                    return Err(Error::state("lz4 content checksum state is inconsistent"));
                }
                d.xxh = s;
            }
            // The checksum stage comes only after the end mark of a frame that has a content
            // checksum and, when it records its size, has produced all of it.
            if d.stage == Stage::ContentChecksum
                && (!desc.content_checksum() || desc.has_content_size() && remaining != 0)
            {
                return Err(Error::state("lz4 content checksum stage in a frame that cannot be there"));
            }
            let block_max = desc.block_max();
            if d.stage == Stage::Block {
                let hdr = rd.u32("lz4 block size")?;
                let size = (hdr & 0x7FFF_FFFF) as usize;
                if hdr == 0 || size > block_max {
                    return Err(Error::state(format!("lz4 block size {hdr:#x} is not valid here")));
                }
                let need = size + 4 * desc.block_checksum() as usize;
                let part = rd.bytes("lz4 partial block", need.saturating_sub(1))?;
                d.block_hdr = hdr;
                d.cbuf = part.to_vec();
            }
            if desc.linked() {
                let is_dict = rd.bool("lz4 history is the dictionary")?;
                if is_dict && !d.use_dict {
                    return Err(Error::state("lz4 history refers to a dictionary not in use"));
                }
                let own = rd.bytes("lz4 history", if is_dict { 0 } else { WINDOW })?;
                d.hist = History::restore(is_dict, own);
            }
            let pending = rd.bytes("lz4 pending output", block_max)?;
            if !pending.is_empty() {
                if d.stage != Stage::BlockSize {
                    return Err(Error::state("lz4 pending output outside a block boundary"));
                }
                if desc.linked() && !d.hist.ends_with(pending) {
                    return Err(Error::state("lz4 pending output is not the end of the history"));
                }
                d.out = try_alloc_zeroed(block_max, "an LZ4 output block")?;
                d.out[..pending.len()].copy_from_slice(pending);
                d.out_len = pending.len();
            }
        }
        if rd.remaining() > 0 {
            d.threads = rd.u16("lz4 decoder threads")? as usize;
            if !(2..=pool::MAX_THREADS).contains(&d.threads) {
                return Err(Error::state("lz4 decoder threads out of bounds"));
            }
        }
        Ok(d)
    }
}

impl Default for Lz4FrameDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl DecoderCore for Lz4FrameDecoder {
    fn set_param(&mut self, p: codec_param, v: i64) -> Result<()> {
        match p {
            CODEC_PARAM_THREADS => {
                self.threads = (v as usize).clamp(1, pool::MAX_THREADS);
                self.lease = None;
                Ok(())
            }
            _ => Err(Error::unsupported("not an LZ4 frame decoder parameter")),
        }
    }

    fn set_dict(&mut self, d: Option<Arc<Dict>>) -> Result<()> {
        self.dict = d;
        Ok(())
    }

    fn decode(&mut self, src: &[u8], dst: &mut [u8]) -> Step {
        let (mut r, mut w, mut run) = (0, 0, 0);
        let res = self.run(src, dst, &mut r, &mut w, &mut run);
        self.pos += r as u64;
        // Keep the history current: fold this call's direct output into it (once per call).
        if self.stage.in_frame() && self.desc.linked() {
            let tail = dict_tail(&self.dict, self.use_dict);
            window::save_run(dst, w, &mut run, &mut self.hist, tail);
        }
        match res {
            Ok(st) => Step::ok(r, w, st),
            Err(e) => Step::err(r, w, e),
        }
    }

    fn at_frame_edge(&self) -> bool {
        self.stage == Stage::Magic && self.have == 0 && self.out_pos == self.out_len
    }

    fn reset(&mut self) {
        let dict = self.dict.take();
        let threads = self.threads;
        let lease = self.lease.take();
        *self = Lz4FrameDecoder::new();
        self.dict = dict;
        self.threads = threads;
        self.lease = lease;
    }

    fn try_clone(&self) -> Result<Box<dyn DecoderCore>> {
        let pending = &self.out[self.out_pos..self.out_len];
        let (mut out, mut out_pos, mut out_len) = (Vec::new(), 0, pending.len());
        if self.par.cur.is_some() {
            // The rest of the current batch's output is still to be delivered from `out`.
            out = self.out.clone();
            (out_pos, out_len) = (self.out_pos, self.out_len);
        } else if !pending.is_empty() {
            out = try_alloc_zeroed(self.desc.block_max(), "an LZ4 output block")?;
            out[..pending.len()].copy_from_slice(pending);
        }
        Ok(Box::new(Lz4FrameDecoder {
            dict: self.dict.clone(),
            stage: self.stage,
            field: self.field,
            have: self.have,
            skip_left: self.skip_left,
            desc: self.desc,
            remaining: self.remaining,
            use_dict: self.use_dict,
            xxh: self.xxh,
            block_hdr: self.block_hdr,
            cbuf: self.cbuf.clone(),
            hist: self.hist.clone(),
            out,
            out_pos,
            out_len,
            threads: self.threads,
            par: self.par.clone(),
            // Shared tasks keep running on the pool; the clone needs its own claim on it.
            lease: (!self.par.inflight.is_empty()).then(|| Lease::new(self.threads)),
            pos: self.pos,
        }))
    }

    fn marshal_in_flight(&self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let input = self.par_in_flight();
        if input.is_empty() {
            return Ok(None);
        }
        // `marshal` writes the sequential state at the delivered boundary.
        let mut w = StateWriter::new();
        self.marshal(&mut w)?;
        Ok(Some((w.into_inner(), input)))
    }

    fn marshal(&self, wr: &mut StateWriter) -> Result<()> {
        wr.u8(self.stage as u8);
        wr.u8(self.have);
        wr.raw(&self.field[..self.have as usize]);
        if self.stage == Stage::Skip {
            wr.u64(self.skip_left);
        }
        if self.stage.in_frame() {
            let d = &self.desc;
            wr.u8(d.flg);
            wr.u8(d.bd);
            wr.u64(d.content_size);
            wr.u64(self.remaining);
            wr.u32(d.dict_id);
            wr.bool(self.use_dict);
            if d.content_checksum() {
                let s = &self.xxh;
                wr.u32(s.total_len_32);
                wr.u32(s.large_len);
                for v in s.v {
                    wr.u32(v);
                }
                for m in s.mem32 {
                    wr.u32(m);
                }
                wr.u32(s.memsize);
                wr.u32(s.reserved);
            }
            if self.stage == Stage::Block {
                wr.u32(self.block_hdr);
                wr.bytes(&self.cbuf);
            }
            if d.linked() {
                wr.bool(self.hist.is_dict());
                wr.bytes(self.hist.own());
            }
            wr.bytes(&self.out[self.out_pos..self.out_len]);
        }
        // Optional trailing field (absent = 1), so sequential states are unchanged.
        if self.threads > 1 {
            wr.u16(self.threads as u16);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Action;
    use crate::formats::Format;

    /// A frame of `n` bytes with its size and content checksum recorded.
    fn frame(n: usize) -> Vec<u8> {
        let data: Vec<u8> = (0..n as u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut e = crate::stream::Encoder::new(Format::Lz4Frame).unwrap();
        e.set_param(CODEC_PARAM_CHECKSUM, 1).unwrap();
        e.set_pledged_size(n as u64).unwrap();
        let mut out = vec![0u8; n + 1024];
        let s = e.encode(&data, &mut out, Action::Finish);
        assert_eq!(s.result.unwrap(), Status::Ok);
        out.truncate(s.written);
        out
    }

    fn reload(d: &Lz4FrameDecoder) -> Result<Lz4FrameDecoder> {
        crate::state::reload(|w| d.marshal(w).unwrap(), |r| Lz4FrameDecoder::unmarshal(r, None))
    }

    /// The checksum stage only follows the end mark of a checksummed frame that produced all
    /// of its recorded size.
    #[test]
    fn checksum_stage_needs_a_complete_checksummed_frame() {
        let f = frame(3000);
        let mut d = Lz4FrameDecoder::new();
        let mut out = vec![0u8; 4000];
        let s = d.decode(&f[..f.len() - 4], &mut out);
        assert_eq!(s.result.unwrap(), Status::Ok);
        assert_eq!(d.stage, Stage::ContentChecksum);
        reload(&d).expect("the real state reloads");
        d.remaining = 3;
        assert!(reload(&d).is_err(), "checksum stage with content still due");
    }

    /// In a linked frame, output decoded but not yet delivered is the end of the history.
    #[test]
    fn pending_output_must_end_the_history() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8 ^ (i >> 9) as u8).collect();
        let mut e = crate::stream::Encoder::new(Format::Lz4Frame).unwrap();
        e.set_param(CODEC_PARAM_LZ4_LINKED_BLOCKS, 1).unwrap();
        let mut f = vec![0u8; data.len() + 4096];
        let s = e.encode(&data, &mut f, Action::Finish);
        assert_eq!(s.result.unwrap(), Status::Ok);
        f.truncate(s.written);
        let mut d = Lz4FrameDecoder::new();
        // A small output buffer: the first block goes to the internal buffer.
        let s = d.decode(&f, &mut [0u8; 1000]);
        assert_eq!(s.result.unwrap(), Status::MoreOutput);
        assert!(d.desc.linked() && d.out_len - d.out_pos > 1000, "output is pending");
        let back = reload(&d).expect("the real state reloads");
        assert_eq!(back.out[back.out_pos..back.out_len], d.out[d.out_pos..d.out_len]);
        d.out[d.out_len - 1] ^= 1;
        assert!(reload(&d).is_err(), "pending output that differs from the history");
    }

    /// Before 16 bytes were hashed the XXH32 accumulators are the seed's (a short input's
    /// digest reads one of them), and the reserved word is 0.
    #[test]
    fn short_checksum_states_keep_the_seed_accumulators() {
        let f = frame(3000);
        let mut d = Lz4FrameDecoder::new();
        let mut out = vec![0u8; 4000];
        let hdr = header_len(f[4]) + 4;
        d.decode(&f[..hdr], &mut out).result.unwrap();
        assert_eq!(d.xxh.large_len, 0);
        reload(&d).expect("the real state reloads");
        let real = d.xxh;
        d.xxh.v[2] = 12345;
        assert!(reload(&d).is_err(), "altered accumulator");
        d.xxh = real;
        d.xxh.reserved = 1;
        assert!(reload(&d).is_err(), "reserved word");
    }

    /// The pipeline gives a compressed block the output room its bytes can decode to, not the
    /// frame's block maximum: 400 one-byte blocks of a 4 MiB-block frame, with the input split
    /// inside a block (so that they are gathered into batches), get 319 bytes each, in one batch
    /// (they took a 4 MiB batch each, up to two per thread in flight).
    #[test]
    fn parallel_batches_size_blocks_by_their_compressed_length() {
        let mut f = vec![0x04, 0x22, 0x4D, 0x18, 0x60, 0x70];
        f.push(((sys::xxh32(&f[4..6], 0) >> 8) & 0xFF) as u8);
        for _ in 0..400 {
            // A compressed block of one byte: a token without literals, decoding to nothing.
            f.extend_from_slice(&1u32.to_le_bytes());
            f.push(0);
        }
        f.extend_from_slice(&[0; 4]);
        let mut d = Lz4FrameDecoder::new();
        d.set_param(CODEC_PARAM_THREADS, 4).unwrap();
        let mut out = vec![0u8; 4096];
        let s = d.decode(&f[..9], &mut out);
        assert!(s.result.is_ok() && s.read == 9 && d.par.gbuf.len() == 2);
        assert_eq!(d.desc.block_room(1), 319);
        let mut r = 0;
        d.par_gather(&f[9..], &mut r, 9).unwrap();
        assert!(!d.par.inflight.is_empty());
        let held: usize = d
            .par
            .inflight
            .iter()
            .map(|b| pool::wait_front(b.task.clone(), std::iter::empty()).unwrap().data.capacity())
            .sum();
        assert!(held <= 400 * 319, "{held} bytes of output room for 400 one-byte blocks");
        let s = d.decode(&f[9 + r..], &mut out);
        assert!(s.result.unwrap() == Status::FrameEnd && s.written == 0 && 9 + r + s.read == f.len());
    }
}
