//! LZ4 block streaming (`CODEC_FORMAT_LZ4_BLOCKS`), wire-compatible with python-lz4's
//! `lz4.stream`: raw LZ4 blocks compressed with history across blocks (the previous 64 KiB,
//! initially the dictionary's tail), each preceded by its compressed length in 0, 1, 2 or 4
//! little-endian bytes. There is no header, end mark or checksum.
//!
//! Encoder: input fills a page (`CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE`); a full page is emitted as
//! one block, FLUSH emits the partial page as a block (nothing when nothing is pending), and
//! FINISH is FLUSH plus a history reset: the next block references nothing before it (not
//! even the dictionary), so any decoder that has seen the earlier blocks still decodes it.
//!
//! Decoder: with width 0 (sizes kept out of band) every non-empty `decode` call's whole input
//! is exactly one block.

use std::sync::Arc;

use super::sys::{self, BlockStream};
use super::window::{self, History, WINDOW};
use super::{decoded_max, PAGE_SIZE_DEFAULT};
use crate::abi::*;
use crate::core::{Action, DecoderCore, EncoderCore, Status, Step};
use crate::dict::Dict;
use crate::error::{try_alloc_zeroed, Error, Result};
use crate::state::{StateReader, StateWriter};

/// Largest block length a prefix of `width` bytes can carry.
fn width_max(width: u8) -> u64 {
    match width {
        0 | 4 => u32::MAX as u64,
        w => (1u64 << (8 * w)) - 1,
    }
}

fn check_width(v: i64) -> Result<u8> {
    match v {
        0 | 1 | 2 | 4 => Ok(v as u8),
        _ => Err(Error::invalid(format!(
            "CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH = {v}: the prefix width must be 0, 1, 2 or 4"
        ))),
    }
}

pub struct Lz4BlocksEncoder {
    page: usize,
    width: u8,
    acceleration: i32,
    hc_level: i32,
    dict: Option<Arc<Dict>>,
    stream: Option<BlockStream>,
    /// Restart the stream before the next input byte.
    need_restart: bool,
    /// ... with the dictionary as history (false after a FINISH).
    restart_with_dict: bool,
    /// Input was taken since the last restart.
    dirty: bool,
    staged: Vec<u8>,
    staged_pos: usize,
}

impl Lz4BlocksEncoder {
    pub fn new() -> Self {
        Lz4BlocksEncoder {
            page: PAGE_SIZE_DEFAULT,
            width: 4,
            acceleration: 1,
            hc_level: 0,
            dict: None,
            stream: None,
            need_restart: true,
            restart_with_dict: true,
            dirty: false,
            staged: Vec::new(),
            staged_pos: 0,
        }
    }

    fn drain(&mut self, dst: &mut [u8], w: &mut usize) -> bool {
        let n = (self.staged.len() - self.staged_pos).min(dst.len() - *w);
        dst[*w..*w + n].copy_from_slice(&self.staged[self.staged_pos..self.staged_pos + n]);
        self.staged_pos += n;
        *w += n;
        if self.staged_pos == self.staged.len() {
            self.staged.clear();
            self.staged_pos = 0;
            true
        } else {
            false
        }
    }

    fn stream(&mut self) -> Result<&mut BlockStream> {
        if self.stream.is_none() {
            let bound = sys::compress_bound(self.page) as u64;
            if bound > width_max(self.width) {
                return Err(Error::invalid(format!(
                    "LZ4 blocks: a page of {} bytes can compress to {bound} bytes, which a {}-byte length prefix cannot hold; use a smaller page or a wider prefix",
                    self.page, self.width
                )));
            }
            let room = self.page.max(256 << 10);
            self.stream = Some(
                BlockStream::new(self.hc_level, self.acceleration, self.page, room)
                    .ok_or_else(|| Error::nomem("cannot allocate an LZ4 block stream"))?,
            );
        }
        Ok(self.stream.as_mut().unwrap())
    }

