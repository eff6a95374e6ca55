//! The push-style decoder for .xz, raw LZMA2 and .lzma. One state machine, all of whose
//! state is plain data: it clones with `derive(Clone)` and marshals field by field.

use std::collections::VecDeque;
use std::sync::Arc;

use super::check::{check_size, crc32, Check, Sha256};
use super::filters::{FilterSpec, Filters};
use super::lzma::{window_alloc_max, window_size};
use super::payload::{decode_props, PStatus, Payload};
use crate::abi::*;
use crate::core::{DecoderCore, Status, Step};
use crate::dict::Dict;
use crate::error::{try_alloc_zeroed, Error, Result};
use crate::pool::{self, Lease, Task};
use crate::state::{StateReader, StateWriter};

pub(crate) const XZ_MAGIC: [u8; 6] = [0xFD, b'7', b'z', b'X', b'Z', 0];
pub(crate) const FOOTER_MAGIC: [u8; 2] = [b'Y', b'Z'];
pub(crate) const DEFAULT_MEMLIMIT: u64 = 256 << 20;
pub(crate) const RAW_DICT_DEFAULT: u32 = 8 << 20;
const VLI_MAX: u64 = u64::MAX / 2;
/// The largest unpadded size (block header + compressed data + check) the format allows: a
/// VLI that stays one once padded to a multiple of 4. A block's compressed data alone is held
/// to it too.
const UNPADDED_MAX: u64 = VLI_MAX & !3;
/// The range of an index record's unpadded size (liblzma's UNPADDED_SIZE_MIN..=_MAX).
const UNPADDED: std::ops::RangeInclusive<u64> = 5..=UNPADDED_MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Xz,
    Raw,
    Alone,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum St {
    StreamHeader,
    BlockStart,
    BlockHeader,
    BlockData,
    BlockPadding,
    BlockCheck,
    Index,
    StreamFooter,
    StreamPadding,
    RawStart,
    RawData,
    AloneHeader,
    AloneData,
    /// After a .lzma stream of known size: the rest of the input is ignored, as liblzma does
    /// (the encoder's last range-coder byte may be left unread).
    AloneTail,
}

const STS: [St; 14] = [
    St::StreamHeader,
    St::BlockStart,
    St::BlockHeader,
    St::BlockData,
    St::BlockPadding,
    St::BlockCheck,
    St::Index,
    St::StreamFooter,
    St::StreamPadding,
    St::RawStart,
    St::RawData,
    St::AloneHeader,
    St::AloneData,
    St::AloneTail,
];

/// Sums over blocks, or over index records (liblzma's index_hash, in O(1) space).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Sums {
    count: u64,
    blocks_size: u64,
    unc_size: u64,
    list_size: u64,
    hash: Sha256,
}

fn vli_size(v: u64) -> u64 {
    let mut n = 1;
    let mut v = v >> 7;
    while v != 0 {
        n += 1;
        v >>= 7;
    }
    n
}

impl Sums {
    fn add(&mut self, unpadded: u64, unc: u64) {
        self.count = self.count.wrapping_add(1);
        self.blocks_size = self.blocks_size.wrapping_add((unpadded + 3) & !3);
        self.unc_size = self.unc_size.wrapping_add(unc);
        self.list_size = self.list_size.wrapping_add(vli_size(unpadded) + vli_size(unc));
        let mut rec = [0u8; 16];
        rec[..8].copy_from_slice(&unpadded.to_le_bytes());
        rec[8..].copy_from_slice(&unc.to_le_bytes());
        self.hash.update(&rec);
    }
    fn marshal(&self, w: &mut StateWriter) {
        w.u64(self.count);
        w.u64(self.blocks_size);
        w.u64(self.unc_size);
        w.u64(self.list_size);
        self.hash.marshal(w);
    }
    fn unmarshal(r: &mut StateReader<'_>) -> Result<Sums> {
        Ok(Sums {
            // The index records the count as a VLI: no real stream has more.
            count: r.u64_in("block count", 0, VLI_MAX)?,
            blocks_size: r.u64("blocks size")?,
            unc_size: r.u64("uncompressed size")?,
            list_size: r.u64("index list size")?,
            hash: Sha256::unmarshal(r)?,
        })
    }
}

/// Where the index parser is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ix {
    Count,
    Unpadded,
    Uncompressed,
    Padding,
    Crc,
}
const IXS: [Ix; 5] = [Ix::Count, Ix::Unpadded, Ix::Uncompressed, Ix::Padding, Ix::Crc];

#[derive(Clone, Debug)]
struct IndexState {
    seq: Ix,
    vli: u64,
    vli_len: u8,
    remaining: u64,
    unpadded: u64,
    /// CRC32 of the index bytes so far (not finalized: crc32fast's running value).
    crc: u32,
    /// Index bytes so far, indicator included.
    size: u64,
    records: Sums,
}

impl Default for IndexState {
    fn default() -> Self {
        IndexState {
            seq: Ix::Count,
            vli: 0,
            vli_len: 0,
            remaining: 0,
            unpadded: 0,
            crc: 0,
            size: 0,
            records: Sums::default(),
        }
    }
}

#[derive(Clone)]
pub struct XzDecoder {
    kind: Kind,
    memlimit: u64,
    raw_dict: u32,
    raw_delta: u32,
    raw_bcj: bool,
    dict: Option<Arc<Dict>>,
    st: St,
    /// Partial header / footer / check bytes.
    hdr: Vec<u8>,
    /// xz: stream flags of the current stream (the check id is `flags[1] & 15`).
    flags: [u8; 2],
    header_size: u32,
    comp_decl: Option<u64>,
    unc_decl: Option<u64>,
    comp: u64,
    unc: u64,
    /// Block padding bytes still expected, or stream padding bytes seen.
    padding: u64,
    check: Check,
    blocks: Sums,
    index: IndexState,
    payload: Option<Payload>,
    /// .lzma: the current stream's header gave its size.
    alone_known: bool,
    /// `CODEC_PARAM_THREADS` (xz only; 1: sequential).
    threads: usize,
    par: Par,
    lease: Option<Lease>,
    /// Input bytes taken so far (error offsets of blocks decoded in earlier calls).
    pos: u64,
}

/// Largest block (compressed or uncompressed size) decoded in parallel; larger ones are
/// decoded sequentially, in order, like blocks whose headers lack sizes.
const PAR_BLOCK_MAX: u64 = 128 << 20;
/// Most memory the blocks in flight may commit (`par_cost`): the memory limit, or this if lower.
const PAR_BUDGET_MAX: u64 = 512 << 20;

/// Parallel decoding of .xz blocks. At a block boundary, blocks whose headers record both
/// sizes (liblzma's multithreaded encoder writes them) and that lie complete in the call's
/// input are taken whole and decoded as pool tasks, each by a sequential decoder of its own started at that block header (the same code:
/// header checks, LZMA2, filters, the block's check), into a buffer of the declared size (plus
/// one byte, where the sequential decoder also reports a block longer than declared). Results
/// are delivered in order; a block's index record is added when its output has been delivered,
/// so the index is verified as in the sequential path. The memory the blocks in flight and the
/// block being delivered commit (`par_cost`) stays within the memory limit (or
/// `PAR_BUDGET_MAX`): a block that does not fit waits for earlier ones to be delivered. A
/// header without sizes or that the sequential code refuses, an oversized block, a block that
/// does not fit even alone, or the index stops gathering; once everything before it is
/// delivered the sequential code continues from there. So does a block that is not complete
/// in the input: it is decoded sequentially as its bytes arrive, so output never waits for
/// input that may not come (a truncated stream yields the same output as sequentially). A
/// failed block delivers the output it decoded, then its error.
///
/// Between calls the sequential fields describe the state before the block being delivered.
/// Marshal re-decodes that block sequentially up to the output already delivered (at most one
/// block) and hands everything after that back as held input (`marshal_in_flight`).
#[derive(Clone, Default)]
struct Par {
    inflight: VecDeque<XzBlock>,
    cur: Option<XzCur>,
    /// Memory committed by the blocks in flight and the block being delivered (`par_cost`).
    budget: u64,
    stop: bool,
    /// The header that stopped gathering is next in the input, for the sequential code.
    handoff: bool,
}

