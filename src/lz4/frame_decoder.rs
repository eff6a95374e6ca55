//! LZ4 frame decoder written in Rust: the frame format is parsed here and block bodies are
//! decoded with the stateless `LZ4_decompress_safe_usingDict` (uncompressed blocks are
//! copied), so the whole state is plain data that clones and marshals between any two calls.
//!
//! State: the stage and the bytes of a partly received field (magic, descriptor, block size,
//! checksum); the frame descriptor; the content XXH32 state; ≤ 64 KiB of history (linked
//! blocks only); a partly received block (compressed bytes plus its checksum); decoded output
//! not yet delivered (at most one block).
//!
//! A block is decoded once it has fully arrived (with its checksum, which is verified first):
//! straight into `dst` when `dst` has room for a whole block, otherwise into an internal
//! buffer that the following calls drain.

use std::sync::Arc;

use super::sys::{self, Xxh32State};
use super::window::{self, History, WINDOW};
use super::{header_len, FrameDesc, LEGACY_MAGIC, MAGIC};
use crate::abi::*;
use crate::core::{DecoderCore, Status, Step};
use crate::dict::Dict;
use crate::error::{try_alloc_zeroed, Error, Result};
use crate::formats::is_skippable_magic;
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
        }
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
                Stage::BlockSize => {
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
                if !s.is_plausible() {
                    return Err(Error::state("lz4 content checksum state is inconsistent"));
                }
                d.xxh = s;
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
                d.out = try_alloc_zeroed(block_max, "an LZ4 output block")?;
                d.out[..pending.len()].copy_from_slice(pending);
                d.out_len = pending.len();
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
    fn set_param(&mut self, _p: codec_param, _v: i64) -> Result<()> {
        Err(Error::unsupported("the LZ4 frame decoder has no parameters"))
    }

    fn set_dict(&mut self, d: Option<Arc<Dict>>) -> Result<()> {
        self.dict = d;
        Ok(())
    }

    fn decode(&mut self, src: &[u8], dst: &mut [u8]) -> Step {
        let (mut r, mut w, mut run) = (0, 0, 0);
        let res = self.run(src, dst, &mut r, &mut w, &mut run);
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
        *self = Lz4FrameDecoder::new();
        self.dict = dict;
    }

    fn try_clone(&self) -> Result<Box<dyn DecoderCore>> {
        let pending = &self.out[self.out_pos..self.out_len];
        let mut out = Vec::new();
        if !pending.is_empty() {
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
            out_pos: 0,
            out_len: pending.len(),
        }))
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
        Ok(())
    }
}