    /// Compress the pending page into one block (prefix + data): straight into `dst` when it
    /// fits, else staged.
    fn emit_block(&mut self, dst: &mut [u8], w: &mut usize) -> Result<()> {
        let width = self.width as usize;
        let stream = self.stream.as_mut().expect("stream exists");
        let need = width + sys::compress_bound(stream.pending());
        let staged = dst.len() - *w < need;
        let out: &mut [u8] = if staged {
            self.staged.clear();
            self.staged.try_reserve_exact(need).map_err(|_| Error::nomem("cannot stage an LZ4 block"))?;
            self.staged.resize(need, 0);
            &mut self.staged
        } else {
            &mut dst[*w..*w + need]
        };
        let n = match stream.compress(&mut out[width..]) {
            Some(n) => n,
            None => {
                self.need_restart = true;
                self.staged.clear();
                return Err(Error::internal("LZ4 block compression failed"));
            }
        };
        out[..width].copy_from_slice(&(n as u32).to_le_bytes()[..width]);
        if staged {
            self.staged.truncate(width + n);
            self.drain(dst, w);
        } else {
            *w += width + n;
        }
        Ok(())
    }

    fn run(&mut self, src: &[u8], dst: &mut [u8], action: Action, r: &mut usize, w: &mut usize) -> Result<Status> {
        if !self.drain(dst, w) {
            return Ok(Status::MoreOutput);
        }
        let page = self.page;
        self.stream()?;
        while *r < src.len() {
            if self.need_restart {
                let dict = if self.restart_with_dict { self.dict.clone() } else { None };
                let tail = dict.as_ref().map_or(&[][..], |d| d.content_tail(WINDOW));
                self.stream()?.restart(tail);
                self.need_restart = false;
                self.dirty = false;
            }
            self.dirty = true;
            let stream = self.stream()?;
            *r += stream.append(&src[*r..]);
            if stream.pending() == page {
                self.emit_block(dst, w)?;
                if !self.staged.is_empty() {
                    return Ok(Status::MoreOutput);
                }
            }
        }
        if action != Action::Continue {
            if self.stream()?.pending() > 0 {
                self.emit_block(dst, w)?;
            }
            if action == Action::Finish && self.dirty {
                self.dirty = false;
                self.need_restart = true;
                self.restart_with_dict = false;
            }
            if !self.staged.is_empty() {
                return Ok(Status::MoreOutput);
            }
        }
        Ok(Status::Ok)
    }
}

impl Default for Lz4BlocksEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl EncoderCore for Lz4BlocksEncoder {
    fn set_param(&mut self, p: codec_param, v: i64) -> Result<()> {
        match p {
            CODEC_PARAM_LEVEL => match v {
                l if l < 0 => {
                    self.hc_level = 0;
                    self.acceleration = (-l) as i32;
                }
                0..=2 => {
                    self.hc_level = 0;
                    self.acceleration = 1;
                }
                l => self.hc_level = l as i32,
            },
            CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE => self.page = v as usize,
            CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH => self.width = check_width(v)?,
            CODEC_PARAM_LZ4BLOCKS_ACCELERATION => self.acceleration = v as i32,
            CODEC_PARAM_LZ4BLOCKS_HC_LEVEL => self.hc_level = v as i32,
            _ => return Err(Error::unsupported("not an LZ4 blocks encoder parameter")),
        }
        // The stream is built for the parameters in force at the first byte.
        self.stream = None;
        self.need_restart = true;
        Ok(())
    }

    fn set_dict(&mut self, d: Option<Arc<Dict>>) -> Result<()> {
        self.dict = d;
        self.need_restart = true;
        self.restart_with_dict = true;
        Ok(())
    }

    fn set_pledged_size(&mut self, _size: u64) -> Result<()> {
        Err(Error::unsupported("LZ4 block streams do not record a content size"))
    }

