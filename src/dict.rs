//! Dictionaries: immutable, reference-counted, shareable across threads and handles.
//!
//! A dictionary is either a zstd-format dictionary (magic `0xEC30A437`, an ID, entropy tables,
//! then content) or raw content (ID 0). Every format that can use one takes what it needs:
//! zstd the whole thing, LZ4 the last 64 KiB of the content, raw LZMA2 the content as a preset
//! dictionary. Digested forms (zstd CDict per level, DDict) are built once and cached here.

use sha2::{Digest, Sha256};

use crate::abi::{codec_train_params, CODEC_TRAIN_COVER, CODEC_TRAIN_FASTCOVER};
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
        f.debug_struct("Dict").field("id", &self.id).field("len", &self.bytes.len()).finish()
    }
}

impl Dict {
    /// Load a dictionary: zstd format if it starts with the zstd dictionary magic (then it
    /// must be well formed), raw content otherwise.
    pub fn load(bytes: &[u8]) -> Result<Dict> {
        if bytes.is_empty() {
            return Err(Error::invalid("dictionary is empty"));
        }
        let is_zstd = bytes.len() >= 4 && u32::from_le_bytes(bytes[..4].try_into().unwrap()) == ZSTD_DICT_MAGIC;
        let (id, content_start) = if is_zstd { crate::zstd::dict_header(bytes)? } else { (0, 0) };
        Ok(Dict {
            bytes: bytes.to_vec(),
            id,
            content_start,
            sha256: Sha256::digest(bytes).into(),
            cache: Default::default(),
            lz4_cache: Default::default(),
        })
    }

    /// Train a zstd dictionary of at most `capacity` bytes from `samples` (concatenated, split
    /// by `sizes`). `params` `None` trains like `zstd --train` (fastCover, d = 8, a 4-step
    /// search for k); zero fields of `params` let zstd choose or search.
    ///
    /// Inputs that zstd's trainers mishandle (too few or too small samples: facebook/zstd#3599
    /// crashes on a handful of one-byte samples) are refused with `Invalid` before training,
    /// and the search runs single-threaded unless asked (facebook/zstd#1746 saw a multithreaded
    /// search hang).
    pub fn train(
        samples: &[u8],
        sizes: &[usize],
        capacity: usize,
        params: Option<&codec_train_params>,
    ) -> Result<Dict> {
        const MIN_SAMPLES: usize = 8;
        const MIN_SAMPLE_LEN: usize = 8;
        const DICT_MIN: usize = 256;
        let total = sizes.iter().try_fold(0usize, |a, &n| a.checked_add(n));
        if total != Some(samples.len()) {
            return Err(Error::invalid("sample sizes do not add up to the samples buffer"));
        }
        let usable = sizes.iter().filter(|&&n| n >= MIN_SAMPLE_LEN).count();
        if usable < MIN_SAMPLES {
            return Err(Error::invalid(format!(
                "dictionary training needs at least {MIN_SAMPLES} samples of {MIN_SAMPLE_LEN} bytes or more ({usable} given)"
            )));
        }
        if capacity < DICT_MIN {
            return Err(Error::invalid(format!(
                "dictionary capacity {capacity} is below the minimum of {DICT_MIN} bytes"
            )));
        }
        if sizes.len() > u32::MAX as usize || samples.len() > (1 << 31) {
            return Err(Error::invalid("too many sample bytes for zstd's trainer (at most 2 GiB)"));
        }
        // `zstd --train`'s settings: fastCover, d = 8, a 4-step search for k, one thread.
        let cli_defaults =
            codec_train_params { algorithm: CODEC_TRAIN_FASTCOVER, d: 8, steps: 4, threads: 1, ..Default::default() };
        let o = params.unwrap_or(&cli_defaults);
        if o.algorithm != CODEC_TRAIN_FASTCOVER && o.algorithm != CODEC_TRAIN_COVER {
            return Err(Error::invalid(format!("unknown training algorithm {}", o.algorithm)));
        }
        if o.d != 0 && !(6..=16).contains(&o.d) || (o.k != 0 && o.k < o.d.max(6)) {
            return Err(Error::invalid(format!("training parameters k = {}, d = {} are out of range", o.k, o.d)));
        }
        let mut buf = crate::error::try_alloc_zeroed(capacity, "the dictionary")?;
        let n = crate::zstd::sys::train_dictionary(&mut buf, samples, sizes, o).map_err(|e| {
            Error::invalid(format!("zstd could not train a dictionary: {}", crate::zstd::sys::zdict_error_name(e)))
        })?;
        Dict::load(&buf[..n])
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
