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
    /// The caller set `CODEC_PARAM_ZSTD_JOB_SIZE` (to anything, 0 included): leave it alone.
    job_size_set: bool,
    /// Parameters changed since the job size was last chosen (see `choose_job_size`).
    job_size_stale: bool,
    /// The job size last given to zstd (0: zstd's choice).
    job_size: i32,
    /// zstd has started a session (a frame) that no completed FINISH or reset has ended: even
    /// a call that moved no byte starts one, and zstd then refuses a job size until the next.
    session: bool,
}

/// Smallest job libcodec chooses for zstd's workers (see `job_size_for`).
const JOB_SIZE_MIN: u64 = 4 << 20;
/// zstd's largest job log (`ZSTDMT_JOBLOG_MAX` on 64-bit targets).
const JOB_LOG_MAX: u32 = 30;

/// The job size libcodec gives zstd's workers when the caller has not chosen one, or `None`
/// to keep zstd's own. zstd makes each job 2^max(20, windowLog + 2) bytes (8 MiB at level 3,
/// 16 MiB at level 9), so input of a few jobs leaves a worker idle while the other finishes a
/// slow one (docs/performance.md: 1.4–1.7x with 2 workers). Jobs of 4 MiB measured 1.85–1.94x
/// at the same levels with output within ±0.3 %. A job starts by loading its overlap (the end
/// of the previous job, `windowLog - (9 - overlapLog)` bits) as history, so a job stays at
/// least 4 times its overlap; strategies from btlazy2 up load history at close to the cost
/// of compressing it, and long-distance matching sizes its jobs differently, so both keep
/// zstd's choice. Only ever smaller than zstd's default, never larger.
/// Arguments: the effective window log and strategy, overlapLog as set (0 = default) and
/// whether long-distance matching is on.
fn job_size_for(window_log: u32, strategy: i32, overlap_log: i32, ldm: bool) -> Option<u64> {
    const LAZY2: i32 = 5; // ZSTD_lazy2; ZSTD_btlazy2 is 6
    if ldm || strategy > LAZY2 {
        return None;
    }
    // zstd's default overlap for these strategies: 1/8 of the window (lazy2: 1/4).
    let overlap_log = match overlap_log {
        0 if strategy == LAZY2 => 7,
        0 => 6,
        v => v,
    };
    let shift = 9 - overlap_log as u32;
    let overlap = if shift >= 8 { 0 } else { 1u64 << window_log.saturating_sub(shift) };
    let default = 1u64 << (window_log + 2).clamp(20, JOB_LOG_MAX);
    let ours = JOB_SIZE_MIN.max(4 * overlap);
    (ours < default).then_some(ours)
}

impl ZstdEncoder {
    pub fn new() -> Result<Self> {
        Ok(ZstdEncoder {
            cctx: CCtx::new().ok_or_else(|| Error::nomem("cannot allocate a zstd compression context"))?,
            level: super::sys::default_level(),
            dict: None,
            dict_ready: true,
            job_size_set: false,
            job_size_stale: false,
            job_size: 0,
            session: false,
        })
    }

    /// After parameter changes, at the start of a zstd session: give zstd's workers the job
    /// size of `job_size_for`, or 0 (zstd's choice) when it keeps zstd's. A change made inside
    /// a session (possible after a call that moved no byte, such as an empty FLUSH) waits for
    /// the next one.
    fn choose_job_size(&mut self) -> Result<()> {
        if !self.job_size_stale || self.job_size_set || self.session {
            return Ok(());
        }
        use super::sys::ZSTD_cParameter as P;
        let get = |p| self.cctx.get_parameter(p).map_err(|e| zstd_error(e, "parameter"));
        let size = if get(P::ZSTD_c_nbWorkers)? < 1 {
            None
        } else {
            let (mut window_log, mut strategy) =
                super::sys::level_window_and_strategy(get(P::ZSTD_c_compressionLevel)?);
            match get(P::ZSTD_c_windowLog)? {
                0 => {}
                w => window_log = w as u32,
            }
            match get(P::ZSTD_c_strategy)? {
                0 => {}
                s => strategy = s,
            }
            // ZSTD_ps_enable = 1; auto (0) turns it on from btopt (7) with windows of 2^27 up.
            let ldm = match get(P::ZSTD_c_enableLongDistanceMatching)? {
                1 => true,
                0 => strategy >= 7 && window_log >= 27,
                _ => false,
            };
            job_size_for(window_log, strategy, get(P::ZSTD_c_overlapLog)?, ldm)
        };
        let v = size.map_or(0, |s| s as i32);
        if v != self.job_size {
            self.cctx.set_parameter(P::ZSTD_c_jobSize, v).map_err(|e| zstd_error(e, "job size"))?;
            self.job_size = v;
        }
        self.job_size_stale = false;
        Ok(())
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
        if p == CODEC_PARAM_ZSTD_JOB_SIZE {
            self.job_size_set = true;
        }
        self.job_size_stale = true;
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
        if let Err(e) = self.prepare_dict().and_then(|_| self.choose_job_size()) {
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
        self.session = true;
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
                if action == Action::Finish {
                    self.session = false;
                }
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
        self.session = false;
        self.cctx.reset_session();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_size_is_chosen_only_below_zstds_own() {
        let mib = 1u64 << 20;
        // level 3 (dfast, window 2^21): zstd would use 8 MiB
        assert_eq!(job_size_for(21, 2, 0, false), Some(4 * mib));
        // level 9 (lazy2, window 2^22, overlap 1 MiB): zstd would use 16 MiB
        assert_eq!(job_size_for(22, 5, 0, false), Some(4 * mib));
        // level 1 (fast, window 2^19): zstd's 2 MiB is already smaller
        assert_eq!(job_size_for(19, 1, 0, false), None);
        // a large window with a fast strategy: at least 4 times the 16 MiB overlap
        assert_eq!(job_size_for(27, 2, 0, false), Some(64 * mib));
        // a full-window overlap leaves nothing to gain
        assert_eq!(job_size_for(21, 2, 9, false), None);
        // no overlap at all
        assert_eq!(job_size_for(21, 2, 1, false), Some(4 * mib));
        // binary-tree strategies and long-distance matching keep zstd's choice
        assert_eq!(job_size_for(22, 6, 0, false), None);
        assert_eq!(job_size_for(23, 9, 0, false), None);
        assert_eq!(job_size_for(21, 2, 0, true), None);
    }

    #[test]
    fn level_parameters_match_zstds_tables() {
        // The rule above is written for these; a zstd upgrade that moves them shows up here.
        assert_eq!(super::super::sys::level_window_and_strategy(3), (21, 2));
        assert_eq!(super::super::sys::level_window_and_strategy(9), (22, 5));
        assert_eq!(super::super::sys::level_window_and_strategy(19), (23, 9));
    }
}