    fn encode(&mut self, src: &[u8], dst: &mut [u8], action: Action) -> Step {
        let (mut r, mut w) = (0, 0);
        match self.run(src, dst, action, &mut r, &mut w) {
            Ok(st) => Step::ok(r, w, st),
            Err(e) => Step::err(r, w, e),
        }
    }

    fn reset(&mut self) {
        self.need_restart = true;
        self.restart_with_dict = true;
        self.staged.clear();
        self.staged_pos = 0;
    }
}

pub struct Lz4BlocksDecoder {
    page: usize,
    width: u8,
    dict: Option<Arc<Dict>>,
    /// Bytes of a partly received length prefix.
    field: [u8; 4],
    have: u8,
    /// Length of the block being received (0 = between blocks).
    block_len: u32,
    cbuf: Vec<u8>,
    hist: History,
    out: Vec<u8>,
    out_pos: usize,
    out_len: usize,
}

impl Lz4BlocksDecoder {
    pub fn new() -> Self {
        Lz4BlocksDecoder {
            page: PAGE_SIZE_DEFAULT,
            width: 4,
            dict: None,
            field: [0; 4],
            have: 0,
            block_len: 0,
            cbuf: Vec::new(),
            hist: History::default(),
            out: Vec::new(),
            out_pos: 0,
            out_len: 0,
        }
    }

    fn max_block(&self) -> usize {
        sys::compress_bound(self.page)
    }

    /// Decode one complete block.
    fn decode_block(
        &mut self,
        data: &[u8],
        dst: &mut [u8],
        w: &mut usize,
        run: &mut usize,
        dict: &Option<Arc<Dict>>,
        at: i64,
    ) -> Result<()> {
        let tail = dict.as_ref().map_or(&[][..], |d| d.content_tail(WINDOW));
        let cap = self.page.min(decoded_max(data.len()));
        let corrupt = || {
            Error::corrupt(format!(
                "corrupt LZ4 block ({} bytes), or it decodes to more than the page size {}",
                data.len(),
                self.page
            ))
            .at(at)
        };
        if dst.len() - *w >= cap {
            let n = window::decode_linked_direct(data, dst, *w, cap, run, &mut self.hist, tail).ok_or_else(corrupt)?;
            *w += n;
            return Ok(());
        }
        window::save_run(dst, *w, run, &mut self.hist, tail);
        if self.out.len() < cap {
            self.out = try_alloc_zeroed(cap, "an LZ4 output block")?;
        }
        let n = sys::decompress_with_dict(data, &mut self.out[..cap], self.hist.get(tail)).ok_or_else(corrupt)?;
        let out = std::mem::take(&mut self.out);
        self.hist.push(&out[..n], tail);
        self.out = out;
        self.out_pos = 0;
        self.out_len = n;
        Ok(())
    }

    fn check_len(&self, len: u64, at: i64) -> Result<()> {
        if len == 0 {
            return Err(Error::corrupt("zero-length LZ4 block (an empty block is the 1-byte block 0x00)").at(at));
        }
        if len > self.max_block() as u64 {
            return Err(Error::corrupt(format!(
                "LZ4 block of {len} bytes is longer than any block of a {}-byte page can be ({})",
                self.page,
                self.max_block()
            ))
            .at(at));
        }
        Ok(())
    }

