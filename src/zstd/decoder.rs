//! zstd streaming decoder over `ZSTD_decompressStream` (buffered-output mode only).
//!
//! We track frame boundaries ourselves: at each frame edge the 4-byte magic is checked before
//! zstd sees it (legacy v0.x frames are refused: their decoder state cannot be marshalled),
//! and skippable frames are skipped here, so our state says exactly where the stream is.
//!
//! Exact progress on errors: when `ZSTD_decompressStream` delivers output and then fails in
//! the same call, it returns without reporting that output. So inside a frame we give zstd
//! one decoding step at a time (its own hint, minus the next block header it asks to
//! preload) after draining any output it still holds with an empty-input call: a failing
//! step then never shares a call with delivered output. A frame that is wholly in the input
//! and whose content fits the output takes zstd's single-pass path instead (no extra copy);
//! if that fails, the frame is decoded again step by step to report exactly.

use std::sync::Arc;

use super::sys::{DCtx, ZSTD_dParameter};
use super::{ddict_for, zstd_error, MAGIC, WINDOW_LOG_MAX_DEFAULT};
use crate::abi::*;
use crate::core::{DecoderCore, Status, Step};
use crate::dict::Dict;
use crate::error::{Error, Result};
use crate::formats::is_skippable_magic;
use crate::state::{StateReader, StateWriter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Between frames; `have` bytes of the next frame's start (magic, and for a skippable
    /// frame its size) are held in `head`.
    Edge { head: [u8; 8], have: u8 },
    /// Inside a skippable frame: bytes left to skip.
    Skipping(u64),
    /// Inside a zstd frame: zstd has the magic.
    Frame,
}

/// Bytes zstd needs to start a frame: magic and frame-header descriptor.
const FRAME_PREFIX: usize = 5;

const EDGE: Stage = Stage::Edge { head: [0; 8], have: 0 };

pub struct ZstdDecoder {
    dctx: DCtx,
    window_log_max: u32,
    dict: Option<Arc<Dict>>,
    dict_ready: bool,
    stage: Stage,
    /// zstd's last hint: input bytes that complete its current step (plus 3 when the step is
    /// a block body, for the next block header).
    hint: usize,
    /// zstd may hold decoded output not yet delivered (the last call filled the output).
    pending: bool,
}

fn magic_error(m: u32) -> Error {
    if (0xFD2F_B522..=0xFD2F_B527).contains(&m) || m == 0x1EB5_2FFD {
        Error::unsupported(format!(
            "legacy zstd frame (format v0.{}): not supported, since its decoder state cannot be saved",
            if m == 0x1EB5_2FFD { 1 } else { m - 0xFD2F_B520 }
        ))
    } else {
        Error::corrupt(format!("unknown frame magic {m:#010x}: not a zstd frame"))
    }
}

/// The window log limit a memory limit of `v` bytes (> 0) means for zstd: the largest power of
/// two within it, inside zstd's bounds.
pub(crate) fn window_log_for_memlimit(v: i64) -> u32 {
    let (lo, hi) = super::sys::d_bounds(ZSTD_dParameter::ZSTD_d_windowLogMax).unwrap_or((10, 31));
    let log = 63 - (v.max(1) as u64).leading_zeros();
    log.clamp(lo as u32, hi as u32)
}

impl ZstdDecoder {
    pub fn new() -> Result<Self> {
        let mut d = ZstdDecoder {
            dctx: DCtx::new().ok_or_else(|| Error::nomem("cannot allocate a zstd decompression context"))?,
            window_log_max: WINDOW_LOG_MAX_DEFAULT,
            dict: None,
            dict_ready: true,
            stage: EDGE,
            hint: FRAME_PREFIX,
            pending: false,
        };
        // Explicitly (zstd's implicit default is 2^27 + 1, the explicit one 2^27): a restored
        // decoder sets it the same way, and the saved state must agree.
        d.set_window_log_max(WINDOW_LOG_MAX_DEFAULT)?;
        Ok(d)
    }

    fn set_window_log_max(&mut self, wlm: u32) -> Result<()> {
        self.dctx
            .set_parameter(ZSTD_dParameter::ZSTD_d_windowLogMax, wlm as i32)
            .map_err(|e| zstd_error(e, "parameter"))?;
        self.window_log_max = wlm;
        Ok(())
    }

