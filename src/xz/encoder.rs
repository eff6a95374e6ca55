//! Encoders for .xz, raw LZMA2 and .lzma over liblzma.
//!
//! liblzma's flush/finish protocol: once `LZMA_SYNC_FLUSH` or `LZMA_FINISH` has been started,
//! every following `lzma_code` call must repeat the same action with the same `avail_in` until
//! `LZMA_STREAM_END`. Our contract ("MoreOutput: call again with the same action and the rest
//! of the input") maps onto that exactly; we remember the action and the input still owed so a
//! caller who deviates gets `Sequence` instead of a liblzma programming error that would leave
//! the stream unusable.

use std::sync::Arc;

use super::sys::{self, LzAction, LzmaOpts, PreFilter, Stream};
use crate::abi::*;
use crate::core::{Action, EncoderCore, Status, Step};
use crate::dict::Dict;
use crate::error::{Error, Result};
use crate::formats::Format;

pub struct XzEncoder {
    format: Format,
    opts: LzmaOpts,
    check: u32,
    delta: u32,
    bcj: bool,
    threads: u32,
    block_size: u64,
    dict: Option<Arc<Dict>>,
    strm: Option<Stream>,
    /// A flush / finish in progress: the action and the input bytes it still owns.
    pending: Option<(Action, usize)>,
    /// Pledged content size of the current frame, and bytes consumed in it.
    pledged: Option<u64>,
    frame_in: u64,
}

fn lz_error(ret: sys::lzma_ret, doing: &str) -> Error {
    match ret {
        sys::LZMA_MEM_ERROR => Error::nomem(format!("liblzma {doing}: out of memory")),
        sys::LZMA_OPTIONS_ERROR => Error::invalid(format!(
            "liblzma {doing}: unsupported options (check the LZMA parameters: lc + lp <= 4, a valid match finder and nice length, a dictionary size liblzma accepts)"
        )),
        sys::LZMA_MEMLIMIT_ERROR => Error::memlimit(format!("liblzma {doing}: memory limit")),
        r => Error::internal(format!("liblzma {doing} failed with code {r}")),
    }
}

impl XzEncoder {
    pub fn new(format: Format) -> Result<Self> {
        Ok(XzEncoder {
            format,
            opts: LzmaOpts { preset: 6, ..Default::default() },
            check: CODEC_CHECK_CRC64 as u32,
            delta: 0,
            bcj: false,
            threads: 1,
            block_size: 0,
            dict: None,
            strm: None,
            pending: None,
            pledged: None,
            frame_in: 0,
        })
    }

    fn pre_filters(&self) -> Vec<PreFilter> {
        let mut v = Vec::new();
        if self.bcj {
            v.push(PreFilter::X86);
        }
        if self.delta > 0 {
            v.push(PreFilter::Delta(self.delta));
        }
        v
    }

    /// Why FLUSH cannot be honoured here, if it cannot.
    fn flush_unsupported(&self) -> Option<&'static str> {
        match self.format {
            Format::LzmaAlone => Some(".lzma (LZMA1) cannot sync-flush"),
            _ if self.bcj => Some("sync flush is not possible with the x86 BCJ filter"),
            Format::Xz if self.threads > 1 => Some("the multithreaded xz encoder cannot sync-flush (use threads = 1)"),
            _ => None,
        }
    }

    fn start(&mut self) -> Result<()> {
        let o = &self.opts;
        let lc = o.lc.unwrap_or(3);
        let lp = o.lp.unwrap_or(0);
        if (o.lc.is_some() || o.lp.is_some()) && lc + lp > 4 {
            return Err(Error::invalid(format!(
                "CODEC_PARAM_XZ_LC + CODEC_PARAM_XZ_LP must be <= 4 (got {lc} + {lp})"
            )));
        }
        let pre = self.pre_filters();
        let s = match self.format {
            Format::Xz if self.threads > 1 => {
                sys::stream_encoder_mt(&pre, o, self.check, self.threads, self.block_size)
            }
            Format::Xz => sys::stream_encoder(&pre, o, self.check),
            Format::Lzma2Raw => sys::raw_encoder(&pre, o, self.dict.as_ref().map(|d| d.content())),
            _ => sys::alone_encoder(o),
        }
        .map_err(|r| lz_error(r, "encoder initialisation"))?;
        self.strm = Some(s);
        Ok(())
    }
}