#[derive(Clone)]
struct XzBlock {
    task: Task<BlockOut>,
    raw: Arc<Vec<u8>>,
    abs: u64,
    cost: u64,
}

struct BlockOut {
    data: Vec<u8>,
    /// Index record (unpadded size, uncompressed size) of a block decoded without error.
    record: Option<(u64, u64)>,
    err: Option<Error>,
}

#[derive(Clone)]
struct XzCur {
    raw: Arc<Vec<u8>>,
    abs: u64,
    cost: u64,
    data: Vec<u8>,
    done: usize,
    record: Option<(u64, u64)>,
    err: Option<Error>,
}

/// A complete block header that the sequential code accepts and that records both sizes, up to
/// `PAR_BLOCK_MAX`: its (compressed, uncompressed) sizes and LZMA2 dictionary size. `None`
/// otherwise (the sequential code then reports what is wrong with it).
fn par_header(h: &[u8], memlimit: u64) -> Option<(u64, u64, u64)> {
    let b = XzDecoder::parse_block_header(h, 0, memlimit).ok()?;
    let (comp, unc) = (b.comp_decl?, b.unc_decl?);
    (comp <= PAR_BLOCK_MAX && unc <= PAR_BLOCK_MAX).then_some((comp, unc, b.dict))
}

/// The most memory decoding a block in parallel commits: a copy of the block (`raw` bytes), its
/// output buffer (`unc + 1` bytes) and the window the task's decoder grows while at most that
/// output (plus the x86 filter's 16 held bytes) passes through it.
fn par_cost(raw: u64, unc: u64, dict: u64) -> u64 {
    raw + unc + 1 + window_alloc_max(dict, unc + 1 + 16)
}

/// The fields of a block header.
struct BlockHeader {
    comp_decl: Option<u64>,
    unc_decl: Option<u64>,
    chain: Vec<FilterSpec>,
    dict: u64,
}

fn corrupt(msg: impl Into<String>) -> Error {
    Error::corrupt(msg)
}

fn memlimit_error(what: &str, need: u64, limit: u64) -> Error {
    Error::memlimit(format!(
        "the {what} needs a {need}-byte ({} MiB) dictionary, above the memory limit of {limit} bytes ({} MiB); raise CODEC_PARAM_MEMLIMIT to decode it",
        need.div_ceil(1 << 20),
        limit >> 20
    ))
}

/// Decode a VLI byte; `Ok(true)` when the integer is complete.
fn vli_step(v: &mut u64, n: &mut u8, b: u8) -> Result<bool> {
    if *n >= 9 {
        return Err(corrupt("variable-length integer too long"));
    }
    *v |= ((b & 0x7F) as u64) << (7 * *n as u32);
    *n += 1;
    if b & 0x80 == 0 {
        if b == 0 && *n > 1 {
            return Err(corrupt("variable-length integer is not minimally encoded"));
        }
        return Ok(true);
    }
    if *n == 9 {
        return Err(corrupt("variable-length integer too long"));
    }
    Ok(false)
}

/// Read a whole VLI from a buffer.
fn vli_read(b: &[u8], p: &mut usize) -> Result<u64> {
    let (mut v, mut n) = (0u64, 0u8);
    loop {
        let Some(&x) = b.get(*p) else {
            return Err(corrupt("block header too short for its fields"));
        };
        *p += 1;
        if vli_step(&mut v, &mut n, x)? {
            return Ok(v);
        }
    }
}

/// LZMA2 dictionary size from its properties byte.
pub(crate) fn lzma2_dict_size(b: u8) -> Option<u64> {
    if b & 0xC0 != 0 || b > 40 {
        return None;
    }
    if b == 40 {
        return Some(u32::MAX as u64);
    }
    Some((2 | (b as u64 & 1)) << (b / 2 + 11))
}

/// Parsed xz stream header (12 bytes): the stream flags.
pub(crate) fn parse_stream_header(h: &[u8]) -> Result<[u8; 2]> {
    if h[..6] != XZ_MAGIC {
        return Err(corrupt("not an xz stream (bad magic)"));
    }
    let flags = [h[6], h[7]];
    if u32::from_le_bytes(h[8..12].try_into().unwrap()) != crc32(&flags) {
        return Err(corrupt("xz stream header CRC32 mismatch"));
    }
    if flags[0] != 0 || flags[1] & 0xF0 != 0 {
        return Err(Error::unsupported(format!(
            "xz stream flags {:02x} {:02x} are not supported (reserved bits set)",
            flags[0], flags[1]
        )));
    }
    Ok(flags)
}

/// Decode one whole block (a pool task) with the sequential decoder `d`, set at its header.
fn decode_block(mut d: XzDecoder, raw: &[u8], unc: u64) -> BlockOut {
    let mut data = match try_alloc_zeroed(unc as usize + 1, "a decoded xz block") {
        Ok(v) => v,
        Err(e) => return BlockOut { data: Vec::new(), record: None, err: Some(e.at(0)) },
    };
    let s = d.decode(raw, &mut data);
    data.truncate(s.written);
    match s.result {
        Err(e) => BlockOut { data, record: None, err: Some(e) },
        Ok(_) if s.read == raw.len() && d.st == St::BlockStart => {
            let unpadded = d.header_size as u64 + d.comp + check_size(d.flags[1] & 15) as u64;
            BlockOut { data, record: Some((unpadded, d.unc)), err: None }
        }
        Ok(_) => BlockOut {
            data,
            record: None,
            err: Some(Error::internal("an xz block decoded in parallel did not end where its header said").at(0)),
        },
    }
}

impl XzDecoder {
    pub(crate) fn new(kind: Kind) -> XzDecoder {
        XzDecoder {
            kind,
            memlimit: DEFAULT_MEMLIMIT,
            raw_dict: RAW_DICT_DEFAULT,
            raw_delta: 0,
            raw_bcj: false,
            dict: None,
            st: Self::initial(kind),
            hdr: Vec::new(),
            flags: [0; 2],
            header_size: 0,
            comp_decl: None,
            unc_decl: None,
            comp: 0,
            unc: 0,
            padding: 0,
            check: Check::None,
            blocks: Sums::default(),
            index: IndexState::default(),
            payload: None,
            alone_known: false,
            threads: 1,
            par: Par::default(),
            lease: None,
            pos: 0,
        }
    }

    fn par_active(&self) -> bool {
        self.threads > 1 && self.kind == Kind::Xz && !self.par.handoff
    }

