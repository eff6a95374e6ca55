//! Integrity checks of .xz blocks (CRC32, CRC64, SHA-256) with state that is plain data, so a
//! decoder holding a half-computed check can be marshalled.

use crc::{Crc, CRC_64_XZ};
use sha2::digest::generic_array::GenericArray;

use crate::error::{Error, Result};
use crate::state::{StateReader, StateWriter};

pub(crate) static CRC64: Crc<u64, crc::Table<16>> = Crc::<u64, crc::Table<16>>::new(&CRC_64_XZ);

pub(crate) fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// Resumable CRC64 (xz flavour); `v` is the finalized value of the data so far.
pub(crate) fn crc64_update(v: u64, data: &[u8]) -> u64 {
    // The register of a finalized value `v` is `!v`; `digest_with_initial` reflects its
    // argument for this reflected algorithm, so hand it the reflected register.
    let mut d = CRC64.digest_with_initial((!v).reverse_bits());
    d.update(data);
    d.finalize()
}

/// SHA-256 with its own buffering; all fields are plain data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sha256 {
    h: [u32; 8],
    buf: [u8; 64],
    buf_len: u8,
    total: u64,
}

const SHA256_IV: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

impl Default for Sha256 {
    fn default() -> Self {
        Sha256 { h: SHA256_IV, buf: [0; 64], buf_len: 0, total: 0 }
    }
}

impl Sha256 {
    fn block(h: &mut [u32; 8], b: &[u8]) {
        sha2::compress256(h, std::slice::from_ref(GenericArray::from_slice(b)));
    }

    pub fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        let bl = self.buf_len as usize;
        if bl > 0 {
            let n = (64 - bl).min(data.len());
            self.buf[bl..bl + n].copy_from_slice(&data[..n]);
            self.buf_len += n as u8;
            data = &data[n..];
            if self.buf_len < 64 {
                return;
            }
            let b = self.buf;
            Self::block(&mut self.h, &b);
            self.buf_len = 0;
        }
        let mut chunks = data.chunks_exact(64);
        for c in &mut chunks {
            Self::block(&mut self.h, c);
        }
        let r = chunks.remainder();
        self.buf[..r.len()].copy_from_slice(r);
        self.buf_len = r.len() as u8;
    }

    pub fn finish(&self) -> [u8; 32] {
        let mut s = self.clone();
        let bits = s.total.wrapping_mul(8);
        s.update(&[0x80]);
        while s.buf_len != 56 {
            s.update(&[0]);
        }
        s.update(&bits.to_be_bytes());
        let mut out = [0u8; 32];
        for (o, w) in out.chunks_exact_mut(4).zip(s.h.iter()) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        out
    }

    pub fn marshal(&self, w: &mut StateWriter) {
        for v in self.h {
            w.u32(v);
        }
        w.bytes(&self.buf[..self.buf_len as usize]);
        w.u64(self.total);
    }

    pub fn unmarshal(r: &mut StateReader<'_>) -> Result<Self> {
        let mut h = [0u32; 8];
        for v in h.iter_mut() {
            *v = r.u32("sha256 state")?;
        }
        let b = r.bytes("sha256 buffer", 63)?;
        let total = r.u64("sha256 length")?;
        if total % 64 != b.len() as u64 {
            return Err(Error::state("sha256 buffer length disagrees with the total"));
        }
        let mut buf = [0u8; 64];
        buf[..b.len()].copy_from_slice(b);
        Ok(Sha256 { h, buf, buf_len: b.len() as u8, total })
    }
}

/// The check of one block in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    None,
    Crc32(u32),
    Crc64(u64),
    Sha256(Box<Sha256>),
    /// A check type this decoder does not compute: its bytes are read and not verified
    /// (liblzma does the same unless told otherwise).
    Unsupported(u8),
}

/// Size in bytes of the check field for each of the 16 check IDs.
pub(crate) fn check_size(id: u8) -> usize {
    match id {
        0 => 0,
        1..=3 => 4,
        4..=6 => 8,
        7..=9 => 16,
        10..=12 => 32,
        _ => 64,
    }
}

impl Check {
    pub fn new(id: u8) -> Check {
        match id {
            0 => Check::None,
            1 => Check::Crc32(0),
            4 => Check::Crc64(0),
            10 => Check::Sha256(Box::default()),
            n => Check::Unsupported(n),
        }
    }

    pub fn id(&self) -> u8 {
        match self {
            Check::None => 0,
            Check::Crc32(_) => 1,
            Check::Crc64(_) => 4,
            Check::Sha256(_) => 10,
            Check::Unsupported(n) => *n,
        }
    }

    #[inline]
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Check::None | Check::Unsupported(_) => {}
            Check::Crc32(c) => {
                let mut h = crc32fast::Hasher::new_with_initial(*c);
                h.update(data);
                *c = h.finalize();
            }
            Check::Crc64(c) => *c = crc64_update(*c, data),
            Check::Sha256(s) => s.update(data),
        }
    }

    /// Compare with the stored check field (`check_size` bytes). `None` = unverifiable type.
    pub fn matches(&self, field: &[u8]) -> Option<bool> {
        match self {
            Check::None => Some(true),
            Check::Crc32(c) => Some(field == c.to_le_bytes()),
            Check::Crc64(c) => Some(field == c.to_le_bytes()),
            Check::Sha256(s) => Some(field == s.finish()),
            Check::Unsupported(_) => None,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Check::None => "none",
            Check::Crc32(_) => "CRC32",
            Check::Crc64(_) => "CRC64",
            Check::Sha256(_) => "SHA-256",
            Check::Unsupported(_) => "unsupported",
        }
    }

    pub fn marshal(&self, w: &mut StateWriter) {
        w.u8(self.id());
        match self {
            Check::None | Check::Unsupported(_) => {}
            Check::Crc32(c) => w.u32(*c),
            Check::Crc64(c) => w.u64(*c),
            Check::Sha256(s) => s.marshal(w),
        }
    }

    pub fn unmarshal(r: &mut StateReader<'_>) -> Result<Check> {
        let id = r.u8_max("check type", 15)?;
        Ok(match id {
            0 => Check::None,
            1 => Check::Crc32(r.u32("crc32")?),
            4 => Check::Crc64(r.u64("crc64")?),
            10 => Check::Sha256(Box::new(Sha256::unmarshal(r)?)),
            n => Check::Unsupported(n),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    #[test]
    fn sha256_matches_sha2() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        for split in [0, 1, 63, 64, 65, 500, 1000] {
            let mut s = Sha256::default();
            s.update(&data[..split]);
            s.update(&data[split..]);
            let want: [u8; 32] = sha2::Sha256::digest(&data).into();
            assert_eq!(s.finish(), want);
        }
    }

    #[test]
    fn crc64_resumable() {
        let data = b"123456789";
        assert_eq!(crc64_update(0, data), 0x995D_C9BB_DF19_39FA);
        let a = crc64_update(0, &data[..4]);
        assert_eq!(crc64_update(a, &data[4..]), 0x995D_C9BB_DF19_39FA);
    }
}
