//! The format-independent halves of encoders and decoders. Everything every format must do
//! the same way lives here once:
//!
//! - parameters and dictionaries only before the first byte of a stream (`Sequence` after);
//! - parameter values checked against the format's bounds table, with a message that names
//!   the parameter and the range;
//! - after a stream error the handle refuses work (`Sequence`) until `reset`;
//! - byte counters (`position`) that survive clone and marshal;
//! - error messages that carry the absolute input offset;
//! - AUTO format detection (sniffing the magic, skipping leading skippable frames);
//! - the marshalled-state container around each core's payload.

use std::sync::Arc;

use crate::abi::*;
use crate::core::{Action, DecoderCore, EncoderCore, ParamSpec, Status, Step};
use crate::dict::Dict;
use crate::error::{Error, ErrorKind, Result};
use crate::formats::{self, Detected, Format};
use crate::params::param_name;
use crate::state::{self, StateReader};

fn check_value(fmt_name: &str, p: codec_param, v: i64, spec: ParamSpec) -> Result<()> {
    if v < spec.lo || v > spec.hi {
        return Err(Error::invalid(format!(
            "{} = {v} is out of bounds for {fmt_name}: accepted {}..={}",
            param_name(p),
            spec.lo,
            spec.hi
        )));
    }
    Ok(())
}

fn debug_panic(p: codec_param) {
    if p == CODEC_PARAM_DEBUG_PANIC {
        panic!("CODEC_PARAM_DEBUG_PANIC: deliberate panic to exercise the panic boundary");
    }
}

/// Remembers a stream error; later calls are refused until reset.
#[derive(Debug, Clone, Default)]
struct Poison(Option<String>);

impl Poison {
    fn check(&self) -> Result<()> {
        match &self.0 {
            Some(m) => Err(Error::sequence(format!(
                "the stream failed earlier ({m}); call reset before using this handle again"
            ))),
            None => Ok(()),
        }
    }
    fn note(&mut self, e: &Error) {
        if e.kind.poisons_stream() {
            self.0 = Some(e.msg.clone());
        }
    }
}

fn with_offset(mut e: Error, base: u64) -> Error {
    if let Some(rel) = e.at.take() {
        let abs = base as i64 + rel;
        e.msg = format!("{} (at input byte {abs})", e.msg);
    }
    e
}

/// A streaming compressor for any format.
pub struct Encoder {
    format: Format,
    core: Box<dyn EncoderCore>,
    /// A frame has begun (input consumed or output produced since the last completed FINISH).
    in_frame: bool,
    poison: Poison,
    consumed: u64,
    produced: u64,
    /// Declared size of the current frame, and the bytes it has consumed so far.
    pledged: Option<u64>,
    frame_consumed: u64,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("format", &self.format)
            .field("in_frame", &self.in_frame)
            .field("position", &self.position())
            .finish_non_exhaustive()
    }
}