    /// Submit the blocks that lie complete in `src` and record their sizes (see `Par`).
    fn par_gather(&mut self, src: &[u8], r: &mut usize, base: u64) {
        let limit = 2 * self.threads;
        let csize = check_size(self.flags[1] & 15);
        let budget = self.memlimit.min(PAR_BUDGET_MAX);
        while !self.par.stop && self.par.inflight.len() < limit {
            let rest = &src[*r..];
            let block = match rest.first() {
                None => break,
                Some(0) => None,
                Some(&b) => {
                    let hsize = (b as usize + 1) * 4;
                    rest.get(..hsize).and_then(|h| par_header(h, self.memlimit)).and_then(|(comp, unc, dict)| {
                        let raw = rest.get(..hsize + (comp as usize).next_multiple_of(4) + csize)?;
                        Some((raw, unc, par_cost(raw.len() as u64, unc, dict)))
                    })
                }
            };
            let Some((block, unc, cost)) = block.filter(|b| b.2 <= budget) else {
                // The index, a header without sizes (or that the sequential code refuses), a
                // block not complete in this input or too large for the memory limit: the
                // sequential code decodes it (streaming, as it always does).
                self.par.stop = true;
                break;
            };
            if self.par.budget + cost > budget {
                // It fits once earlier blocks are delivered.
                break;
            }
            *r += block.len();
            self.par_submit(block.to_vec(), unc, cost, base + *r as u64);
        }
    }

    /// Submit a complete block of `unc` bytes declared that commits `cost` bytes (`par_cost`);
    /// `end` is the input position just after it.
    fn par_submit(&mut self, raw: Vec<u8>, unc: u64, cost: u64, end: u64) {
        let raw = Arc::new(raw);
        // A decoder for this block alone, numbered as the sequential one would number it.
        let mut d = XzDecoder::new(Kind::Xz);
        d.memlimit = self.memlimit;
        d.flags = self.flags;
        d.st = St::BlockHeader;
        d.blocks.count = self.blocks.count + self.par.inflight.len() as u64 + self.par.cur.is_some() as u64;
        let r2 = raw.clone();
        let task = Task::spawn(move || decode_block(d, &r2, unc));
        if self.lease.is_none() {
            self.lease = Some(Lease::new(self.threads));
        }
        self.par.budget += cost;
        let abs = end - raw.len() as u64;
        self.par.inflight.push_back(XzBlock { task, raw, abs, cost });
    }

    /// Deliver output of the blocks in flight into `dst`. `Ok(None)` when nothing is in flight;
    /// `Ok(Some(true))` when `dst` is full.
    fn par_deliver(&mut self, dst: &mut [u8], w: &mut usize, base: u64) -> Result<Option<bool>> {
        if self.par.cur.is_none() {
            let Some(b) = self.par.inflight.pop_front() else { return Ok(None) };
            let res = pool::wait_front(b.task, self.par.inflight.iter().map(|x| &x.task))?;
            let out = pool::unwrap_or_clone_with(res, |o: &BlockOut| BlockOut {
                data: o.data.clone(),
                record: o.record,
                err: o.err.clone(),
            });
            self.par.cur = Some(XzCur {
                raw: b.raw,
                abs: b.abs,
                cost: b.cost,
                data: out.data,
                done: 0,
                record: out.record,
                err: out.err,
            });
        }
        let c = self.par.cur.as_mut().expect("current block");
        let n = (c.data.len() - c.done).min(dst.len() - *w);
        dst[*w..*w + n].copy_from_slice(&c.data[c.done..c.done + n]);
        c.done += n;
        *w += n;
        if c.done < c.data.len() {
            return Ok(Some(true));
        }
        let c = self.par.cur.take().expect("current block");
        self.par.budget -= c.cost;
        if let Some(mut e) = c.err {
            let shift = c.abs as i64 - base as i64;
            e.at = e.at.map(|a| a + shift);
            return Err(e);
        }
        let (unpadded, unc) = c.record.expect("a block without error has its record");
        self.blocks.add(unpadded, unc);
        Ok(Some(false))
    }

    /// The sequential state at the output delivered so far, and the input after it.
    fn par_boundary(&self) -> Result<(XzDecoder, Vec<u8>)> {
        let mut seq = self.clone();
        seq.par = Par::default();
        seq.lease = None;
        seq.threads = 1;
        let mut rest = Vec::new();
        if let Some(c) = &self.par.cur {
            // Re-decode the block being delivered up to what was delivered of it.
            let mut scratch = try_alloc_zeroed(c.done, "re-decoding an xz block")?;
            let mut read = 0;
            while seq.par_re_decoded(&c.raw[read..], &mut scratch, &mut read)? {}
            rest.extend_from_slice(&c.raw[read..]);
        }
        for b in &self.par.inflight {
            rest.extend_from_slice(&b.raw);
        }
        seq.threads = self.threads;
        Ok((seq, rest))
    }

    /// One sequential step of `par_boundary`'s re-decode into the rest of `scratch`; true
    /// while more is needed.
    fn par_re_decoded(&mut self, src: &[u8], scratch: &mut Vec<u8>, read: &mut usize) -> Result<bool> {
        if scratch.is_empty() {
            return Ok(false);
        }
        let s = self.decode(src, scratch);
        *read += s.read;
        s.result?;
        scratch.drain(..s.written);
        if s.read == 0 && s.written == 0 {
            return Err(Error::internal("re-decoding an xz block made no progress"));
        }
        Ok(!scratch.is_empty())
    }

    fn initial(kind: Kind) -> St {
        match kind {
            Kind::Xz => St::StreamHeader,
            Kind::Raw => St::RawStart,
            Kind::Alone => St::AloneHeader,
        }
    }

    /// Bytes the current window has allocated (tests).
    pub fn window_allocated(&self) -> usize {
        self.payload.as_ref().map_or(0, |p| p.allocated())
    }

    /// Collect bytes into `hdr` until it holds `want`; true when it does.
    fn fill(&mut self, src: &[u8], read: &mut usize, want: usize) -> bool {
        let n = (want - self.hdr.len()).min(src.len() - *read);
        self.hdr.extend_from_slice(&src[*read..*read + n]);
        *read += n;
        self.hdr.len() == want
    }

    fn raw_filters(&self) -> Result<Filters> {
        let mut chain = Vec::new();
        if self.raw_bcj {
            chain.push(FilterSpec::X86(0));
        }
        if self.raw_delta > 0 {
            chain.push(FilterSpec::Delta(self.raw_delta));
        }
        Filters::new(&chain)
    }

