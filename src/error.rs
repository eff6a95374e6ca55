//! The error type every core returns, and its mapping onto `codec_status`.

use crate::abi::*;

/// The class of an error; each maps to exactly one negative `codec_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Null,
    Invalid,
    Unsupported,
    Sequence,
    Corrupt,
    Checksum,
    Truncated,
    Dict,
    MemLimit,
    Buffer,
    State,
    NoMem,
    Panic,
    Internal,
}

impl ErrorKind {
    /// The C status value of this kind.
    pub fn status(self) -> codec_status {
        match self {
            ErrorKind::Null => CODEC_E_NULL,
            ErrorKind::Invalid => CODEC_E_INVALID,
            ErrorKind::Unsupported => CODEC_E_UNSUPPORTED,
            ErrorKind::Sequence => CODEC_E_SEQUENCE,
            ErrorKind::Corrupt => CODEC_E_CORRUPT,
            ErrorKind::Checksum => CODEC_E_CHECKSUM,
            ErrorKind::Truncated => CODEC_E_TRUNCATED,
            ErrorKind::Dict => CODEC_E_DICT,
            ErrorKind::MemLimit => CODEC_E_MEMLIMIT,
            ErrorKind::Buffer => CODEC_E_BUFFER,
            ErrorKind::State => CODEC_E_STATE,
            ErrorKind::NoMem => CODEC_E_NOMEM,
            ErrorKind::Panic => CODEC_E_PANIC,
            ErrorKind::Internal => CODEC_E_INTERNAL,
        }
    }

    /// True for errors that leave a stream in an unknown state: after one of these a handle
    /// refuses further work (`CODEC_E_SEQUENCE`) until it is reset. Argument errors
    /// (NULL, invalid, unsupported, buffer, sequence) leave the handle as it was.
    pub fn poisons_stream(self) -> bool {
        matches!(
            self,
            ErrorKind::Corrupt
                | ErrorKind::Checksum
                | ErrorKind::Truncated
                | ErrorKind::Dict
                | ErrorKind::MemLimit
                | ErrorKind::NoMem
                | ErrorKind::Internal
                | ErrorKind::Panic
        )
    }
}

/// An error with a message for the user. `at` is the input offset where the problem was
/// detected, relative to the start of the `src` slice of the call that reports it (it may be
/// negative when the offending bytes were buffered by an earlier call); the stream wrapper
/// turns it into an absolute offset in the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{msg}")]
pub struct Error {
    pub kind: ErrorKind,
    pub msg: String,
    pub at: Option<i64>,
}

impl Error {
    pub fn new(kind: ErrorKind, msg: impl Into<String>) -> Self {
        Error { kind, msg: msg.into(), at: None }
    }
    /// Attach the offset (relative to the current call's input) where the problem was found.
    pub fn at(mut self, rel: i64) -> Self {
        self.at = Some(rel);
        self
    }
    pub fn status(&self) -> codec_status {
        self.kind.status()
    }
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, msg)
    }
    pub fn unsupported(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, msg)
    }
    pub fn sequence(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Sequence, msg)
    }
    pub fn corrupt(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Corrupt, msg)
    }
    pub fn checksum(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Checksum, msg)
    }
    pub fn truncated(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Truncated, msg)
    }
    pub fn dict(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Dict, msg)
    }
    pub fn memlimit(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::MemLimit, msg)
    }
    pub fn buffer(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Buffer, msg)
    }
    pub fn state(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::State, msg)
    }
    pub fn nomem(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::NoMem, msg)
    }
    pub fn internal(msg: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, msg)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Allocate a zeroed buffer of `n` bytes, reporting failure as `CODEC_E_NOMEM` instead of
/// aborting the process.
pub fn try_alloc_zeroed(n: usize, what: &str) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| Error::nomem(format!("cannot allocate {n} bytes for {what}")))?;
    v.resize(n, 0);
    Ok(v)
}