impl Encoder {
    pub fn new(format: Format) -> Result<Encoder> {
        Ok(Encoder {
            format,
            core: formats::new_encoder(format)?,
            in_frame: false,
            poison: Poison::default(),
            consumed: 0,
            produced: 0,
            pledged: None,
            frame_consumed: 0,
        })
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// The pledged size must match the frame exactly; refuse before the core sees a byte too many
    /// or a premature FINISH (some libraries only notice late, or not at all).
    fn check_pledge(&self, src: &[u8], action: Action) -> Result<()> {
        let Some(p) = self.pledged else { return Ok(()) };
        let total = self.frame_consumed + src.len() as u64;
        if total > p {
            return Err(Error::invalid(format!(
                "the frame's content would exceed its pledged size of {p} bytes (by {})",
                total - p
            )));
        }
        if action == Action::Finish && total < p {
            return Err(Error::invalid(format!(
                "FINISH after {total} bytes, but the frame's pledged size is {p} bytes"
            )));
        }
        Ok(())
    }

    fn before_first_byte(&self, what: &str) -> Result<()> {
        self.poison.check()?;
        if self.in_frame {
            return Err(Error::sequence(format!(
                "{what} must be set before the first byte of a frame (or after a completed FINISH, or after reset)"
            )));
        }
        Ok(())
    }

    pub fn set_param(&mut self, p: codec_param, v: i64) -> Result<()> {
        debug_panic(p);
        self.before_first_byte(param_name(p))?;
        let spec = formats::param_spec(self.format, p).filter(|s| s.encoder).ok_or_else(|| {
            Error::unsupported(format!("{} does not apply to {} encoders", param_name(p), self.format.name()))
        })?;
        check_value(self.format.name(), p, v, spec)?;
        self.core.set_param(p, v)
    }

    pub fn set_dict(&mut self, d: Option<Arc<Dict>>) -> Result<()> {
        self.before_first_byte("the dictionary")?;
        self.core.set_dict(d)
    }

    pub fn set_pledged_size(&mut self, n: u64) -> Result<()> {
        self.before_first_byte("the pledged size")?;
        self.core.set_pledged_size(n)?;
        self.pledged = Some(n);
        Ok(())
    }

    pub fn encode(&mut self, src: &[u8], dst: &mut [u8], action: Action) -> Step {
        if let Err(e) = self.poison.check() {
            return Step::err(0, 0, e);
        }
        if let Err(e) = self.check_pledge(src, action) {
            return Step::err(0, 0, e);
        }
        let base = self.consumed;
        let mut step = self.core.encode(src, dst, action);
        debug_assert!(step.read <= src.len() && step.written <= dst.len());
        self.consumed += step.read as u64;
        self.produced += step.written as u64;
        self.frame_consumed += step.read as u64;
        if step.read > 0 || step.written > 0 {
            self.in_frame = true;
        }
        match &mut step.result {
            Ok(Status::Ok) if action == Action::Finish => {
                self.in_frame = false;
                self.pledged = None;
                self.frame_consumed = 0;
            }
            Ok(_) => {}
            Err(e) => {
                *e = with_offset(std::mem::replace(e, Error::internal("")), base);
                self.poison.note(e);
            }
        }
        step
    }

    pub fn reset(&mut self) {
        self.core.reset();
        self.in_frame = false;
        self.poison = Poison::default();
        self.consumed = 0;
        self.produced = 0;
        self.pledged = None;
        self.frame_consumed = 0;
    }

    /// Total bytes consumed and produced since creation or the last reset.
    pub fn position(&self) -> (u64, u64) {
        (self.consumed, self.produced)
    }
}

/// AUTO detection progress.
#[derive(Clone)]
enum Stage {
    /// Collecting the first bytes of a stream (AUTO only).
    Sniffing,
    /// Skipping a leading skippable frame (AUTO only): bytes left.
    Skipping(u64),
    Decoding(Format),
}

/// A streaming decompressor for any format, or for AUTO.
pub struct Decoder {
    /// `None` for AUTO.
    requested: Option<Format>,
    stage: Stage,
    core: Option<Box<dyn DecoderCore>>,
    /// Input already counted as consumed but not yet decoded: bytes handed over with `feed`,
    /// and (AUTO) bytes taken while sniffing. It is decoded before any new input.
    /// `pending[pending_start..]` is live.
    pending: Vec<u8>,
    pending_start: usize,
    /// AUTO: parameters set before the format was known, applied once it is.
    auto_params: Vec<(codec_param, i64)>,
    dict: Option<Arc<Dict>>,
    /// Resource limits set on this decoder; they, not a state's, apply to a state restored
    /// into it.
    limits: Limits,
    started: bool,
    poison: Poison,
    consumed: u64,
    produced: u64,
    /// Bumped by every call that may change the state (lets a caller cache a marshalled blob).
    generation: u64,
}

/// The resource limits a caller set on a decoder: the limit parameters
/// (`CODEC_PARAM_ZSTD_WINDOW_LOG_MAX`, `CODEC_PARAM_MEMLIMIT`) in the order they were set, the
/// later of two settings of the same limit winning (unset: the format's default). A marshalled
/// state is untrusted input, so it never sets them: a restored decoder has the limits of the
/// decoder it is restored into (see [`Decoder::restore`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Limits(Vec<(codec_param, i64)>);

impl Limits {
    fn is_limit(p: codec_param) -> bool {
        p == CODEC_PARAM_ZSTD_WINDOW_LOG_MAX || p == CODEC_PARAM_MEMLIMIT
    }