    fn run(&mut self, src: &[u8], dst: &mut [u8], r: &mut usize, w: &mut usize, run: &mut usize) -> Result<Status> {
        let dict = self.dict.clone();
        let width = self.width as usize;
        loop {
            if self.out_pos < self.out_len {
                let n = (self.out_len - self.out_pos).min(dst.len() - *w);
                dst[*w..*w + n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                *w += n;
                *run = *w;
                if self.out_pos < self.out_len {
                    return Ok(Status::MoreOutput);
                }
            }
            if *r == src.len() {
                return Ok(Status::Ok);
            }
            if width == 0 {
                // Sizes out of band: this call's whole input is one block.
                self.check_len(src.len() as u64, 0)?;
                *r = src.len();
                self.decode_block(src, dst, w, run, &dict, 0)?;
                continue;
            }
            if self.block_len == 0 {
                let have = self.have as usize;
                let k = (width - have).min(src.len() - *r);
                self.field[have..have + k].copy_from_slice(&src[*r..*r + k]);
                *r += k;
                self.have += k as u8;
                if (self.have as usize) < width {
                    return Ok(Status::Ok);
                }
                self.have = 0;
                let mut le = [0u8; 4];
                le[..width].copy_from_slice(&self.field[..width]);
                let len = u32::from_le_bytes(le);
                self.check_len(len as u64, *r as i64 - width as i64)?;
                self.block_len = len;
                self.cbuf.clear();
            }
            let need = self.block_len as usize;
            let at = *r as i64 - (self.cbuf.len() + width) as i64;
            let avail = src.len() - *r;
            if self.cbuf.is_empty() && avail >= need {
                *r += need;
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
                let cbuf = std::mem::take(&mut self.cbuf);
                let res = self.decode_block(&cbuf, dst, w, run, &dict, at);
                self.cbuf = cbuf;
                self.cbuf.clear();
                res?;
            }
            self.block_len = 0;
        }
    }

    pub fn unmarshal(rd: &mut StateReader<'_>, dict: Option<Arc<Dict>>) -> Result<Self> {
        let mut d = Lz4BlocksDecoder::new();
        d.page = rd.u64_in("lz4blocks page size", 1, sys::MAX_INPUT_SIZE as u64)? as usize;
        d.width = check_width(rd.u8("lz4blocks prefix width")? as i64).map_err(|e| Error::state(e.msg))?;
        d.have = rd.u8_max("lz4blocks prefix bytes", d.width.saturating_sub(1))?;
        d.field[..d.have as usize].copy_from_slice(rd.raw("lz4blocks prefix", d.have as usize)?);
        d.block_len = rd.u32("lz4blocks block length")?;
        if d.block_len != 0 {
            // A length its prefix width can express (a 1-byte prefix says at most 255).
            if d.width == 0
                || d.have != 0
                || d.block_len as usize > d.max_block()
                || d.block_len as u64 > width_max(d.width)
            {
                return Err(Error::state("lz4blocks block length is not valid here"));
            }
            d.cbuf = rd.bytes("lz4blocks partial block", d.block_len as usize - 1)?.to_vec();
        }
        let is_dict = rd.bool("lz4blocks history is the dictionary")?;
        if is_dict && dict.is_none() {
            return Err(Error::state("lz4blocks history refers to a missing dictionary"));
        }
        let own = rd.bytes("lz4blocks history", if is_dict { 0 } else { WINDOW })?;
        d.hist = History::restore(is_dict, own);
        let pending = rd.bytes("lz4blocks pending output", d.page)?;
        if !pending.is_empty() {
            if d.block_len != 0 || d.have != 0 {
                return Err(Error::state("lz4blocks pending output inside a block"));
            }
            if !d.hist.ends_with(pending) {
                return Err(Error::state("lz4blocks pending output is not the end of the history"));
            }
            d.out = pending.to_vec();
            d.out_len = pending.len();
        }
        d.dict = dict;
        Ok(d)
    }
}

impl Default for Lz4BlocksDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl DecoderCore for Lz4BlocksDecoder {
    fn set_param(&mut self, p: codec_param, v: i64) -> Result<()> {
        match p {
            CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE => self.page = v as usize,
            CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH => self.width = check_width(v)?,
            _ => return Err(Error::unsupported("not an LZ4 blocks decoder parameter")),
        }
        Ok(())
    }

    fn set_dict(&mut self, d: Option<Arc<Dict>>) -> Result<()> {
        self.hist.start(d.is_some());
        self.dict = d;
        Ok(())
    }

