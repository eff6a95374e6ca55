//! The trait pair every format implements. The generic wrappers in `stream.rs` add the
//! behaviour common to all formats (call sequencing, poisoning after errors, positions, format
//! detection), so a core only has to encode or decode.

use std::sync::Arc;

use crate::abi::{codec_param, CODEC_CONTINUE, CODEC_FINISH, CODEC_FLUSH};
use crate::dict::Dict;
use crate::error::{Error, Result};
use crate::state::StateWriter;

/// What an encoder call does after consuming its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Continue,
    Flush,
    Finish,
}

impl Action {
    pub fn from_raw(a: i32) -> Option<Action> {
        match a {
            CODEC_CONTINUE => Some(Action::Continue),
            CODEC_FLUSH => Some(Action::Flush),
            CODEC_FINISH => Some(Action::Finish),
            _ => None,
        }
    }
}

/// Non-error outcome of a streaming call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Encoder: all input consumed and the requested flush / finish is complete.
    /// Decoder: all input consumed; more input is needed (or the stream is complete).
    Ok,
    /// The output buffer is full (or output is pending): call again.
    MoreOutput,
    /// Decoder: a frame ended and all its output was delivered; the call stopped there.
    FrameEnd,
}

impl Status {
    /// The C status value.
    pub fn code(self) -> crate::abi::codec_status {
        match self {
            Status::Ok => crate::abi::CODEC_OK,
            Status::MoreOutput => crate::abi::CODEC_MORE_OUTPUT,
            Status::FrameEnd => crate::abi::CODEC_FRAME_END,
        }
    }
}

/// The outcome of one streaming call: bytes consumed and produced (always valid, also on
/// error, so no data is lost) and the status.
#[derive(Debug)]
pub struct Step {
    pub read: usize,
    pub written: usize,
    pub result: Result<Status>,
}

impl Step {
    pub fn ok(read: usize, written: usize, status: Status) -> Step {
        Step { read, written, result: Ok(status) }
    }
    pub fn err(read: usize, written: usize, e: Error) -> Step {
        Step { read, written, result: Err(e) }
    }
}

/// A streaming compressor for one format.
///
/// Contract (the wrapper relies on it):
/// - `set_param` is only called with a parameter the format's bounds table lists for encoders
///   and a value inside the bounds, and only before the first byte of a frame.
/// - `encode` with `Continue` returns `Ok` once all of `src` is consumed, `MoreOutput` when
///   `dst` filled up first. With `Flush` / `Finish` it returns `Ok` only when the flush /
///   frame end is completely written; `MoreOutput` means "call again with the same action and
///   the rest of the input". After a completed `Finish` the next byte starts a new frame.
/// - An action the configuration cannot honour (sync flush on .lzma) fails with
///   `Unsupported` before consuming or emitting anything, leaving the encoder usable.
pub trait EncoderCore: Send {
    fn set_param(&mut self, param: codec_param, value: i64) -> Result<()>;
    fn set_dict(&mut self, dict: Option<Arc<Dict>>) -> Result<()>;
    /// Declare the exact size of the next frame's content (recorded in the header where the
    /// format can). A frame whose content differs fails with `Invalid`.
    fn set_pledged_size(&mut self, size: u64) -> Result<()>;
    fn encode(&mut self, src: &[u8], dst: &mut [u8], action: Action) -> Step;
    /// Abandon the current frame; keep parameters and dictionary.
    fn reset(&mut self);
}

/// A streaming decompressor for one format. Its whole state must be cloneable and
/// marshallable between any two `decode` calls.
///
/// Contract:
/// - `decode` returns `FrameEnd` as soon as a frame (stream) ends and all its output is in
///   `dst`, without consuming the bytes after it; `MoreOutput` when `dst` is full and output
///   may be pending; `Ok` when all of `src` was consumed and more input is needed.
/// - Errors are reported with the progress made before them.
/// - `at_frame_edge` is true when no frame is in progress and no output is pending: input that
///   ends here is a complete stream.
pub trait DecoderCore: Send {
    fn set_param(&mut self, param: codec_param, value: i64) -> Result<()>;
    fn set_dict(&mut self, dict: Option<Arc<Dict>>) -> Result<()>;
    fn decode(&mut self, src: &[u8], dst: &mut [u8]) -> Step;
    fn at_frame_edge(&self) -> bool;
    /// Forget the current stream; keep parameters and dictionary.
    fn reset(&mut self);
    /// A fully independent copy (sharing only the immutable dictionary).
    fn try_clone(&self) -> Result<Box<dyn DecoderCore>>;
    /// Write the whole decoder state (parameters included) as this format's payload. The
    /// matching loader is registered per format in `formats.rs`.
    ///
    /// A parallel decoder (`CODEC_PARAM_THREADS` > 1) marshals its sequential state at the last
    /// block it delivered; the compressed input it has taken beyond that is `in_flight_input`.
    fn marshal(&self, w: &mut StateWriter) -> Result<()>;
    /// Parallel decoding with work in flight: the state as a sequential decoder at the last
    /// delivered boundary (`marshal`'s payload) and the compressed input taken beyond it, in
    /// input order. The wrapper stores that input as held input, ahead of its own, so the
    /// restored decoder decodes it again. `None` (the default, and whenever nothing is in
    /// flight) means `marshal` says it all.
    fn marshal_in_flight(&self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        Ok(None)
    }
}

/// Accepted range of one parameter for one format, and which side uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    pub lo: i64,
    pub hi: i64,
    pub encoder: bool,
    pub decoder: bool,
}

impl ParamSpec {
    pub const fn enc(lo: i64, hi: i64) -> Self {
        ParamSpec { lo, hi, encoder: true, decoder: false }
    }
    pub const fn dec(lo: i64, hi: i64) -> Self {
        ParamSpec { lo, hi, encoder: false, decoder: true }
    }
    pub const fn both(lo: i64, hi: i64) -> Self {
        ParamSpec { lo, hi, encoder: true, decoder: true }
    }
}