impl EncoderCore for XzEncoder {
    fn set_param(&mut self, p: codec_param, v: i64) -> Result<()> {
        let u = v as u32;
        match p {
            CODEC_PARAM_LEVEL | CODEC_PARAM_XZ_PRESET => self.opts.preset = u,
            CODEC_PARAM_XZ_EXTREME => self.opts.extreme = v != 0,
            CODEC_PARAM_CHECKSUM | CODEC_PARAM_XZ_CHECK => {
                if ![0, 1, 4, 10].contains(&v) {
                    return Err(Error::invalid(format!(
                        "xz check {v} is not one of CODEC_CHECK_NONE (0), CRC32 (1), CRC64 (4), SHA256 (10)"
                    )));
                }
                self.check = u
            }
            CODEC_PARAM_XZ_DICT_SIZE => self.opts.dict_size = Some(u),
            CODEC_PARAM_XZ_LC => self.opts.lc = Some(u),
            CODEC_PARAM_XZ_LP => self.opts.lp = Some(u),
            CODEC_PARAM_XZ_PB => self.opts.pb = Some(u),
            CODEC_PARAM_XZ_MODE => self.opts.mode = Some(u),
            CODEC_PARAM_XZ_MATCH_FINDER => {
                if ![0x03, 0x04, 0x12, 0x13, 0x14].contains(&v) {
                    return Err(Error::invalid(format!(
                        "match finder {v:#x} is not one of 0x03 (hc3), 0x04 (hc4), 0x12 (bt2), 0x13 (bt3), 0x14 (bt4)"
                    )));
                }
                self.opts.mf = Some(u)
            }
            CODEC_PARAM_XZ_NICE_LEN => self.opts.nice_len = Some(u),
            CODEC_PARAM_XZ_DEPTH => self.opts.depth = Some(u),
            CODEC_PARAM_XZ_DELTA_DIST => self.delta = u,
            CODEC_PARAM_XZ_BCJ_X86 => self.bcj = v != 0,
            CODEC_PARAM_THREADS => self.threads = u.max(1),
            CODEC_PARAM_XZ_BLOCK_SIZE => self.block_size = v as u64,
            _ => return Err(Error::unsupported("not an xz encoder parameter")),
        }
        // Parameters apply to the next stream.
        self.strm = None;
        Ok(())
    }

    fn set_dict(&mut self, d: Option<Arc<Dict>>) -> Result<()> {
        if d.is_some() && self.format != Format::Lzma2Raw {
            return Err(Error::unsupported(
                "xz and .lzma cannot carry a preset dictionary (use CODEC_FORMAT_LZMA2_RAW)",
            ));
        }
        self.dict = d;
        self.strm = None;
        Ok(())
    }

    /// liblzma's streaming encoders cannot record the size (xz block headers, the .lzma
    /// header and raw LZMA2 have no place for it when streaming), so the pledge is not
    /// written; it is enforced: more input than pledged, or a FINISH short of it, fails with
    /// `Invalid`.
    fn set_pledged_size(&mut self, size: u64) -> Result<()> {
        self.pledged = Some(size);
        Ok(())
    }

    fn encode(&mut self, src: &[u8], dst: &mut [u8], action: Action) -> Step {
        // A flush / finish in progress must be continued with the same action and input.
        let mut src = src;
        if let Some((a, owed)) = self.pending {
            if a != action {
                return Step::err(
                    0,
                    0,
                    Error::sequence(format!(
                        "a {} is in progress: call again with the same action until it returns CODEC_OK",
                        if a == Action::Flush { "FLUSH" } else { "FINISH" }
                    )),
                );
            }
            if src.len() < owed {
                return Step::err(
                    0,
                    0,
                    Error::sequence("a flush / finish is in progress: pass the rest of the input given to it"),
                );
            }
            src = &src[..owed];
        }
        if action == Action::Flush {
            if let Some(why) = self.flush_unsupported() {
                return Step::err(0, 0, Error::unsupported(why));
            }
        }
        if let Some(p) = self.pledged {
            let after = self.frame_in + src.len() as u64;
            if after > p || (action == Action::Finish && after != p && self.pending.is_none()) {
                return Step::err(
                    0,
                    0,
                    Error::invalid(format!(
                        "the stream's content ({after} bytes so far) does not match the pledged size {p}"
                    )),
                );
            }
        }
        if action == Action::Continue && src.is_empty() {
            return Step::ok(0, 0, Status::Ok);
        }
        if dst.is_empty() {
            return Step::ok(0, 0, Status::MoreOutput);
        }
        if self.strm.is_none() {
            if let Err(e) = self.start() {
                return Step::err(0, 0, e);
            }
        }
        let la = match action {
            Action::Continue => LzAction::Run,
            Action::Flush => LzAction::SyncFlush,
            Action::Finish => LzAction::Finish,
        };
        let strm = self.strm.as_mut().expect("stream started");
        let (mut read, mut written) = (0, 0);
        loop {
            let p = strm.code(&src[read..], &mut dst[written..], la);
            read += p.read;
            written += p.written;
            self.frame_in += p.read as u64;
            match p.ret {
                sys::LZMA_STREAM_END if action != Action::Continue => {
                    self.pending = None;
                    if action == Action::Finish {
                        self.strm = None;
                        self.pledged = None;
                        self.frame_in = 0;
                    }
                    return Step::ok(read, written, Status::Ok);
                }
                sys::LZMA_OK | sys::LZMA_BUF_ERROR => {
                    if action == Action::Continue && read == src.len() {
                        return Step::ok(read, written, Status::Ok);
                    }
                    if written == dst.len() {
                        if action != Action::Continue {
                            self.pending = Some((action, src.len() - read));
                        }
                        return Step::ok(read, written, Status::MoreOutput);
                    }
                    if p.ret == sys::LZMA_BUF_ERROR || (p.read == 0 && p.written == 0) {
                        return Step::err(read, written, Error::internal("liblzma encoder made no progress"));
                    }
                }
                r => {
                    self.strm = None;
                    self.pending = None;
                    return Step::err(read, written, lz_error(r, "encoding"));
                }
            }
        }
    }

    fn reset(&mut self) {
        self.strm = None;
        self.pending = None;
        self.pledged = None;
        self.frame_in = 0;
    }
}
