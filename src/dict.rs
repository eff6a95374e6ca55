//! Dictionaries: immutable, reference-counted, shareable across threads and handles.
//!
//! A dictionary is either a zstd-format dictionary (magic `0xEC30A437`, an ID, entropy tables,
//! then content) or raw content (ID 0). Every format that can use one takes what it needs:
//! zstd the whole thing, LZ4 the last 64 KiB of the content, raw LZMA2 the content as a preset
//! dictionary. Digested forms (zstd CDict per level, DDict) are built once and cached here.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// zstd dictionary magic number (little-endian at offset 0).
pub(crate) const ZSTD_DICT_MAGIC: u32 = 0xEC30_A437;

pub struct Dict {
    bytes: Vec<u8>,
    id: u32,
    /// Offset of the content section (0 for raw dictionaries).
    content_start: usize,
    sha256: [u8; 32],
    /// Digested forms, built on first use.
    pub(crate) cache: crate::zstd::DictCache,
    /// LZ4's digested form (frame-compression CDict), built on first use.
    pub(crate) lz4_cache: crate::lz4::DictCache,
}

impl std::fmt::Debug for Dict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dict")
            .field("id", &self.id)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl Dict {
    /// Load a dictionary: zstd format if it starts with the zstd dictionary magic (then it
    /// must be well formed), raw content otherwise.
    pub fn load(bytes: &[u8]) -> Result<Dict> {
        if bytes.is_empty() {
            return Err(Error::invalid("dictionary is empty"));
        }
        let is_zstd = bytes.len() >= 4
            && u32::from_le_bytes(bytes[..4].try_into().unwrap()) == ZSTD_DICT_MAGIC;
        let (id, content_start) = if is_zstd {
            crate::zstd::dict_header(bytes)?
        } else {
            (0, 0)
        };
        Ok(Dict {
            bytes: bytes.to_vec(),
            id,
            content_start,
            sha256: Sha256::digest(bytes).into(),
            cache: Default::default(),
            lz4_cache: Default::default(),
        })
    }

    /// The dictionary exactly as loaded.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// The content section: what LZ-style formats use as history (everything for a raw
    /// dictionary, the part after the header and entropy tables for a zstd dictionary).
    pub fn content(&self) -> &[u8] {
        &self.bytes[self.content_start..]
    }
    /// The last `n` bytes of the content (LZ4 uses 64 KiB).
    pub fn content_tail(&self, n: usize) -> &[u8] {
        let c = self.content();
        &c[c.len().saturating_sub(n)..]
    }
    /// zstd dictionary ID; 0 for raw content.
    pub fn id(&self) -> u32 {
        self.id
    }
    pub fn is_zstd_format(&self) -> bool {
        self.content_start != 0
    }
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }
    /// `(id, sha256)`: how a marshalled state names the dictionary it needs.
    pub fn identity(&self) -> (u32, [u8; 32]) {
        (self.id, self.sha256)
    }
}