    /// Parse and check a complete block header (block `count + 1`), the dictionary against
    /// `memlimit`; allocates nothing sized by the header.
    fn parse_block_header(h: &[u8], count: u64, memlimit: u64) -> Result<BlockHeader> {
        let size = h.len();
        let stored = u32::from_le_bytes(h[size - 4..].try_into().unwrap());
        if crc32(&h[..size - 4]) != stored {
            return Err(corrupt(format!("block {} header CRC32 mismatch", count.wrapping_add(1))));
        }
        let flags = h[1];
        if flags & 0x3C != 0 {
            return Err(Error::unsupported(format!("block header flags {flags:#04x} have reserved bits set")));
        }
        let body = &h[..size - 4];
        let mut p = 2;
        let comp_decl = if flags & 0x40 != 0 {
            let v = vli_read(body, &mut p)?;
            if v == 0 {
                return Err(corrupt("block header declares a compressed size of 0"));
            }
            Some(v)
        } else {
            None
        };
        let unc_decl = if flags & 0x80 != 0 { Some(vli_read(body, &mut p)?) } else { None };
        let nfilters = (flags & 3) as usize + 1;
        let mut chain = Vec::new();
        let mut dict = None;
        for i in 0..nfilters {
            let id = vli_read(body, &mut p)?;
            let psize = vli_read(body, &mut p)?;
            if psize > (body.len() - p) as u64 {
                return Err(corrupt("filter properties run past the block header"));
            }
            let props = &body[p..p + psize as usize];
            p += psize as usize;
            let last = i + 1 == nfilters;
            match id {
                0x21 => {
                    if !last {
                        return Err(corrupt("LZMA2 must be the last filter"));
                    }
                    if psize != 1 {
                        return Err(corrupt("LZMA2 filter properties must be 1 byte"));
                    }
                    dict = Some(
                        lzma2_dict_size(props[0])
                            .ok_or_else(|| corrupt(format!("invalid LZMA2 dictionary size byte {:#04x}", props[0])))?,
                    );
                }
                _ if last => {
                    return Err(Error::unsupported(format!("the last filter is {id:#x}, not LZMA2: not supported")))
                }
                0x03 => {
                    if psize != 1 {
                        return Err(corrupt("delta filter properties must be 1 byte"));
                    }
                    chain.push(FilterSpec::Delta(props[0] as u32 + 1));
                }
                0x04 => {
                    let start = match psize {
                        0 => 0,
                        4 => u32::from_le_bytes(props.try_into().unwrap()),
                        _ => return Err(corrupt("x86 filter properties must be 0 or 4 bytes")),
                    };
                    chain.push(FilterSpec::X86(start));
                }
                _ => {
                    return Err(Error::unsupported(format!(
                        "filter {id:#x} is not supported (only LZMA2, delta and x86 BCJ)"
                    )))
                }
            }
        }
        if body[p..].iter().any(|&b| b != 0) {
            return Err(Error::unsupported("block header padding is not zero"));
        }
        let dict = dict.expect("last filter is LZMA2");
        let need = window_size(dict);
        if need > memlimit {
            return Err(memlimit_error("xz block", need, memlimit));
        }
        Ok(BlockHeader { comp_decl, unc_decl, chain, dict })
    }

    /// Parse a complete block header in `hdr` and set up the block.
    fn start_block(&mut self) -> Result<()> {
        let b = Self::parse_block_header(&self.hdr, self.blocks.count, self.memlimit)?;
        let filters = Filters::new(&b.chain)?;
        self.payload = Some(Payload::lzma2(b.dict, None, filters)?);
        self.header_size = self.hdr.len() as u32;
        self.comp_decl = b.comp_decl;
        self.unc_decl = b.unc_decl;
        self.comp = 0;
        self.unc = 0;
        self.check = Check::new(self.flags[1] & 15);
        Ok(())
    }

    fn index_byte(&mut self, b: u8) -> Result<bool> {
        let ix = &mut self.index;
        let mut h = crc32fast::Hasher::new_with_initial(ix.crc);
        h.update(&[b]);
        if ix.seq != Ix::Crc {
            ix.crc = h.finalize();
        }
        ix.size = ix.size.wrapping_add(1);
        match ix.seq {
            Ix::Count | Ix::Unpadded | Ix::Uncompressed => {
                if !vli_step(&mut ix.vli, &mut ix.vli_len, b)? {
                    return Ok(false);
                }
                let v = ix.vli;
                ix.vli = 0;
                ix.vli_len = 0;
                match ix.seq {
                    Ix::Count => {
                        if v != self.blocks.count {
                            return Err(corrupt(format!(
                                "the index lists {v} blocks, the stream has {}",
                                self.blocks.count
                            )));
                        }
                        ix.remaining = v;
                    }
                    Ix::Unpadded => {
                        if !UNPADDED.contains(&v) {
                            return Err(corrupt("invalid unpadded size in the index"));
                        }
                        ix.unpadded = v;
                        ix.seq = Ix::Uncompressed;
                        return Ok(false);
                    }
                    _ => {
                        if v > VLI_MAX {
                            return Err(corrupt("invalid uncompressed size in the index"));
                        }
                        ix.records.add(ix.unpadded, v);
                        ix.remaining -= 1;
                    }
                }
                ix.seq = if ix.remaining > 0 { Ix::Unpadded } else { Ix::Padding };
                Ok(false)
            }
            Ix::Padding => {
                if b != 0 {
                    return Err(corrupt("index padding is not zero"));
                }
                Ok(false)
            }
            Ix::Crc => Ok(true),
        }
    }

    fn index_done(&self) -> Result<()> {
        let (a, b) = (&self.blocks, &self.index.records);
        if a.blocks_size != b.blocks_size
            || a.unc_size != b.unc_size
            || a.list_size != b.list_size
            || a.hash.finish() != b.hash.finish()
        {
            return Err(corrupt("the index does not match the blocks"));
        }
        Ok(())
    }