    fn note(&mut self, p: codec_param, v: i64) {
        if Self::is_limit(p) {
            self.0.retain(|&(q, _)| q != p);
            self.0.push((p, v));
        }
    }

    /// The limits among `params` (an AUTO decoder's, in their order).
    fn of(params: &[(codec_param, i64)]) -> Limits {
        let mut l = Limits::default();
        for &(p, v) in params {
            l.note(p, v);
        }
        l
    }

    /// Make these the limits among `params` (a saved AUTO decoder's parameters), in place so
    /// that a decoder restored with the limits it was saved with marshals to the same bytes:
    /// a limit in both keeps its place in `params` with this value, one only in `params` is
    /// dropped, one only here is appended.
    fn impose_on(&self, params: &mut Vec<(codec_param, i64)>) {
        let mut mine = self.0.clone();
        params.retain_mut(|(p, v)| {
            if !Self::is_limit(*p) {
                return true;
            }
            match mine.iter().position(|&(q, _)| q == *p) {
                Some(i) => {
                    *v = mine.remove(i).1;
                    true
                }
                None => false,
            }
        });
        params.extend(mine);
    }

    /// xz, .lzma, raw LZMA2: the memory limit.
    pub fn memlimit(&self) -> Option<u64> {
        self.0.iter().rev().find(|&&(p, _)| p == CODEC_PARAM_MEMLIMIT).map(|&(_, v)| v as u64)
    }

    /// zstd: the window log limit, which the memory limit also sets (the later one wins, as
    /// when the parameters are applied to a zstd decoder in order).
    pub fn zstd_window_log_max(&self) -> Option<u32> {
        self.0.last().map(|&(p, v)| match p {
            CODEC_PARAM_MEMLIMIT => crate::zstd::window_log_for_memlimit(v),
            _ => v as u32,
        })
    }

    /// The limit parameters, in the order they were set.
    fn params(&self) -> impl Iterator<Item = (codec_param, i64)> + '_ {
        self.0.iter().copied()
    }
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("requested", &self.requested)
            .field("format", &self.format())
            .field("at_frame_edge", &self.at_frame_edge())
            .field("position", &self.position())
            .finish_non_exhaustive()
    }
}

impl Decoder {
    pub fn new(requested: Option<Format>) -> Result<Decoder> {
        let (stage, core) = match requested {
            Some(f) => (Stage::Decoding(f), Some(formats::new_decoder(f)?)),
            None => (Stage::Sniffing, None),
        };
        Ok(Decoder {
            requested,
            stage,
            core,
            pending: Vec::new(),
            pending_start: 0,
            auto_params: Vec::new(),
            dict: None,
            limits: Limits::default(),
            started: false,
            poison: Poison::default(),
            consumed: 0,
            produced: 0,
            generation: 0,
        })
    }

    /// Changes whenever the decoder's state may have changed.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The limit parameters set on this decoder (`CODEC_PARAM_ZSTD_WINDOW_LOG_MAX`,
    /// `CODEC_PARAM_MEMLIMIT`): what a decoder needs to be given before [`Decoder::restore`]
    /// to take this one's state with the same limits.
    pub fn limit_params(&self) -> Vec<(codec_param, i64)> {
        self.limits.params().collect()
    }