    fn prepare_dict(&mut self) -> Result<()> {
        if !self.dict_ready {
            let dd = match &self.dict {
                Some(d) => Some(ddict_for(d)?),
                None => None,
            };
            self.dctx.ref_ddict(dd).map_err(|e| zstd_error(e, "dictionary"))?;
            self.dict_ready = true;
        }
        Ok(())
    }

    /// Rebuild a decoder from `marshal`'s payload. `dict` has been checked by the caller to be
    /// the dictionary the state was made with. The window limit is the restoring caller's
    /// (`window_log_max`, or the default): the saved one is read but not trusted, and a state
    /// inside a frame whose window exceeds the limit fails with `MemLimit`.
    pub fn unmarshal(r: &mut StateReader<'_>, dict: Option<Arc<Dict>>, window_log_max: Option<u32>) -> Result<Self> {
        let mut d = ZstdDecoder::new()?;
        let stage = match r.u8_max("zstd stage", 2)? {
            0 => {
                let have = r.u8_max("zstd held magic length", 7)?;
                let mut head = [0u8; 8];
                head[..have as usize].copy_from_slice(r.raw("zstd held magic", have as usize)?);
                // Bytes after a whole magic are held only for a skippable frame's size field
                // (a zstd magic starts the frame, anything else is an error).
                if have >= 4 && !is_skippable_magic(u32::from_le_bytes(head[..4].try_into().unwrap())) {
                    return Err(Error::state("zstd held bytes follow a magic that is not a skippable frame's"));
                }
                Stage::Edge { head, have }
            }
            1 => Stage::Skipping(r.u64_in("zstd skippable bytes left", 1, u32::MAX as u64)?),
            _ => Stage::Frame,
        };
        let (lo, hi) = super::sys::d_bounds(ZSTD_dParameter::ZSTD_d_windowLogMax).unwrap_or((10, 31));
        r.u32_in("zstd window log max", lo as u32, hi as u32)?;
        d.set_window_log_max(window_log_max.unwrap_or(WINDOW_LOG_MAX_DEFAULT))?;
        d.hint = r.usize_max("zstd hint", 1 << 20)?;
        d.pending = r.bool("zstd pending output")?;
        d.dict = dict;
        d.dict_ready = d.dict.is_none();
        d.prepare_dict()?;
        if stage == Stage::Frame {
            super::shim::load(&mut d.dctx, r)?;
        }
        d.stage = stage;
        Ok(d)
    }

    /// Whole frame at `src[*read..]` and room for all its content: let zstd decode it in one
    /// pass, straight into `dst`. Returns false (zstd reset to the frame start, nothing
    /// consumed) when the frame does not qualify or fails; the caller then goes step by step.
    fn single_pass(&mut self, src: &[u8], dst: &mut [u8], read: &mut usize, written: &mut usize) -> bool {
        let rest = &src[*read..];
        let room = (dst.len() - *written) as u64;
        let fits = match super::sys::frame_header(rest) {
            Ok(Ok(h)) => {
                h.frameContentSize != zstd_sys::ZSTD_CONTENTSIZE_UNKNOWN as u64
                    && h.frameContentSize as u64 <= room
                    && h.windowSize as u64 <= 1u64 << self.window_log_max
                    // See `decompress_fast`: window-0 frames always go step by step.
                    && h.windowSize > 0
            }
            _ => false,
        };
        let size = match super::sys::find_frame_compressed_size(rest) {
            Ok(n) if fits && n <= rest.len() => n,
            _ => return false,
        };
        let p = self.dctx.decompress_stream(&rest[..size], &mut dst[*written..]);
        if p.ret == Ok(0) && p.read == size {
            *read += size;
            *written += p.written;
            return true;
        }
        self.dctx.reset_session();
        false
    }

    /// Note zstd's return value after a call inside a frame: an error, the frame's end, or
    /// the hint for the next step.
    fn note(&mut self, ret: Result<usize, super::sys::ZErr>, at: usize) -> Result<Option<Status>> {
        match ret {
            Err(e) => Err(zstd_error(e, "decompression").at(at as i64)),
            Ok(0) => {
                self.stage = EDGE;
                self.pending = false;
                Ok(Some(Status::FrameEnd))
            }
            Ok(h) => {
                self.hint = h;
                Ok(None)
            }
        }
    }