    fn run(&mut self, src: &[u8], dst: &mut [u8], read: &mut usize, written: &mut usize) -> Result<Status> {
        let base = self.pos;
        loop {
            match self.st {
                St::StreamHeader => {
                    if !self.fill(src, read, 12) {
                        return Ok(Status::Ok);
                    }
                    self.flags = parse_stream_header(&self.hdr).map_err(|e| e.at(*read as i64 - 12))?;
                    self.hdr.clear();
                    self.blocks = Sums::default();
                    self.st = St::BlockStart;
                }
                St::BlockStart if self.par_active() => {
                    self.par_gather(src, read, base);
                    match self.par_deliver(dst, written, base)? {
                        Some(true) => return Ok(Status::MoreOutput),
                        Some(false) => continue,
                        None => {}
                    }
                    // Everything gathered is delivered.
                    if *read == src.len() {
                        self.par.stop = false;
                        return Ok(Status::Ok);
                    }
                    // The next block (or the index) is for the sequential code.
                    self.par.stop = false;
                    self.par.handoff = true;
                }
                St::BlockStart => {
                    self.par.handoff = false;
                    let Some(&b) = src.get(*read) else {
                        return Ok(Status::Ok);
                    };
                    if b == 0 {
                        *read += 1;
                        // The index indicator: counted and hashed, not parsed.
                        self.index = IndexState { crc: crc32(&[0]), size: 1, ..IndexState::default() };
                        self.st = St::Index;
                    } else {
                        self.st = St::BlockHeader;
                    }
                }
                St::BlockHeader => {
                    let want = match self.hdr.first().or(src.get(*read)) {
                        Some(&b) => (b as usize + 1) * 4,
                        None => return Ok(Status::Ok),
                    };
                    if !self.fill(src, read, want) {
                        return Ok(Status::Ok);
                    }
                    self.start_block().map_err(|e| e.at(*read as i64))?;
                    self.hdr.clear();
                    self.st = St::BlockData;
                }
                St::BlockData => {
                    let mut avail = src.len() - *read;
                    let left = self.comp_decl.map(|d| d.saturating_sub(self.comp));
                    if let Some(l) = left {
                        avail = avail.min(l.min(usize::MAX as u64) as usize);
                    }
                    // At most one byte beyond the declared size, so a block longer than its
                    // header says fails after the same output whatever the buffer sizes.
                    let room = match self.unc_decl {
                        Some(d) => (dst.len() - *written)
                            .min(d.saturating_sub(self.unc).saturating_add(1).min(usize::MAX as u64) as usize),
                        None => dst.len() - *written,
                    };
                    let payload = self.payload.as_mut().expect("block has a payload");
                    let (r, w, res) = payload.run(&src[*read..*read + avail], &mut dst[*written..*written + room]);
                    let base = *read as i64;
                    let out = &dst[*written..*written + w];
                    self.check.update(out);
                    *read += r;
                    *written += w;
                    self.comp += r as u64;
                    self.unc += w as u64;
                    let st = res.map_err(|mut e| {
                        e.at = e.at.map(|a| a + base);
                        e
                    })?;
                    if self.unc_decl.is_some_and(|d| self.unc > d) {
                        return Err(corrupt("block holds more data than its header declares").at(*read as i64));
                    }
                    if self.comp > UNPADDED_MAX {
                        return Err(corrupt("block too large").at(*read as i64));
                    }
                    match st {
                        PStatus::OutputFull => return Ok(Status::MoreOutput),
                        PStatus::NeedInput => {
                            if left.is_some_and(|l| l == r as u64) {
                                return Err(
                                    corrupt("block data is longer than its header's compressed size").at(*read as i64)
                                );
                            }
                            return Ok(Status::Ok);
                        }
                        PStatus::End => {
                            if self.comp_decl.is_some_and(|d| d != self.comp)
                                || self.unc_decl.is_some_and(|d| d != self.unc)
                            {
                                return Err(corrupt("block sizes differ from those in its header").at(*read as i64));
                            }
                            self.payload = None;
                            self.padding = (4 - self.comp % 4) % 4;
                            self.st = St::BlockPadding;
                        }
                    }
                }
                St::BlockPadding => {
                    while self.padding > 0 {
                        let Some(&b) = src.get(*read) else {
                            return Ok(Status::Ok);
                        };
                        if b != 0 {
                            return Err(corrupt("block padding is not zero").at(*read as i64));
                        }
                        *read += 1;
                        self.padding -= 1;
                    }
                    self.st = St::BlockCheck;
                }
                St::BlockCheck => {
                    let n = check_size(self.flags[1] & 15);
                    if !self.fill(src, read, n) {
                        return Ok(Status::Ok);
                    }
                    if self.check.matches(&self.hdr) == Some(false) {
                        return Err(Error::checksum(format!(
                            "block {}: {} check mismatch",
                            self.blocks.count.wrapping_add(1),
                            self.check.name()
                        ))
                        .at(*read as i64 - n as i64));
                    }
                    let unpadded = self.header_size as u64 + self.comp + n as u64;
                    self.blocks.add(unpadded, self.unc);
                    self.hdr.clear();
                    self.check = Check::None;
                    self.st = St::BlockStart;
                }
                St::Index => loop {
                    if self.index.seq == Ix::Padding && self.index.size % 4 == 0 {
                        self.index.seq = Ix::Crc;
                    }
                    if self.index.seq == Ix::Crc {
                        if !self.fill(src, read, 4) {
                            return Ok(Status::Ok);
                        }
                        let stored = u32::from_le_bytes(self.hdr[..4].try_into().unwrap());
                        if stored != self.index.crc {
                            return Err(corrupt("index CRC32 mismatch").at(*read as i64));
                        }
                        self.index.size = self.index.size.wrapping_add(4);
                        self.hdr.clear();
                        self.index_done().map_err(|e| e.at(*read as i64))?;
                        self.st = St::StreamFooter;
                        break;
                    }
                    let Some(&b) = src.get(*read) else {
                        return Ok(Status::Ok);
                    };
                    *read += 1;
                    self.index_byte(b).map_err(|e| e.at(*read as i64 - 1))?;
                },
                St::StreamFooter => {
                    if !self.fill(src, read, 12) {
                        return Ok(Status::Ok);
                    }
                    let f = &self.hdr;
                    let at = *read as i64 - 12;
                    if f[10..12] != FOOTER_MAGIC {
                        return Err(corrupt("bad xz stream footer magic").at(at));
                    }
                    if u32::from_le_bytes(f[..4].try_into().unwrap()) != crc32(&f[4..10]) {
                        return Err(corrupt("xz stream footer CRC32 mismatch").at(at));
                    }
                    if f[8..10] != self.flags {
                        return Err(corrupt("xz stream footer flags differ from the header's").at(at));
                    }
                    let backward = (u32::from_le_bytes(f[4..8].try_into().unwrap()) as u64 + 1) * 4;
                    if backward != self.index.size {
                        return Err(corrupt("xz stream footer's index size is wrong").at(at));
                    }
                    self.hdr.clear();
                    self.padding = 0;
                    self.st = St::StreamPadding;
                    return Ok(Status::FrameEnd);
                }
                St::StreamPadding => loop {
                    let Some(&b) = src.get(*read) else {
                        return Ok(Status::Ok);
                    };
                    if b != 0 {
                        if self.padding % 4 != 0 {
                            return Err(corrupt("stream padding is not a multiple of 4 bytes").at(*read as i64));
                        }
                        self.st = St::StreamHeader;
                        break;
                    }
                    *read += 1;
                    self.padding = self.padding.wrapping_add(1);
                },
                St::RawStart => {
                    if *read == src.len() {
                        return Ok(Status::Ok);
                    }
                    let need = window_size(self.raw_dict as u64);
                    if need > self.memlimit {
                        return Err(memlimit_error("raw LZMA2 stream (CODEC_PARAM_XZ_DICT_SIZE)", need, self.memlimit));
                    }
                    let filters = self.raw_filters()?;
                    let preset = self.dict.as_ref().map(|d| d.content());
                    self.payload = Some(Payload::lzma2(self.raw_dict as u64, preset, filters)?);
                    self.st = St::RawData;
                }
                St::AloneHeader => {
                    if !self.fill(src, read, 13) {
                        return Ok(Status::Ok);
                    }
                    let h = &self.hdr;
                    let at = *read as i64 - 13;
                    let props = decode_props(h[0])
                        .ok_or_else(|| corrupt(format!("invalid .lzma properties byte {:#04x}", h[0])).at(at))?;
                    let dict = u32::from_le_bytes(h[1..5].try_into().unwrap()) as u64;
                    let size = u64::from_le_bytes(h[5..13].try_into().unwrap());
                    let need = window_size(dict);
                    if need > self.memlimit {
                        return Err(memlimit_error(".lzma stream", need, self.memlimit).at(at));
                    }
                    let size = (size != u64::MAX).then_some(size);
                    self.alone_known = size.is_some();
                    self.payload = Some(Payload::lzma1(dict, props, size));
                    self.hdr.clear();
                    self.st = St::AloneData;
                }
                St::AloneTail => {
                    *read = src.len();
                    return Ok(Status::Ok);
                }
                St::RawData | St::AloneData => {
                    let payload = self.payload.as_mut().expect("stream has a payload");
                    let (r, w, res) = payload.run(&src[*read..], &mut dst[*written..]);
                    let base = *read as i64;
                    *read += r;
                    *written += w;
                    let st = res.map_err(|mut e| {
                        e.at = e.at.map(|a| a + base);
                        e
                    })?;
                    match st {
                        PStatus::OutputFull => return Ok(Status::MoreOutput),
                        PStatus::NeedInput => return Ok(Status::Ok),
                        PStatus::End => {
                            self.payload = None;
                            self.st = if self.st == St::AloneData && self.alone_known {
                                St::AloneTail
                            } else {
                                Self::initial(self.kind)
                            };
                            return Ok(Status::FrameEnd);
                        }
                    }
                }
            }
        }
    }