    fn decode(&mut self, src: &[u8], dst: &mut [u8]) -> Step {
        let (mut r, mut w, mut run) = (0, 0, 0);
        let res = self.run(src, dst, &mut r, &mut w, &mut run);
        let tail = self.dict.as_ref().map_or(&[][..], |d| d.content_tail(WINDOW));
        window::save_run(dst, w, &mut run, &mut self.hist, tail);
        match res {
            Ok(st) => Step::ok(r, w, st),
            Err(e) => Step::err(r, w, e),
        }
    }

    fn at_frame_edge(&self) -> bool {
        self.have == 0 && self.block_len == 0 && self.out_pos == self.out_len
    }

    fn reset(&mut self) {
        let (page, width, dict) = (self.page, self.width, self.dict.take());
        *self = Lz4BlocksDecoder::new();
        self.page = page;
        self.width = width;
        self.hist.start(dict.is_some());
        self.dict = dict;
    }

    fn try_clone(&self) -> Result<Box<dyn DecoderCore>> {
        let pending = &self.out[self.out_pos..self.out_len];
        Ok(Box::new(Lz4BlocksDecoder {
            page: self.page,
            width: self.width,
            dict: self.dict.clone(),
            field: self.field,
            have: self.have,
            block_len: self.block_len,
            cbuf: self.cbuf.clone(),
            hist: self.hist.clone(),
            out: pending.to_vec(),
            out_pos: 0,
            out_len: pending.len(),
        }))
    }

    fn marshal(&self, wr: &mut StateWriter) -> Result<()> {
        wr.u64(self.page as u64);
        wr.u8(self.width);
        wr.u8(self.have);
        wr.raw(&self.field[..self.have as usize]);
        wr.u32(self.block_len);
        if self.block_len != 0 {
            wr.bytes(&self.cbuf);
        }
        wr.bool(self.hist.is_dict());
        wr.bytes(self.hist.own());
        wr.bytes(&self.out[self.out_pos..self.out_len]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A partial block whose length its prefix could not have said is refused.
    #[test]
    fn block_length_must_fit_the_prefix_width() {
        let mut d = Lz4BlocksDecoder::new();
        d.set_param(CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH, 1).unwrap();
        // a 1-byte prefix announcing 200 bytes, then 10 of them
        let mut src = vec![200u8];
        src.extend_from_slice(&[0u8; 10]);
        let s = d.decode(&src, &mut [0u8; 64]);
        assert_eq!(s.read, 11);
        let reload = |d: &Lz4BlocksDecoder| {
            crate::state::reload(|w| d.marshal(w).unwrap(), |r| Lz4BlocksDecoder::unmarshal(r, None))
        };
        assert!(reload(&d).is_ok());
        d.block_len = 300;
        assert!(reload(&d).is_err());
    }

    /// Output decoded but not yet delivered is the end of the history.
    #[test]
    fn pending_output_must_end_the_history() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 13 % 241) as u8).collect();
        let mut e = crate::stream::Encoder::new(crate::formats::Format::Lz4Blocks).unwrap();
        let mut z = vec![0u8; 8192];
        let s = e.encode(&data, &mut z, crate::core::Action::Flush);
        s.result.unwrap();
        z.truncate(s.written);
        let mut d = Lz4BlocksDecoder::new();
        let s = d.decode(&z, &mut [0u8; 100]);
        assert_eq!(s.written, 100);
        assert!(d.out_len - d.out_pos > 0, "output is pending");
        let reload = |d: &Lz4BlocksDecoder| {
            crate::state::reload(|w| d.marshal(w).unwrap(), |r| Lz4BlocksDecoder::unmarshal(r, None))
        };
        reload(&d).expect("the real state reloads");
        d.out[d.out_pos] ^= 1;
        assert!(reload(&d).is_err(), "pending output that differs from the history");
    }
}
