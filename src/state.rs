//! The marshalled decoder state: one versioned container for every format, and the
//! little-endian, field-by-field writer and bounds-checked reader the cores use for their
//! payloads. The byte layout is documented in `docs/state-format.md`.
//!
//! Container (all integers little-endian):
//!
//! | field | size |
//! |---|---|
//! | magic `"CDCS"` | 4 |
//! | container version (1) | 2 |
//! | format (`codec_format`) | 2 |
//! | flags (bit 0: a dictionary was in use) | 4 |
//! | fingerprint length F (<= 255) | 1 |
//! | fingerprint (build identity for build-specific states; empty otherwise) | F |
//! | dictionary id | 4 |
//! | dictionary SHA-256 (zeros without a dictionary) | 32 |
//! | bytes consumed | 8 |
//! | bytes produced | 8 |
//! | payload length P | 8 |
//! | payload (format-specific) | P |
//! | XXH3-64 (seed 0) of every byte above | 8 |

use crate::error::{Error, Result};

pub(crate) const MAGIC: [u8; 4] = *b"CDCS";
pub(crate) const VERSION: u16 = 1;
const FLAG_DICT: u32 = 1;
const FINGERPRINT_MAX: usize = 255;

/// Appends little-endian fields to a buffer. A counting writer only adds up lengths, so a
/// state can be sized exactly before it is written.
#[derive(Default)]
pub struct StateWriter {
    buf: Vec<u8>,
    /// Counting mode: bytes that would have been written.
    counted: Option<usize>,
}