    /// The requested format (`None` = AUTO).
    pub fn requested_format(&self) -> Option<Format> {
        self.requested
    }
    /// The format being decoded, once known.
    pub fn format(&self) -> Option<Format> {
        match self.stage {
            Stage::Decoding(f) => Some(f),
            _ => None,
        }
    }

    fn before_first_byte(&self, what: &str) -> Result<()> {
        self.poison.check()?;
        if self.started {
            return Err(Error::sequence(format!("{what} must be set before the first input byte (or after reset)")));
        }
        Ok(())
    }

    pub fn set_param(&mut self, p: codec_param, v: i64) -> Result<()> {
        debug_panic(p);
        self.before_first_byte(param_name(p))?;
        self.generation += 1;
        match self.requested {
            Some(f) => {
                let spec = formats::decoder_param_spec(f, p).ok_or_else(|| {
                    Error::unsupported(format!("{} does not apply to {} decoders", param_name(p), f.name()))
                })?;
                check_value(f.name(), p, v, spec)?;
                self.core.as_mut().expect("concrete decoder has a core").set_param(p, v)?;
                self.limits.note(p, v);
                Ok(())
            }
            None => {
                let spec = formats::auto_decoder_param_spec(p)
                    .ok_or_else(|| Error::unsupported(format!("{} does not apply to any decoder", param_name(p))))?;
                check_value("auto-detecting decoders", p, v, spec)?;
                self.auto_params.retain(|&(q, _)| q != p);
                self.auto_params.push((p, v));
                self.limits.note(p, v);
                Ok(())
            }
        }
    }

    pub fn set_dict(&mut self, d: Option<Arc<Dict>>) -> Result<()> {
        self.before_first_byte("the dictionary")?;
        self.generation += 1;
        if let Some(core) = self.core.as_mut() {
            core.set_dict(d.clone())?;
        }
        self.dict = d;
        Ok(())
    }

    pub fn dict(&self) -> Option<&Arc<Dict>> {
        self.dict.as_ref()
    }

    /// Create the core for a detected format and apply what was set before.
    fn start_core(&mut self, f: Format) -> Result<()> {
        let mut core = formats::new_decoder(f)?;
        for &(p, v) in &self.auto_params {
            if let Some(spec) = formats::decoder_param_spec(f, p) {
                if v >= spec.lo && v <= spec.hi {
                    core.set_param(p, v)?;
                }
            }
        }
        core.set_dict(self.dict.clone())?;
        self.core = Some(core);
        self.stage = Stage::Decoding(f);
        Ok(())
    }

    pub fn decode(&mut self, src: &[u8], dst: &mut [u8]) -> Step {
        if let Err(e) = self.poison.check() {
            return Step::err(0, 0, e);
        }
        self.generation += 1;
        let base = self.consumed;
        let mut step = self.decode_inner(src, dst);
        debug_assert!(step.read <= src.len() && step.written <= dst.len());
        self.consumed += step.read as u64;
        self.produced += step.written as u64;
        if step.read > 0 {
            self.started = true;
        }
        if let Err(e) = &mut step.result {
            *e = with_offset(std::mem::replace(e, Error::internal("")), base);
            self.poison.note(e);
        }
        step
    }

    fn held(&self) -> &[u8] {
        &self.pending[self.pending_start..]
    }

    fn drop_held(&mut self, n: usize) {
        self.pending_start += n;
        if self.pending_start == self.pending.len() {
            self.pending.clear();
            self.pending_start = 0;
        }
    }

    /// Take `src` now and decode it with later calls (before any new input): it counts as
    /// consumed at once, and clone / marshal carry it.
    pub fn feed(&mut self, src: &[u8]) -> Result<()> {
        self.poison.check()?;
        self.generation += 1;
        if self.pending_start > 0 {
            self.pending.drain(..self.pending_start);
            self.pending_start = 0;
        }
        self.pending.try_reserve(src.len()).map_err(|_| Error::nomem("cannot hold the fed input"))?;
        self.pending.extend_from_slice(src);
        self.consumed += src.len() as u64;
        self.started |= !src.is_empty();
        Ok(())
    }