    /// Decode inside a zstd frame, one zstd step per call (see the module comment), until the
    /// frame ends, input runs out or output fills.
    ///
    /// A step is also given to zstd when the output is already full: with no room it delivers
    /// nothing, so an error there hides no output, and it lets zstd end a frame whose last
    /// byte exactly filled the output.
    fn frame(&mut self, src: &[u8], dst: &mut [u8], read: &mut usize, written: &mut usize) -> Result<Status> {
        loop {
            if self.pending && *written < dst.len() {
                let p = self.dctx.decompress_stream(&[], &mut dst[*written..]);
                *written += p.written;
                if let Some(st) = self.note(p.ret, *read)? {
                    return Ok(st);
                }
                self.pending = *written == dst.len();
            }
            let step = if self.dctx.next_input_is_block() { self.hint.saturating_sub(3) } else { self.hint };
            let n = step.max(1).min(src.len() - *read);
            if n == 0 {
                // Out of input: more output can only come from what zstd still holds.
                return Ok(if self.pending { Status::MoreOutput } else { Status::Ok });
            }
            if let Some(held) = super::shim::loading_header(&self.dctx) {
                check_header(held, &src[*read..*read + n]).map_err(|e| e.at(*read as i64))?;
            }
            let p = self.dctx.decompress_stream(&src[*read..*read + n], &mut dst[*written..]);
            *read += p.read;
            *written += p.written;
            if let Some(st) = self.note(p.ret, *read)? {
                return Ok(st);
            }
            let full = *written == dst.len();
            self.pending = full;
            if p.read == 0 && p.written == 0 {
                if full {
                    return Ok(Status::MoreOutput);
                }
                return Err(Error::internal("zstd decompression made no progress"));
            }
        }
    }

    fn run(&mut self, src: &[u8], dst: &mut [u8], read: &mut usize, written: &mut usize) -> Result<Status> {
        loop {
            match self.stage {
                Stage::Frame => return self.frame(src, dst, read, written),
                Stage::Skipping(left) => {
                    let n = left.min((src.len() - *read) as u64);
                    *read += n as usize;
                    if n < left {
                        self.stage = Stage::Skipping(left - n);
                        return Ok(Status::Ok);
                    }
                    self.stage = EDGE;
                }
                Stage::Edge { mut head, mut have } => {
                    let rest = &src[*read..];
                    // Common case: the whole magic is in this call's input; zstd reads it
                    // from there (which keeps its single-pass path available).
                    if have == 0 && rest.len() >= 4 {
                        let m = u32::from_le_bytes(rest[..4].try_into().unwrap());
                        if m == MAGIC {
                            if self.single_pass(src, dst, read, written) {
                                return Ok(Status::FrameEnd);
                            }
                            self.stage = Stage::Frame;
                            self.hint = FRAME_PREFIX;
                            self.pending = false;
                            continue;
                        }
                        if !is_skippable_magic(m) {
                            return Err(magic_error(m).at(*read as i64));
                        }
                    }
                    if rest.is_empty() {
                        return Ok(Status::Ok);
                    }
                    // Collect the magic (and a skippable frame's size) byte by byte.
                    let skippable = have >= 4 && is_skippable_magic(u32::from_le_bytes(head[..4].try_into().unwrap()));
                    let want = if skippable { 8 } else { 4 };
                    let n = (want - have as usize).min(rest.len());
                    head[have as usize..have as usize + n].copy_from_slice(&rest[..n]);
                    have += n as u8;
                    *read += n;
                    self.stage = Stage::Edge { head, have };
                    if (have as usize) < 4 {
                        continue;
                    }
                    let m = u32::from_le_bytes(head[..4].try_into().unwrap());
                    if m == MAGIC {
                        // Hand the held magic to zstd; with fewer bytes than any header it
                        // takes all four into its header buffer and produces nothing.
                        let p = self.dctx.decompress_stream(&head[..4], &mut []);
                        match p.ret {
                            Err(e) => return Err(zstd_error(e, "decompression").at(*read as i64)),
                            Ok(h) if p.read == 4 => self.hint = h,
                            Ok(_) => return Err(Error::internal("zstd did not accept the frame magic")),
                        }
                        self.pending = false;
                        self.stage = Stage::Frame;
                    } else if is_skippable_magic(m) {
                        if have == 8 {
                            let size = u32::from_le_bytes(head[4..8].try_into().unwrap());
                            self.stage = Stage::Skipping(size as u64);
                        }
                    } else {
                        return Err(magic_error(m).at(*read as i64 - 4));
                    }
                }
            }
        }
    }
}