    /// Rebuild a decoder from `marshal`'s payload. The memory limit is the restoring caller's
    /// (`memlimit`, or the default): the saved one is read but not trusted, and a state whose
    /// current dictionary exceeds the limit fails with `MemLimit`.
    pub fn unmarshal(r: &mut StateReader<'_>, dict: Option<Arc<Dict>>, memlimit: Option<u64>) -> Result<XzDecoder> {
        let kind = match r.u8_max("xz decoder kind", 2)? {
            0 => Kind::Xz,
            1 => Kind::Raw,
            _ => Kind::Alone,
        };
        r.u64_in("memory limit", 1, i64::MAX as u64)?;
        let memlimit = memlimit.unwrap_or(DEFAULT_MEMLIMIT);
        let raw_dict = r.u32_in("raw dictionary size", 4096, 3 << 29)?;
        let raw_delta = r.u32_in("raw delta distance", 0, 256)?;
        let raw_bcj = r.bool("raw x86 filter")?;
        let st = STS[r.u8_max("xz decoder stage", 13)? as usize];
        let ok_st = match kind {
            Kind::Xz => !matches!(st, St::RawStart | St::RawData | St::AloneHeader | St::AloneData | St::AloneTail),
            Kind::Raw => matches!(st, St::RawStart | St::RawData),
            Kind::Alone => matches!(st, St::AloneHeader | St::AloneData | St::AloneTail),
        };
        if !ok_st {
            return Err(Error::state("decoder stage does not belong to its format"));
        }
        let hdr_max = match st {
            St::StreamHeader | St::StreamFooter => 11,
            St::BlockHeader => 1023,
            St::BlockCheck => 63,
            St::Index => 3,
            St::AloneHeader => 12,
            _ => 0,
        };
        let hdr = r.bytes("header bytes", hdr_max)?.to_vec();
        if st == St::BlockHeader && hdr.first().is_some_and(|&b| (b as usize + 1) * 4 <= hdr.len()) {
            return Err(Error::state("block header buffer longer than the header"));
        }
        let flags = [r.u8("stream flags")?, r.u8_max("stream flags", 15)?];
        if flags[0] != 0 {
            return Err(Error::state("invalid stream flags"));
        }
        if st == St::BlockCheck && hdr.len() >= check_size(flags[1]) {
            return Err(Error::state("check buffer longer than the check"));
        }
        let header_size = r.u32_in("block header size", 0, 1024)?;
        let comp_decl = r.u64("declared compressed size")?;
        let unc_decl = r.u64("declared uncompressed size")?;
        let comp = r.u64_in("compressed size", 0, VLI_MAX)?;
        let unc = r.u64_in("uncompressed size", 0, VLI_MAX)?;
        let padding = r.u64("padding")?;
        if st == St::BlockPadding && padding > 3 {
            return Err(Error::state("block padding longer than 3 bytes"));
        }
        let check = Check::unmarshal(r)?;
        if matches!(st, St::BlockData | St::BlockPadding | St::BlockCheck) && check.id() != flags[1] {
            return Err(Error::state("block check type differs from the stream's"));
        }
        let blocks = Sums::unmarshal(r)?;
        let ix_seq = IXS[r.u8_max("index sequence", 4)? as usize];
        let index = IndexState {
            seq: ix_seq,
            vli: r.u64("index integer")?,
            vli_len: r.u8_max("index integer length", 8)?,
            remaining: r.u64("index records left")?,
            unpadded: r.u64("index unpadded size")?,
            crc: r.u32("index crc")?,
            size: r.u64("index size")?,
            records: Sums::unmarshal(r)?,
        };
        if matches!(index.seq, Ix::Unpadded | Ix::Uncompressed) && index.remaining == 0 {
            return Err(Error::state("index record expected with none remaining"));
        }
        if comp_decl != u64::MAX && comp > comp_decl {
            return Err(Error::state("block consumed more than its declared size"));
        }
        let has_payload = r.bool("payload present")?;
        let want_payload = matches!(st, St::BlockData | St::RawData | St::AloneData);
        if has_payload != want_payload {
            return Err(Error::state("payload presence does not match the stage"));
        }
        let payload = if has_payload { Some(Payload::unmarshal(r, memlimit)?) } else { None };
        let alone_known = r.bool("known .lzma size")?;
        // Written only when above 1 (absent = 1), so one state has one encoding.
        let threads = if r.remaining() > 0 {
            let t = r.u16("xz decoder threads")? as usize;
            if t < 2 {
                return Err(Error::state("xz decoder threads field present for a sequential decoder"));
            }
            t
        } else {
            1
        };
        if threads > pool::MAX_THREADS || (threads > 1 && kind != Kind::Xz) {
            return Err(Error::state("xz decoder threads out of bounds"));
        }
        let d = XzDecoder {
            kind,
            memlimit,
            raw_dict,
            raw_delta,
            raw_bcj,
            dict,
            st,
            hdr,
            flags,
            header_size,
            comp_decl: (comp_decl != u64::MAX).then_some(comp_decl),
            unc_decl: (unc_decl != u64::MAX).then_some(unc_decl),
            comp,
            unc,
            padding,
            check,
            blocks,
            index,
            payload,
            alone_known,
            threads,
            par: Par::default(),
            lease: None,
            pos: 0,
        };
        d.check_counters()?;
        Ok(d)
    }

    /// The block and index counters of a loaded state must agree with each other as they do
    /// in every state the decoder reaches; otherwise a restored decoder could accept a stream
    /// the original refuses (a wrong index size or record count, block padding of the wrong
    /// length, a block longer than its header declares).
    fn check_counters(&self) -> Result<()> {
        let bad = |what: &str| Err(Error::state(format!("xz state: {what}")));
        if matches!(self.st, St::BlockData | St::BlockPadding | St::BlockCheck) {
            if !(8..=1024).contains(&self.header_size) || self.header_size % 4 != 0 {
                return bad("block header size is not a block header's");
            }
            if self.unc_decl.is_some_and(|d| self.unc > d) || self.comp > UNPADDED_MAX {
                return bad("block holds more data than its header declares");
            }
            if self.st != St::BlockData
                && (self.comp_decl.is_some_and(|d| d != self.comp) || self.unc_decl.is_some_and(|d| d != self.unc))
            {
                return bad("a finished block's sizes differ from its header's");
            }
            if self.st == St::BlockPadding && !(1..=(4 - self.comp % 4) % 4).contains(&self.padding) {
                return bad("block padding left does not complete the block to a multiple of 4");
            }
        }
        let ix = &self.index;
        if ix.vli_len > 0 && ix.vli >> (7 * ix.vli_len as u32) != 0 {
            return bad("index integer has more bits than its bytes carry");
        }
        if ix.seq != Ix::Crc && self.st == St::Index && !self.hdr.is_empty() {
            return bad("index CRC32 bytes before the index CRC32");
        }
        if matches!(self.st, St::Index | St::StreamFooter) {
            // Index bytes: the indicator, the record count, the records, the partial
            // integer being read (or the last unpadded size read), then padding and CRC32.
            let records = 1u64.wrapping_add(vli_size(self.blocks.count)).wrapping_add(ix.records.list_size);
            let padded = records.wrapping_add(3) & !3;
            let ok = match ix.seq {
                _ if self.st == St::StreamFooter => {
                    ix.seq == Ix::Crc && ix.records == self.blocks && ix.size == padded.wrapping_add(4)
                }
                Ix::Count => ix.records == Sums::default() && ix.remaining == 0 && ix.size == 1 + ix.vli_len as u64,
                Ix::Unpadded | Ix::Uncompressed => {
                    let unpadded = match ix.seq {
                        Ix::Uncompressed if !UNPADDED.contains(&ix.unpadded) => return bad("index unpadded size"),
                        Ix::Uncompressed => vli_size(ix.unpadded),
                        _ => 0,
                    };
                    ix.records.count.checked_add(ix.remaining) == Some(self.blocks.count)
                        && ix.size == records.wrapping_add(unpadded).wrapping_add(ix.vli_len as u64)
                }
                Ix::Padding | Ix::Crc => {
                    let at = if ix.seq == Ix::Crc { ix.size == padded } else { (records..padded).contains(&ix.size) };
                    ix.records.count == self.blocks.count && ix.remaining == 0 && ix.vli_len == 0 && at
                }
            };
            if !ok {
                return bad("index position does not match the blocks and records read");
            }
        }
        Ok(())
    }