    /// Bytes handed over with `feed` (or sniffed) and not decoded yet.
    pub fn held_input(&self) -> usize {
        self.pending.len() - self.pending_start
    }

    /// Resolve the format (AUTO: sniff, skip leading skippable frames), then decode held
    /// input and `src`, in that order. Error offsets are made relative to `src[0]`.
    fn decode_inner(&mut self, src: &[u8], dst: &mut [u8]) -> Step {
        let mut read = 0;
        loop {
            match self.stage {
                Stage::Decoding(_) => break,
                Stage::Skipping(left) => {
                    let from_held = left.min(self.held_input() as u64) as usize;
                    self.drop_held(from_held);
                    let from_src = (left - from_held as u64).min((src.len() - read) as u64) as usize;
                    read += from_src;
                    let left = left - (from_held + from_src) as u64;
                    if left > 0 {
                        self.stage = Stage::Skipping(left);
                        return Step::ok(read, 0, Status::Ok);
                    }
                    self.stage = Stage::Sniffing;
                }
                Stage::Sniffing => {
                    let have = self.held_input();
                    if have < formats::DETECT_MAX {
                        let take = (formats::DETECT_MAX - have).min(src.len() - read);
                        self.pending.extend_from_slice(&src[read..read + take]);
                        read += take;
                    }
                    match formats::detect(self.held()) {
                        Detected::NeedMore if read == src.len() => return Step::ok(read, 0, Status::Ok),
                        Detected::NeedMore | Detected::Unknown => {
                            let at = read as i64 - self.held_input() as i64;
                            let first = &self.held()[..self.held_input().min(8)];
                            let e = Error::corrupt(format!(
                                "unrecognised data: not zstd, LZ4 frame, xz or .lzma (first bytes {})",
                                hex(first)
                            ))
                            .at(at);
                            return Step::err(read, 0, e);
                        }
                        Detected::Skippable(total) => self.stage = Stage::Skipping(total),
                        Detected::Format(f) => {
                            if let Err(e) = self.start_core(f) {
                                return Step::err(read, 0, e);
                            }
                        }
                    }
                }
            }
        }
        let mut written = 0;
        if self.held_input() > 0 {
            let held = self.held_input();
            let core = self.core.as_mut().expect("decoding stage has a core");
            let s = core.decode(&self.pending[self.pending_start..], dst);
            self.drop_held(s.read);
            written = s.written;
            match s.result {
                Err(mut e) => {
                    // held bytes precede src[read]
                    e.at = e.at.map(|a| a - held as i64 + read as i64);
                    return Step::err(read, written, e);
                }
                Ok(st) if self.held_input() > 0 || st != Status::Ok => return Step::ok(read, written, st),
                Ok(_) => {}
            }
        }
        let core = self.core.as_mut().expect("decoding stage has a core");
        let s = core.decode(&src[read..], &mut dst[written..]);
        let (r, w) = (read + s.read, written + s.written);
        match s.result {
            Ok(st) => Step::ok(r, w, st),
            Err(mut e) => {
                e.at = e.at.map(|a| a + read as i64);
                Step::err(r, w, e)
            }
        }
    }

    /// True when the input given so far ends at a frame boundary with all output delivered:
    /// a stream may end here. Never after an error (until reset): a failed decoder does not
    /// vouch for its stream.
    pub fn at_frame_edge(&self) -> bool {
        if self.poison.0.is_some() {
            return false;
        }
        match self.stage {
            Stage::Sniffing => self.held_input() == 0,
            Stage::Skipping(_) => false,
            Stage::Decoding(_) => self.held_input() == 0 && self.core.as_ref().is_some_and(|c| c.at_frame_edge()),
        }
    }

    pub fn position(&self) -> (u64, u64) {
        (self.consumed, self.produced)
    }