/// Check the frame header that `held` (the bytes zstd has buffered) and `more` complete, if
/// they do. zstd checks a header completed by a call whose input starts after the magic only
/// after testing whether that input starts with a legacy (v0.x) magic, and if it does, it
/// quietly decodes the rest with its legacy decoder: an invalid header whose bytes happen to
/// look like a legacy magic would then be decoded or refused depending on how the input was
/// chunked. libcodec refuses legacy frames, so an invalid header fails here, always.
fn check_header(held: &[u8], more: &[u8]) -> Result<()> {
    const MAX: usize = zstd_sys::ZSTD_FRAMEHEADERSIZE_MAX as usize;
    let mut buf = [0u8; MAX];
    let a = held.len().min(MAX);
    buf[..a].copy_from_slice(&held[..a]);
    let b = (MAX - a).min(more.len());
    buf[a..a + b].copy_from_slice(&more[..b]);
    match super::sys::frame_header(&buf[..a + b]) {
        Err(e) => Err(zstd_error(e, "decompression")),
        Ok(_) => Ok(()),
    }
}

impl DecoderCore for ZstdDecoder {
    fn set_param(&mut self, p: codec_param, v: i64) -> Result<()> {
        match p {
            CODEC_PARAM_ZSTD_WINDOW_LOG_MAX => self.set_window_log_max(v as u32),
            CODEC_PARAM_MEMLIMIT => self.set_window_log_max(window_log_for_memlimit(v)),
            _ => Err(Error::unsupported("not a zstd decoder parameter")),
        }
    }

    fn set_dict(&mut self, d: Option<Arc<Dict>>) -> Result<()> {
        self.dict = d;
        self.dict_ready = false;
        Ok(())
    }

    fn decode(&mut self, src: &[u8], dst: &mut [u8]) -> Step {
        if let Err(e) = self.prepare_dict() {
            return Step::err(0, 0, e);
        }
        let (mut read, mut written) = (0, 0);
        match self.run(src, dst, &mut read, &mut written) {
            Ok(st) => Step::ok(read, written, st),
            Err(e) => Step::err(read, written, e),
        }
    }

    fn at_frame_edge(&self) -> bool {
        matches!(self.stage, Stage::Edge { have: 0, .. })
    }

    fn reset(&mut self) {
        self.dctx.reset_session();
        self.stage = EDGE;
        self.hint = FRAME_PREFIX;
        self.pending = false;
    }

    fn try_clone(&self) -> Result<Box<dyn DecoderCore>> {
        // One code path for clone and restore: save, then load into a new context that shares
        // the (immutable) dictionary.
        let mut w = StateWriter::new();
        self.marshal(&mut w)?;
        let bytes = w.into_inner();
        let mut r = StateReader::new(&bytes);
        let copy = ZstdDecoder::unmarshal(&mut r, self.dict.clone(), Some(self.window_log_max))?;
        r.finish()?;
        Ok(Box::new(copy))
    }

    fn marshal(&self, w: &mut StateWriter) -> Result<()> {
        match self.stage {
            Stage::Edge { head, have } => {
                w.u8(0);
                w.u8(have);
                w.raw(&head[..have as usize]);
            }
            Stage::Skipping(left) => {
                w.u8(1);
                w.u64(left);
            }
            Stage::Frame => w.u8(2),
        }
        w.u32(self.window_log_max);
        w.usize(self.hint);
        w.bool(self.pending);
        if self.stage == Stage::Frame {
            super::shim::save(&self.dctx, w)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reload(d: &ZstdDecoder) -> Result<ZstdDecoder> {
        crate::state::reload(|w| d.marshal(w).unwrap(), |r| ZstdDecoder::unmarshal(r, None, None))
    }

    /// Bytes after a whole magic are held only for a skippable frame's size field (with any
    /// other magic, the next byte underflowed the count of bytes still wanted).
    #[test]
    fn held_bytes_after_a_magic_need_a_skippable_magic() {
        let mut d = ZstdDecoder::new().unwrap();
        let s = d.decode(&[0x50, 0x2A, 0x4D, 0x18, 3], &mut []);
        assert_eq!((s.read, s.result.unwrap()), (5, Status::Ok));
        assert!(matches!(d.stage, Stage::Edge { have: 5, .. }));
        reload(&d).expect("the real state loads");
        for magic in [MAGIC, 0x1234_5678] {
            let Stage::Edge { mut head, have } = d.stage else { unreachable!() };
            head[..4].copy_from_slice(&magic.to_le_bytes());
            let mut x = ZstdDecoder::new().unwrap();
            x.stage = Stage::Edge { head, have };
            assert!(reload(&x).is_err(), "held bytes after magic {magic:#x}");
        }
    }
}
