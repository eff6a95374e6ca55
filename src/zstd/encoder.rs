//! zstd streaming encoder over `ZSTD_compressStream2`.

use std::sync::Arc;

use super::sys::{CCtx, ZSTD_EndDirective};
use super::{cdict_for, cparam, zstd_error};
use crate::abi::*;
use crate::core::{Action, EncoderCore, Status, Step};
use crate::dict::Dict;
use crate::error::{Error, Result};

pub struct ZstdEncoder {
    cctx: CCtx,
    /// Level the CDict must be digested for.
    level: i32,
    dict: Option<Arc<Dict>>,
    /// The CCtx references the CDict for the current `dict` and `level`.
    dict_ready: bool,
}

impl ZstdEncoder {
    pub fn new() -> Result<Self> {
        Ok(ZstdEncoder {
            cctx: CCtx::new().ok_or_else(|| Error::nomem("cannot allocate a zstd compression context"))?,
            level: super::sys::default_level(),
            dict: None,
            dict_ready: true,
        })
    }

    fn prepare_dict(&mut self) -> Result<()> {
        if !self.dict_ready {
            let cdict = match &self.dict {
                Some(d) => Some(cdict_for(d, self.level)?),
                None => None,
            };
            self.cctx.ref_cdict(cdict).map_err(|e| zstd_error(e, "dictionary"))?;
            self.dict_ready = true;
        }
        Ok(())
    }
}

impl EncoderCore for ZstdEncoder {
    fn set_param(&mut self, p: codec_param, v: i64) -> Result<()> {
        let zp = cparam(p).ok_or_else(|| Error::unsupported("not a zstd compression parameter"))?;
        self.cctx.set_parameter(zp, v as i32).map_err(|e| zstd_error(e, "parameter"))?;
        if p == CODEC_PARAM_LEVEL {
            self.level = v as i32;
            self.dict_ready = self.dict.is_none();
        }
        Ok(())
    }

    fn set_dict(&mut self, d: Option<Arc<Dict>>) -> Result<()> {
        self.dict = d;
        self.dict_ready = false;
        Ok(())
    }

    fn set_pledged_size(&mut self, n: u64) -> Result<()> {
        self.cctx.set_pledged_src_size(n).map_err(|e| zstd_error(e, "pledged size"))
    }

    fn encode(&mut self, src: &[u8], dst: &mut [u8], action: Action) -> Step {
        if let Err(e) = self.prepare_dict() {
            return Step::err(0, 0, e);
        }
        if action == Action::Continue && src.is_empty() {
            return Step::ok(0, 0, Status::Ok);
        }
        let end = match action {
            Action::Continue => ZSTD_EndDirective::ZSTD_e_continue,
            Action::Flush => ZSTD_EndDirective::ZSTD_e_flush,
            Action::Finish => ZSTD_EndDirective::ZSTD_e_end,
        };
        let (mut read, mut written) = (0, 0);
        let mut idle = 0u32;
        loop {
            let p = self.cctx.compress_stream2(&src[read..], &mut dst[written..], end);
            read += p.read;
            written += p.written;
            let remaining = match p.ret {
                Ok(r) => r,
                Err(e) => return Step::err(read, written, zstd_error(e, "compression")),
            };
            let input_done = read == src.len();
            let done = match action {
                Action::Continue => input_done,
                _ => input_done && remaining == 0,
            };
            if done {
                return Step::ok(read, written, Status::Ok);
            }
            if written == dst.len() {
                return Step::ok(read, written, Status::MoreOutput);
            }
            // With workers zstd may return before its jobs finish; it blocks internally when
            // it cannot progress, so an idle spin here means a bug, not a slow worker.
            idle = if p.read == 0 && p.written == 0 { idle + 1 } else { 0 };
            if idle > 1_000_000 {
                return Step::err(read, written, Error::internal("zstd compression made no progress"));
            }
        }
    }

    fn reset(&mut self) {
        self.cctx.reset_session();
    }
}