    /// The format this decoder decodes.
    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }
}

impl DecoderCore for XzDecoder {
    fn set_param(&mut self, p: codec_param, v: i64) -> Result<()> {
        match p {
            CODEC_PARAM_MEMLIMIT => self.memlimit = v as u64,
            CODEC_PARAM_THREADS if self.kind == Kind::Xz => {
                self.threads = (v as usize).clamp(1, pool::MAX_THREADS);
                self.lease = None;
            }
            CODEC_PARAM_XZ_DICT_SIZE if self.kind == Kind::Raw => self.raw_dict = v as u32,
            CODEC_PARAM_XZ_DELTA_DIST if self.kind == Kind::Raw => self.raw_delta = v as u32,
            CODEC_PARAM_XZ_BCJ_X86 if self.kind == Kind::Raw => self.raw_bcj = v != 0,
            _ => return Err(Error::unsupported("not a parameter of this decoder")),
        }
        Ok(())
    }

    fn set_dict(&mut self, d: Option<Arc<Dict>>) -> Result<()> {
        if d.is_some() && self.kind != Kind::Raw {
            return Err(Error::unsupported(
                "xz and .lzma cannot carry a preset dictionary (use CODEC_FORMAT_LZMA2_RAW)",
            ));
        }
        self.dict = d;
        Ok(())
    }

    fn decode(&mut self, src: &[u8], dst: &mut [u8]) -> Step {
        let (mut read, mut written) = (0, 0);
        let res = self.run(src, dst, &mut read, &mut written);
        self.pos += read as u64;
        match res {
            Ok(st) => Step::ok(read, written, st),
            Err(e) => Step::err(read, written, e),
        }
    }

    fn at_frame_edge(&self) -> bool {
        match self.st {
            St::StreamHeader | St::AloneHeader => self.hdr.is_empty(),
            St::StreamPadding => self.padding % 4 == 0,
            St::RawStart | St::AloneTail => true,
            _ => false,
        }
    }

    fn reset(&mut self) {
        let keep = (self.memlimit, self.raw_dict, self.raw_delta, self.raw_bcj, self.dict.take());
        let (threads, lease) = (self.threads, self.lease.take());
        *self = XzDecoder::new(self.kind);
        (self.memlimit, self.raw_dict, self.raw_delta, self.raw_bcj, self.dict) = keep;
        (self.threads, self.lease) = (threads, lease);
    }

    fn try_clone(&self) -> Result<Box<dyn DecoderCore>> {
        Ok(Box::new(self.clone()))
    }

    fn marshal(&self, w: &mut StateWriter) -> Result<()> {
        w.u8(match self.kind {
            Kind::Xz => 0,
            Kind::Raw => 1,
            Kind::Alone => 2,
        });
        w.u64(self.memlimit);
        w.u32(self.raw_dict);
        w.u32(self.raw_delta);
        w.bool(self.raw_bcj);
        w.u8(STS.iter().position(|&s| s == self.st).unwrap() as u8);
        w.bytes(&self.hdr);
        w.raw(&self.flags);
        w.u32(self.header_size);
        w.u64(self.comp_decl.unwrap_or(u64::MAX));
        w.u64(self.unc_decl.unwrap_or(u64::MAX));
        w.u64(self.comp);
        w.u64(self.unc);
        w.u64(self.padding);
        self.check.marshal(w);
        self.blocks.marshal(w);
        let ix = &self.index;
        w.u8(IXS.iter().position(|&s| s == ix.seq).unwrap() as u8);
        w.u64(ix.vli);
        w.u8(ix.vli_len);
        w.u64(ix.remaining);
        w.u64(ix.unpadded);
        w.u32(ix.crc);
        w.u64(ix.size);
        ix.records.marshal(w);
        w.bool(self.payload.is_some());
        if let Some(p) = &self.payload {
            p.marshal(w);
        }
        w.bool(self.alone_known);
        // Optional trailing field (absent = 1), so sequential states are unchanged.
        if self.threads > 1 {
            w.u16(self.threads as u16);
        }
        Ok(())
    }