impl StateWriter {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn with_capacity(n: usize) -> Self {
        StateWriter { buf: Vec::with_capacity(n), counted: None }
    }
    /// A writer that stores nothing and only counts.
    pub fn counting() -> Self {
        StateWriter { buf: Vec::new(), counted: Some(0) }
    }
    pub fn len(&self) -> usize {
        self.counted.unwrap_or(self.buf.len())
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn put(&mut self, b: &[u8]) {
        match &mut self.counted {
            Some(n) => *n += b.len(),
            None => self.buf.extend_from_slice(b),
        }
    }
    pub fn u8(&mut self, v: u8) {
        self.put(&[v]);
    }
    pub fn bool(&mut self, v: bool) {
        self.put(&[v as u8]);
    }
    pub fn u16(&mut self, v: u16) {
        self.put(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.put(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.put(&v.to_le_bytes());
    }
    pub fn i32(&mut self, v: i32) {
        self.put(&v.to_le_bytes());
    }
    pub fn i64(&mut self, v: i64) {
        self.put(&v.to_le_bytes());
    }
    /// A `usize` stored as u64.
    pub fn usize(&mut self, v: usize) {
        self.u64(v as u64);
    }
    /// Fixed-size bytes whose length the reader knows.
    pub fn raw(&mut self, b: &[u8]) {
        self.put(b);
    }
    /// Variable-length bytes: a u64 length, then the bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.put(b);
    }
    pub fn into_inner(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads fields back, checking every length against what remains and every value against the
/// bound the caller gives. Each read names its field, so a refusal says what was wrong and
/// where.
pub struct StateReader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf[0]` within the whole state blob (for messages).
    base: usize,
}

impl<'a> StateReader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        StateReader { buf, pos: 0, base: 0 }
    }
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
    fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8]> {
        if self.remaining() < n {
            return Err(Error::state(format!(
                "state truncated: field '{field}' needs {n} bytes at offset {}, {} left",
                self.base + self.pos,
                self.remaining()
            )));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn bad(&self, field: &str, what: String) -> Error {
        Error::state(format!("state field '{field}' (before offset {}): {what}", self.base + self.pos))
    }
    pub fn u8(&mut self, field: &str) -> Result<u8> {
        Ok(self.take(1, field)?[0])
    }
    pub fn bool(&mut self, field: &str) -> Result<bool> {
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(self.bad(field, format!("{v} is not a boolean"))),
        }
    }
    pub fn u16(&mut self, field: &str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.take(2, field)?.try_into().unwrap()))
    }
    pub fn u32(&mut self, field: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4, field)?.try_into().unwrap()))
    }
    pub fn u64(&mut self, field: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8, field)?.try_into().unwrap()))
    }
    pub fn i32(&mut self, field: &str) -> Result<i32> {
        Ok(i32::from_le_bytes(self.take(4, field)?.try_into().unwrap()))
    }
    pub fn i64(&mut self, field: &str) -> Result<i64> {
        Ok(i64::from_le_bytes(self.take(8, field)?.try_into().unwrap()))
    }
    /// A u8 that must be <= `max` (enum tags).
    pub fn u8_max(&mut self, field: &str, max: u8) -> Result<u8> {
        let v = self.u8(field)?;
        if v > max {
            return Err(self.bad(field, format!("{v} exceeds {max}")));
        }
        Ok(v)
    }
    /// A u32 inside `lo..=hi`.
    pub fn u32_in(&mut self, field: &str, lo: u32, hi: u32) -> Result<u32> {
        let v = self.u32(field)?;
        if v < lo || v > hi {
            return Err(self.bad(field, format!("{v} outside {lo}..={hi}")));
        }
        Ok(v)
    }
    /// A u64 inside `lo..=hi`.
    pub fn u64_in(&mut self, field: &str, lo: u64, hi: u64) -> Result<u64> {
        let v = self.u64(field)?;
        if v < lo || v > hi {
            return Err(self.bad(field, format!("{v} outside {lo}..={hi}")));
        }
        Ok(v)
    }
    /// A `usize` (stored as u64) that must be <= `max`.
    pub fn usize_max(&mut self, field: &str, max: usize) -> Result<usize> {
        let v = self.u64(field)?;
        if v > max as u64 {
            return Err(self.bad(field, format!("{v} exceeds {max}")));
        }
        Ok(v as usize)
    }
    /// Exactly `n` bytes.
    pub fn raw(&mut self, field: &str, n: usize) -> Result<&'a [u8]> {
        self.take(n, field)
    }
    /// Fixed-size array.
    pub fn array<const N: usize>(&mut self, field: &str) -> Result<[u8; N]> {
        Ok(self.take(N, field)?.try_into().unwrap())
    }
    /// Length-prefixed bytes of at most `max` bytes. The length is checked against both the
    /// bound and the bytes actually present before anything is allocated.
    pub fn bytes(&mut self, field: &str, max: usize) -> Result<&'a [u8]> {
        let n = self.u64(field)?;
        if n > max as u64 {
            return Err(self.bad(field, format!("length {n} exceeds the limit {max}")));
        }
        self.take(n as usize, field)
    }
    /// Fail unless every byte was read.
    pub fn finish(&self) -> Result<()> {
        if self.remaining() != 0 {
            return Err(Error::state(format!("{} unexpected bytes at the end of the state payload", self.remaining())));
        }
        Ok(())
    }
}

/// The fixed part of a container, read back and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub format: i32,
    pub fingerprint: &'a [u8],
    /// `(id, sha256)` of the dictionary the decoder used, if any.
    pub dict: Option<(u32, [u8; 32])>,
    pub consumed: u64,
    pub produced: u64,
    pub payload: &'a [u8],
}

/// Build a container whose payload `write_payload` writes in place. The payload is written
/// twice — first into a counting writer — so the container is allocated at its exact size and
/// the state is copied once. `write_payload` must be deterministic.
pub fn seal_with(
    format: i32,
    fingerprint: &[u8],
    dict: Option<(u32, [u8; 32])>,
    consumed: u64,
    produced: u64,
    write_payload: impl Fn(&mut StateWriter) -> crate::error::Result<()>,
) -> crate::error::Result<Vec<u8>> {
    assert!(fingerprint.len() <= FINGERPRINT_MAX, "fingerprint too long");
    let mut count = StateWriter::counting();
    write_payload(&mut count)?;
    let payload_len = count.len();
    let mut w = StateWriter::with_capacity(sealed_len(fingerprint.len(), payload_len));
    w.raw(&MAGIC);
    w.u16(VERSION);
    w.u16(format as u16);
    w.u32(if dict.is_some() { FLAG_DICT } else { 0 });
    w.u8(fingerprint.len() as u8);
    w.raw(fingerprint);
    let (id, hash) = dict.unwrap_or((0, [0; 32]));
    w.u32(id);
    w.raw(&hash);
    w.u64(consumed);
    w.u64(produced);
    w.u64(payload_len as u64);
    let start = w.len();
    write_payload(&mut w)?;
    assert_eq!(w.len() - start, payload_len, "state payload writer is not deterministic");
    let sum = checksum(&w.buf);
    w.u64(sum);
    Ok(w.into_inner())
}

/// Largest input or output position a state may record (2^62 bytes).
const POSITION_MAX: u64 = 1 << 62;

/// The container's checksum: XXH3-64 (seed 0), fast enough not to matter next to a copy.
fn checksum(b: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(b)
}

/// Recompute the checksum (the last 8 bytes) of a state blob, so that a deliberately altered
/// state gets past the checksum to the field checks: for tests and fuzzing. The checksum
/// guards against corruption, not forgery; every field is validated anyway. Blobs shorter than
/// 8 bytes are returned unchanged.
pub fn reseal(blob: &[u8]) -> Vec<u8> {
    let mut v = blob.to_vec();
    if let Some(n) = v.len().checked_sub(8) {
        let sum = checksum(&v[..n]);
        v[n..].copy_from_slice(&sum.to_le_bytes());
    }
    v
}

/// Build a container around a payload.
pub fn seal(
    format: i32,
    fingerprint: &[u8],
    dict: Option<(u32, [u8; 32])>,
    consumed: u64,
    produced: u64,
    payload: &[u8],
) -> Vec<u8> {
    seal_with(format, fingerprint, dict, consumed, produced, |w| {
        w.raw(payload);
        Ok(())
    })
    .expect("writing a byte slice cannot fail")
}

/// Size of the container around a payload of `payload_len` bytes.
pub fn sealed_len(fingerprint_len: usize, payload_len: usize) -> usize {
    4 + 2 + 2 + 4 + 1 + fingerprint_len + 4 + 32 + 8 + 8 + 8 + payload_len + 8
}

/// Check magic, version, checksum and lengths; return the fields. Nothing in the blob is
/// trusted before this passes.
pub fn open(blob: &[u8]) -> Result<Envelope<'_>> {
    if blob.len() < sealed_len(0, 0) {
        return Err(Error::state(format!(
            "state is {} bytes, shorter than the smallest valid state ({})",
            blob.len(),
            sealed_len(0, 0)
        )));
    }
    if blob[..4] != MAGIC {
        return Err(Error::state("not a libcodec decoder state (bad magic)"));
    }
    let (body, sum) = blob.split_at(blob.len() - 8);
    let want = u64::from_le_bytes(sum.try_into().unwrap());
    let mut r = StateReader::new(body);
    r.raw("magic", 4)?;
    let version = r.u16("version")?;
    if version != VERSION {
        return Err(Error::state(format!(
            "state container version {version} is not supported (this build reads version {VERSION})"
        )));
    }
    if checksum(body) != want {
        return Err(Error::state("state checksum mismatch: the state is corrupted"));
    }
    let format = r.u16("format")? as i32;
    let flags = r.u32("flags")?;
    if flags & !FLAG_DICT != 0 {
        return Err(Error::state(format!("unknown state flags {flags:#x}")));
    }
    let flen = r.u8("fingerprint length")? as usize;
    let fingerprint = r.raw("fingerprint", flen)?;
    let id = r.u32("dictionary id")?;
    let hash = r.array::<32>("dictionary hash")?;
    let dict = (flags & FLAG_DICT != 0).then_some((id, hash));
    // Far beyond any real stream, and low enough that counting on from there cannot overflow
    // (nor an input offset in an error message, an i64).
    let consumed = r.u64_in("consumed", 0, POSITION_MAX)?;
    let produced = r.u64_in("produced", 0, POSITION_MAX)?;
    let payload = r.bytes("payload", usize::MAX)?;
    r.finish()?;
    Ok(Envelope { format, fingerprint, dict, consumed, produced, payload })
}

/// For tests: write a state with `write` and read it back with `read`, the round trip every
/// unmarshal test starts from.
#[cfg(test)]
pub(crate) fn reload<T>(
    write: impl FnOnce(&mut StateWriter),
    read: impl FnOnce(&mut StateReader<'_>) -> Result<T>,
) -> Result<T> {
    let mut w = StateWriter::new();
    write(&mut w);
    let b = w.into_inner();
    read(&mut StateReader::new(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reseal_makes_an_altered_state_pass_the_checksum() {
        let blob = seal(4, b"fp", None, 100, 200, b"payload");
        assert_eq!(reseal(&blob), blob);
        let mut b = blob.clone();
        b[sealed_len(2, 0) - 8] ^= 1; // the first payload byte
        assert!(open(&b).unwrap_err().msg.contains("checksum"));
        assert_eq!(open(&reseal(&b)).unwrap().payload, b"qayload");
        assert_eq!(reseal(b"short"), b"short");
    }

    #[test]
    fn positions_are_bounded() {
        for (c, p, ok) in [(POSITION_MAX, POSITION_MAX, true), (POSITION_MAX + 1, 0, false), (0, u64::MAX, false)] {
            let blob = seal(4, b"", None, c, p, b"");
            assert_eq!(open(&blob).is_ok(), ok, "consumed {c}, produced {p}");
        }
    }

    #[test]
    fn seal_open_round_trip() {
        let blob = seal(4, b"fp", Some((7, [9; 32])), 100, 200, b"payload");
        assert_eq!(blob.len(), sealed_len(2, 7));
        let env = open(&blob).unwrap();
        assert_eq!(env.format, 4);
        assert_eq!(env.fingerprint, b"fp");
        assert_eq!(env.dict, Some((7, [9; 32])));
        assert_eq!((env.consumed, env.produced), (100, 200));
        assert_eq!(env.payload, b"payload");
    }

    #[test]
    fn every_flip_and_truncation_is_refused() {
        let blob = seal(1, b"", None, 1, 2, b"abc");
        for i in 0..blob.len() {
            for bit in 0..8 {
                let mut b = blob.clone();
                b[i] ^= 1 << bit;
                assert!(open(&b).is_err(), "flip at {i} bit {bit} accepted");
            }
        }
        for n in 0..blob.len() {
            assert!(open(&blob[..n]).is_err(), "truncation to {n} accepted");
        }
    }

    #[test]
    fn reader_bounds() {
        let mut w = StateWriter::new();
        w.bytes(&[1, 2, 3]);
        w.u32(5);
        let v = w.into_inner();
        let mut r = StateReader::new(&v);
        assert!(r.bytes("x", 2).is_err());
        let mut r = StateReader::new(&v);
        assert_eq!(r.bytes("x", 3).unwrap(), &[1, 2, 3]);
        assert!(r.u32_in("y", 6, 9).is_err());
        let mut r = StateReader::new(&v[..5]);
        assert!(r.bytes("x", 10).is_err());
    }
}