    pub fn reset(&mut self) {
        match self.requested {
            Some(_) => self.core.as_mut().expect("concrete decoder has a core").reset(),
            None => {
                self.core = None;
                self.stage = Stage::Sniffing;
            }
        }
        self.pending.clear();
        self.pending_start = 0;
        self.started = false;
        self.generation += 1;
        self.poison = Poison::default();
        self.consumed = 0;
        self.produced = 0;
    }

    pub fn try_clone(&self) -> Result<Decoder> {
        self.poison.check()?;
        let core = match &self.core {
            Some(c) => Some(c.try_clone()?),
            None => None,
        };
        Ok(Decoder {
            requested: self.requested,
            stage: self.stage.clone(),
            core,
            pending: self.held().to_vec(),
            pending_start: 0,
            auto_params: self.auto_params.clone(),
            dict: self.dict.clone(),
            limits: self.limits.clone(),
            started: self.started,
            poison: self.poison.clone(),
            consumed: self.consumed,
            produced: self.produced,
            generation: 0,
        })
    }

    /// The complete state as a container (see `state.rs`).
    pub fn marshal(&self) -> Result<Vec<u8>> {
        self.poison.check()?;
        let fmt = self.format();
        let fingerprint = fmt.map(formats::state_fingerprint).unwrap_or_default();
        let requested = self.requested.map_or(CODEC_FORMAT_AUTO, Format::raw);
        let dict = self.dict.as_ref().map(|d| d.identity());
        // A parallel core with work in flight is saved as its sequential state at the delivered
        // boundary, its in-flight input going ahead of ours as held input (computed once: it
        // may re-decode a block). Everything else is written in place.
        let in_flight = match &self.core {
            Some(core) => core.marshal_in_flight()?,
            None => None,
        };
        let held: std::borrow::Cow<'_, [u8]> = match &in_flight {
            Some((_, input)) => [&input[..], self.held()].concat().into(),
            None => self.held().into(),
        };
        state::seal_with(requested, &fingerprint, dict, self.consumed, self.produced, |w| {
            // Wrapper section: stage, held input, AUTO parameters; then the core's section.
            match self.stage {
                Stage::Sniffing => w.u8(0),
                Stage::Skipping(n) => {
                    w.u8(1);
                    w.u64(n);
                }
                Stage::Decoding(f) => {
                    w.u8(2);
                    w.u16(f.raw() as u16);
                }
            }
            w.bytes(&held);
            w.u8(self.auto_params.len() as u8);
            for &(p, v) in &self.auto_params {
                w.i32(p);
                w.i64(v);
            }
            w.bool(self.started);
            match (&self.core, &in_flight) {
                (_, Some((core_state, _))) => {
                    w.raw(core_state);
                    Ok(())
                }
                (Some(core), None) => core.marshal(w),
                (None, None) => Ok(()),
            }
        })
    }

    /// Rebuild a decoder from `marshal`'s output. `dict` must be the dictionary the original
    /// decoder used (checked by ID and SHA-256), or `None` if it used none. The new decoder
    /// has the default limits, whatever the saved decoder had (a state is untrusted input);
    /// [`Decoder::restore`] restores into a decoder with the limits its caller chose.
    pub fn unmarshal(blob: &[u8], dict: Option<Arc<Dict>>) -> Result<Decoder> {
        Self::unmarshal_with(blob, dict, Limits::default())
    }

    /// Replace this decoder, which must not have had input since it was created or reset, by
    /// the one saved in `blob`, keeping this decoder's dictionary and limits: a state whose
    /// current frame or block needs more than they allow fails with `MemLimit`, and later
    /// frames are held to them. A decoder for a fixed format takes only a state of that
    /// format; an AUTO decoder takes any. On error this decoder is unchanged.
    pub fn restore(&mut self, blob: &[u8]) -> Result<()> {
        self.before_first_byte("a state to restore")?;
        let new = Self::unmarshal_with(blob, self.dict.clone(), self.limits.clone())?;
        if self.requested.is_some() && new.requested != self.requested {
            let name = |f: Option<Format>| f.map_or("auto-detecting", |f| f.name());
            return Err(Error::state(format!(
                "the state is of a {} decoder; this decoder decodes {}",
                name(new.requested),
                name(self.requested)
            )));
        }
        let generation = self.generation + 1;
        *self = new;
        self.generation = generation;
        Ok(())
    }

    fn unmarshal_with(blob: &[u8], dict: Option<Arc<Dict>>, mut limits: Limits) -> Result<Decoder> {
        let env = state::open(blob)?;
        let requested = formats::decoder_format(env.format)
            .map_err(|_| Error::state(format!("state names unknown format {}", env.format)))?;
        match (&env.dict, &dict) {
            (None, None) => {}
            (Some(_), None) => {
                return Err(Error::dict("the state was made with a dictionary; supply the same dictionary"))
            }
            (None, Some(_)) => {
                return Err(Error::dict("the state was made without a dictionary, but one was supplied"))
            }
            (Some(want), Some(d)) => {
                if *want != d.identity() {
                    return Err(Error::dict(format!(
                        "the supplied dictionary (id {}) is not the one the state was made with (id {})",
                        d.id(),
                        want.0
                    )));
                }
            }
        }
        let mut r = StateReader::new(env.payload);
        let stage = match r.u8_max("stage", 2)? {
            0 => Stage::Sniffing,
            1 => Stage::Skipping(r.u64_in("skip remaining", 1, u32::MAX as u64 + 8)?),
            _ => {
                let raw = r.u16("detected format")? as i32;
                let f =
                    Format::from_raw(raw).ok_or_else(|| Error::state(format!("state names unknown format {raw}")))?;
                if requested.is_some_and(|q| q != f) {
                    return Err(Error::state("state's detected format differs from its requested format"));
                }
                Stage::Decoding(f)
            }
        };
        if requested.is_some() && !matches!(stage, Stage::Decoding(_)) {
            return Err(Error::state("a fixed-format state must be in the decoding stage"));
        }
        let pending = r.bytes("held input", usize::MAX)?.to_vec();
        // Held input counts as consumed (errors inside it are reported at consumed - held + k).
        if pending.len() as u64 > env.consumed {
            return Err(Error::state("state holds more input than it has consumed"));
        }
        let n = r.u8_max("parameter count", 32)?;
        let mut auto_params = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let p = r.i32("parameter id")?;
            let v = r.i64("parameter value")?;
            if formats::auto_decoder_param_spec(p).is_none() {
                return Err(Error::state(format!("state holds an unknown parameter {p}")));
            }
            auto_params.push((p, v));
        }
        // The saved decoder's limits give way to the restoring caller's. (An AUTO decoder
        // keeps its parameters here to apply them at detection and after a reset; a
        // fixed-format decoder's live in its core, so none of the saved ones is a limit.)
        if requested.is_none() {
            limits.impose_on(&mut auto_params);
            // An AUTO decoder applies its parameters in their order: so do its limits.
            limits = Limits::of(&auto_params);
        } else {
            Limits::default().impose_on(&mut auto_params);
        }
        let started = r.bool("started")?;
        let core = match stage {
            Stage::Decoding(f) => {
                if env.fingerprint != formats::state_fingerprint(f).as_slice() {
                    return Err(Error::state(format!(
                        "the {} state was made by an incompatible build ({}), this build is ({})",
                        f.name(),
                        String::from_utf8_lossy(env.fingerprint),
                        String::from_utf8_lossy(&formats::state_fingerprint(f))
                    )));
                }
                Some(formats::unmarshal_decoder(f, &mut r, dict.clone(), &limits)?)
            }
            _ => None,
        };
        r.finish()?;
        Ok(Decoder {
            requested,
            stage,
            core,
            pending,
            pending_start: 0,
            auto_params,
            dict,
            limits,
            started,
            poison: Poison::default(),
            consumed: env.consumed,
            produced: env.produced,
            generation: 0,
        })
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