    fn marshal_in_flight(&self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let p = &self.par;
        if p.cur.is_none() && p.inflight.is_empty() {
            return Ok(None);
        }
        let (seq, rest) = self.par_boundary()?;
        let mut w = StateWriter::new();
        seq.marshal(&mut w)?;
        Ok(Some((w.into_inner(), rest)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reload(d: &XzDecoder) -> Result<XzDecoder> {
        crate::state::reload(|w| d.marshal(w).unwrap(), |r| XzDecoder::unmarshal(r, None, None))
    }

    /// Every state met feeding a four-block stream byte by byte reloads; block and index
    /// counters that disagree with each other are refused.
    #[test]
    fn block_and_index_counters_must_agree() {
        use crate::core::Action;
        // liblzma's multithreaded encoder: blocks of 1000 bytes with their sizes in the headers.
        let mut e = crate::stream::Encoder::new(crate::formats::Format::Xz).unwrap();
        e.set_param(CODEC_PARAM_THREADS, 2).unwrap();
        e.set_param(CODEC_PARAM_XZ_BLOCK_SIZE, 1000).unwrap();
        e.set_param(CODEC_PARAM_XZ_DICT_SIZE, 4096).unwrap();
        let data: Vec<u8> = (0..3200u32).map(|j| (j * 31 % 253) as u8 ^ (j >> 6) as u8).collect();
        let mut z = vec![0u8; 1 << 16];
        let s = e.encode(&data, &mut z, Action::Finish);
        assert_eq!(s.result.unwrap(), Status::Ok);
        z.truncate(s.written);
        let mut d = XzDecoder::new(Kind::Xz);
        let mut out = vec![0u8; 8192];
        let mut seen = Vec::new();
        for b in &z {
            let s = d.decode(std::slice::from_ref(b), &mut out);
            s.result.unwrap();
            reload(&d).unwrap_or_else(|e| panic!("a real state at {:?}/{:?} is refused: {}", d.st, d.index.seq, e.msg));
            let mut bad: Vec<(&str, XzDecoder)> = Vec::new();
            let m = || d.clone();
            match (d.st, d.index.seq) {
                (St::BlockData, _) => {
                    let mut x = m();
                    x.header_size = 10;
                    bad.push(("unaligned header size", x));
                    if d.unc > 0 {
                        let mut x = m();
                        x.unc_decl = Some(d.unc - 1);
                        bad.push(("more data than declared", x));
                    }
                }
                (St::BlockPadding, _) => {
                    let mut x = m();
                    x.padding = (4 - d.comp % 4) % 4 + 1;
                    bad.push(("padding past a multiple of 4", x));
                }
                (St::BlockCheck, _) => {
                    let mut x = m();
                    x.comp_decl = Some(d.comp + 1);
                    bad.push(("finished block shorter than declared", x));
                }
                (St::Index, Ix::Unpadded | Ix::Uncompressed) => {
                    let mut x = m();
                    x.index.remaining += 1;
                    bad.push(("one record too many left", x));
                    let mut x = m();
                    x.index.size += 1;
                    bad.push(("index size", x));
                    if d.index.seq == Ix::Uncompressed {
                        // Found by `unmarshal`: the record sums overflowed adding this size.
                        let mut x = m();
                        x.index.unpadded = u64::MAX;
                        bad.push(("unpadded size beyond the largest", x));
                    }
                }
                (St::Index, Ix::Padding | Ix::Crc) => {
                    let mut x = m();
                    x.index.size += 4;
                    bad.push(("index size past its padding", x));
                }
                (St::StreamFooter, _) => {
                    let mut x = m();
                    x.index.size -= 4;
                    bad.push(("index size in the footer", x));
                    let mut x = m();
                    x.index.records = Sums::default();
                    bad.push(("index records that are not the blocks'", x));
                }
                _ => {}
            }
            for (what, x) in bad {
                assert!(reload(&x).is_err(), "{what} at {:?}/{:?} was accepted", x.st, x.index.seq);
            }
            seen.push((d.st, d.index.seq));
        }
        for want in [St::BlockData, St::BlockPadding, St::BlockCheck, St::StreamFooter] {
            assert!(seen.iter().any(|&(s, _)| s == want), "{want:?} was never reached");
        }
        for want in [Ix::Count, Ix::Unpadded, Ix::Uncompressed, Ix::Padding, Ix::Crc] {
            assert!(seen.contains(&(St::Index, want)), "index {want:?} was never reached");
        }
    }

    /// The index records the block count as a VLI, so a state never counts more blocks
    /// (a count near 2^64 overflowed numbering blocks for parallel decoding).
    #[test]
    fn block_count_is_a_vli() {
        let mut d = XzDecoder::new(Kind::Xz);
        d.st = St::BlockStart;
        d.blocks.count = VLI_MAX;
        reload(&d).expect("the largest count loads");
        d.blocks.count = VLI_MAX + 1;
        assert!(reload(&d).is_err());
    }

    /// Decode `c` with `threads` and `memlimit` in calls of 50,000 bytes of output; also the most
    /// blocks in flight (or being delivered) after a call, and the most bytes they held: their
    /// input and their output buffers, waited for.
    fn par_decode(c: &[u8], threads: i64, memlimit: u64) -> (Vec<u8>, usize, u64) {
        let mut d = XzDecoder::new(Kind::Xz);
        d.set_param(CODEC_PARAM_THREADS, threads).unwrap();
        d.memlimit = memlimit;
        let (mut out, mut buf, mut r) = (Vec::new(), vec![0u8; 50_000], 0);
        let (mut most, mut held) = (0, 0);
        loop {
            let s = d.decode(&c[r..], &mut buf);
            r += s.read;
            out.extend_from_slice(&buf[..s.written]);
            s.result.unwrap();
            let cur = d.par.cur.as_ref().map_or(0, |c| c.raw.len() + c.data.capacity());
            let inflight = d.par.inflight.iter().map(|b| {
                let o = pool::wait_front(b.task.clone(), std::iter::empty()).unwrap();
                b.raw.len() + o.data.capacity()
            });
            held = held.max((cur + inflight.sum::<usize>()) as u64);
            most = most.max(d.par.inflight.len() + d.par.cur.is_some() as usize);
            if r == c.len() && s.written == 0 {
                return (out, most, held);
            }
        }
    }

    /// The blocks decoded in parallel commit at most the memory limit: a block whose header
    /// declares more output than fits is decoded sequentially, never allocated for on the
    /// strength of its header; blocks that fit are in flight as far as the limit allows.
    #[test]
    fn parallel_blocks_fit_the_memory_limit() {
        // A stream header, then a block whose header declares 128 MiB and holds only the LZMA2
        // end marker.
        let mut s = XZ_MAGIC.to_vec();
        s.extend_from_slice(&[0, 0]);
        s.extend_from_slice(&crc32(&[0, 0]).to_le_bytes());
        let h = [3, 0xC0, 1, 0x80, 0x80, 0x80, 0x40, 0x21, 1, 0, 0, 0];
        s.extend_from_slice(&h);
        s.extend_from_slice(&crc32(&h).to_le_bytes());
        s.extend_from_slice(&[0, 0, 0, 0]);
        let mut out = vec![0u8; 1 << 16];
        let mut errs = Vec::new();
        for threads in [1, 2] {
            let mut d = XzDecoder::new(Kind::Xz);
            d.set_param(CODEC_PARAM_THREADS, threads).unwrap();
            d.memlimit = 1 << 20;
            let e = d.decode(&s, &mut out).result.unwrap_err();
            errs.push((e.kind, e.msg, e.at));
        }
        assert_eq!(errs[0].0, crate::error::ErrorKind::Corrupt);
        assert_eq!(errs[0], errs[1]);
        // At that block, nothing is submitted: the sequential code takes it.
        let mut d = XzDecoder::new(Kind::Xz);
        d.set_param(CODEC_PARAM_THREADS, 2).unwrap();
        d.memlimit = 1 << 20;
        assert!(d.decode(&s[..12], &mut out).result.is_ok() && d.st == St::BlockStart);
        let mut r = 0;
        d.par_gather(&s[12..], &mut r, 12);
        assert!(r == 0 && d.par.inflight.is_empty() && d.par.stop, "a 128 MiB block went in flight");

        // Blocks of 100,000 bytes (about 10,000 compressed): with a limit of 400,000 bytes, two
        // or three at a time; with the default limit, as many as the threads allow.
        let mut e = crate::stream::Encoder::new(crate::formats::Format::Xz).unwrap();
        e.set_param(CODEC_PARAM_THREADS, 2).unwrap();
        e.set_param(CODEC_PARAM_XZ_BLOCK_SIZE, 100_000).unwrap();
        e.set_param(CODEC_PARAM_XZ_DICT_SIZE, 4096).unwrap();
        let data: Vec<u8> =
            (0..1_000_000u32).map(|j| ((j / 7) % 13 * 19) as u8 ^ (j.wrapping_mul(2654435761) >> 29) as u8).collect();
        let mut z = vec![0u8; 2 << 20];
        let st = e.encode(&data, &mut z, crate::core::Action::Finish);
        assert_eq!(st.result.unwrap(), Status::Ok);
        z.truncate(st.written);
        assert!(z.len() < 500_000, "compressed to {}", z.len());
        let (o, most, held) = par_decode(&z, 2, 400_000);
        assert!(o == data && most >= 2 && held <= 400_000, "limit 400,000: {most} blocks, {held} bytes");
        let (o, most, _) = par_decode(&z, 2, DEFAULT_MEMLIMIT);
        assert!(o == data && most >= 4, "default limit: {most} blocks");
    }

    /// The thread count is written only when above 1; an explicit 1 would be a second
    /// encoding of the same state (its re-marshal would differ).
    #[test]
    fn an_explicit_single_thread_count_is_refused() {
        let d = XzDecoder::new(Kind::Xz);
        let mut w = StateWriter::new();
        d.marshal(&mut w).unwrap();
        let plain = w.into_inner();
        XzDecoder::unmarshal(&mut StateReader::new(&plain), None, None).expect("the plain state loads");
        for (t, ok) in [(1u16, false), (0, false), (2, true)] {
            let mut b = plain.clone();
            b.extend_from_slice(&t.to_le_bytes());
            let r = XzDecoder::unmarshal(&mut StateReader::new(&b), None, None);
            assert_eq!(r.is_ok(), ok, "threads {t}");
        }
    }
}