/// One-shot compression: one frame holding all of `src`, with the level (or the format's
/// default when `level` is `None`).
pub fn compress(format: Format, level: Option<i64>, src: &[u8], dst: &mut [u8]) -> Result<usize> {
    let mut enc = Encoder::new(format)?;
    if let Some(l) = level {
        enc.set_param(CODEC_PARAM_LEVEL, l)?;
    }
    enc.set_pledged_size(src.len() as u64).or_else(|e| match e.kind {
        ErrorKind::Unsupported => Ok(()),
        _ => Err(e),
    })?;
    let step = enc.encode(src, dst, Action::Finish);
    match step.result? {
        Status::Ok => Ok(step.written),
        _ => Err(Error::buffer(format!(
            "destination of {} bytes is too small for the compressed data (codec_compress_bound gives a safe size)",
            dst.len()
        ))),
    }
}

/// One-shot decompression of every frame in `src` into `dst`. Fails with `Truncated` when the
/// input ends inside a frame (or holds no frame at all), `Buffer` when `dst` is too small;
/// `Ok` carries the decompressed size. On `Buffer` the first `dst.len()` bytes are valid.
pub fn decompress(format: Option<Format>, src: &[u8], dst: &mut [u8], dict: Option<Arc<Dict>>) -> Result<usize> {
    let zstd =
        format == Some(Format::Zstd) || format.is_none() && formats::detect(src) == Detected::Format(Format::Zstd);
    if zstd && dict.is_none() {
        if let Some(n) = crate::zstd::decompress_fast(src, dst) {
            return Ok(n);
        }
    }
    let mut dec = Decoder::new(format)?;
    dec.set_dict(dict)?;
    let (mut read, mut written) = (0, 0);
    let mut frames = 0u64;
    let mut idle = 0;
    loop {
        let step = dec.decode(&src[read..], &mut dst[written..]);
        read += step.read;
        written += step.written;
        let mut status = step.result?;
        let mut progress = step.read + step.written;
        if status == Status::MoreOutput {
            // `dst` is full. Is there really more? Probe with one spare byte.
            let mut probe = [0u8; 1];
            let s = dec.decode(&src[read..], &mut probe);
            read += s.read;
            progress += s.read;
            if s.written > 0 {
                return Err(Error::buffer(format!(
                    "destination of {} bytes is too small for the decompressed data",
                    dst.len()
                )));
            }
            status = s.result?;
        }
        match status {
            Status::FrameEnd => frames += 1,
            Status::Ok if read == src.len() => break,
            _ => {}
        }
        idle = if progress == 0 && status != Status::FrameEnd { idle + 1 } else { 0 };
        if idle > 2 {
            return Err(Error::internal("decoder stopped making progress"));
        }
    }
    if !dec.at_frame_edge() {
        return Err(Error::truncated(format!(
            "input ended inside a frame after {} bytes ({written} bytes decoded)",
            src.len()
        )));
    }
    if frames == 0 && dec.format() != Some(Format::Lz4Blocks) {
        return Err(Error::truncated("the input holds no complete frame"));
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Input held back counts as consumed, so a state never holds more than it consumed
    /// (an error inside held input is reported at consumed - held + k, which must not be
    /// negative).
    #[test]
    fn held_input_is_at_most_the_input_consumed() {
        let mut d = Decoder::new(Some(Format::Zstd)).unwrap();
        d.feed(b"\x28\xb5\x2f").unwrap();
        let blob = d.marshal().unwrap();
        Decoder::unmarshal(&blob, None).expect("the real state loads");
        let env = state::open(&blob).unwrap();
        for (consumed, ok) in [(3, true), (2, false), (0, false)] {
            let b = state::seal(env.format, env.fingerprint, env.dict, consumed, env.produced, env.payload);
            assert_eq!(Decoder::unmarshal(&b, None).is_ok(), ok, "consumed {consumed}");
        }
    }
}
