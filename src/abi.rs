//! The C vocabulary of libcodec: status codes, formats, actions, parameters, checks and the
//! frame-header struct.
//!
//! Every number the C header exposes is defined here exactly once, as a typed constant that
//! cbindgen turns into a `#define`. The Rust cores use these same constants, so there is no
//! second table to drift. Values are append-only: they are never renumbered or reused.
//!
//! The types are plain `int32_t` aliases rather than C enums on purpose: a C caller may pass
//! any integer, and an out-of-range value must come back as `CODEC_E_INVALID`, which a Rust
//! enum received across the boundary could not guarantee.
#![allow(non_camel_case_types)]
#![deny(missing_docs)]

/// Result of every fallible libcodec call. `0` is success, positive values are informational
/// (the call succeeded but wants attention), negative values are errors. Values never change
/// between releases; new ones are only appended.
pub type codec_status = i32;

/// The call did everything it was asked to do.
pub const CODEC_OK: codec_status = 0;
/// The output buffer is full: call again with more room (the input may be empty).
pub const CODEC_MORE_OUTPUT: codec_status = 1;
/// Decoder: a frame (or .xz stream) just ended and all of its output has been delivered.
/// The bytes after it (`src + *src_read`) belong to the next frame; the next call decodes them.
pub const CODEC_FRAME_END: codec_status = 2;
/// A required pointer argument was NULL.
pub const CODEC_E_NULL: codec_status = -1;
/// An argument or parameter value is invalid or out of bounds.
pub const CODEC_E_INVALID: codec_status = -2;
/// Not supported by this format or configuration (for example sync flush on `.lzma`).
pub const CODEC_E_UNSUPPORTED: codec_status = -3;
/// Call out of order: a parameter after the first byte, or use of a handle after an error
/// before `codec_*_reset`.
pub const CODEC_E_SEQUENCE: codec_status = -4;
/// Malformed compressed data.
pub const CODEC_E_CORRUPT: codec_status = -5;
/// A checksum in the compressed data does not match.
pub const CODEC_E_CHECKSUM: codec_status = -6;
/// The input ended inside a frame (one-shot calls; streaming callers see
/// `!codec_decoder_at_frame_edge` instead).
pub const CODEC_E_TRUNCATED: codec_status = -7;
/// The data needs a dictionary that was not supplied, or a different one.
pub const CODEC_E_DICT: codec_status = -8;
/// Decoding would exceed the configured memory or window limit.
pub const CODEC_E_MEMLIMIT: codec_status = -9;
/// The destination buffer is too small (one-shot calls, marshal).
pub const CODEC_E_BUFFER: codec_status = -10;
/// A marshalled decoder state is invalid, corrupted, or from an incompatible build.
pub const CODEC_E_STATE: codec_status = -11;
/// Memory allocation failed.
pub const CODEC_E_NOMEM: codec_status = -12;
/// An internal bug was caught at the library boundary; the handle is poisoned and every later
/// call on it returns `CODEC_E_PANIC`. Free it and report the bug.
pub const CODEC_E_PANIC: codec_status = -13;
/// An error from an underlying C library with no better mapping.
pub const CODEC_E_INTERNAL: codec_status = -14;

/// A compression format.
pub type codec_format = i32;

/// Decoders and one-shot decompression only: detect the format from its magic number
/// (zstd, LZ4 frame, xz, .lzma).
pub const CODEC_FORMAT_AUTO: codec_format = 0;
/// Zstandard frames; decoders accept concatenated and skippable frames.
pub const CODEC_FORMAT_ZSTD: codec_format = 1;
/// The LZ4 frame format; decoders accept concatenated and skippable frames.
pub const CODEC_FORMAT_LZ4_FRAME: codec_format = 2;
/// LZ4 block streaming as python-lz4's `lz4.stream`: blocks compressed with history across
/// blocks, each prefixed by its compressed length (0, 1, 2 or 4 bytes little-endian; 4 by
/// default; 0 means the caller keeps block sizes out of band).
pub const CODEC_FORMAT_LZ4_BLOCKS: codec_format = 3;
/// The .xz container (LZMA2, optional delta / x86 BCJ filters); decoders accept concatenated
/// streams and stream padding.
pub const CODEC_FORMAT_XZ: codec_format = 4;
/// Raw LZMA2 with no container; supports a preset dictionary. The decoder must be told the
/// dictionary size (`CODEC_PARAM_XZ_DICT_SIZE`, default 8 MiB).
pub const CODEC_FORMAT_LZMA2_RAW: codec_format = 5;
/// Legacy `.lzma` (LZMA1, "LZMA_Alone"). It cannot sync-flush.
pub const CODEC_FORMAT_LZMA_ALONE: codec_format = 6;

/// What an encoder call should do after consuming its input.
pub type codec_action = i32;

/// Consume input; emit output whenever the format likes.
pub const CODEC_CONTINUE: codec_action = 0;
/// Make everything given so far decodable by any decoder of the format, without ending the
/// frame (zstd block flush, LZ4 frame flush, LZ4 block emit, LZMA2 sync flush).
pub const CODEC_FLUSH: codec_action = 1;
/// End the frame / stream. The encoder then starts a new frame with the next byte.
pub const CODEC_FINISH: codec_action = 2;

/// Integrity checks, as reported in `codec_frame_header.checksum` and accepted by
/// `CODEC_PARAM_XZ_CHECK`. The xz values equal the .xz format's check IDs.
pub type codec_check = i32;

/// No check.
pub const CODEC_CHECK_NONE: codec_check = 0;
/// CRC32 (.xz).
pub const CODEC_CHECK_CRC32: codec_check = 1;
/// CRC64 (.xz; the default of the xz tool).
pub const CODEC_CHECK_CRC64: codec_check = 4;
/// SHA-256 (.xz).
pub const CODEC_CHECK_SHA256: codec_check = 10;
/// XXH32 of the content (LZ4 frame content checksum).
pub const CODEC_CHECK_XXH32: codec_check = 32;
/// Low 32 bits of XXH64 of the content (zstd frame checksum).
pub const CODEC_CHECK_XXH64: codec_check = 64;

/// Bit in `codec_frame_header.flags`: the frame is a skippable frame (zstd or LZ4).
pub const CODEC_FRAME_FLAG_SKIPPABLE: u32 = 1;
/// Bit in `codec_frame_header.flags`: LZ4 frame blocks are linked (each may reference the
/// previous 64 KiB).
pub const CODEC_FRAME_FLAG_LINKED_BLOCKS: u32 = 2;
/// Bit in `codec_frame_header.flags`: every LZ4 block carries its own XXH32.
pub const CODEC_FRAME_FLAG_BLOCK_CHECKSUM: u32 = 4;

/// Value of `codec_frame_header.content_size` when the frame does not record it.
pub const CODEC_CONTENT_SIZE_UNKNOWN: u64 = 0xFFFF_FFFF_FFFF_FFFF;

/// `codec_compress` level meaning "the format's default level".
pub const CODEC_LEVEL_DEFAULT: i32 = -0x7FFF_FFFF - 1;

/// A tunable of an encoder or decoder, set with `codec_encoder_set_param` /
/// `codec_decoder_set_param` before the first byte of a stream. `codec_param_bounds` gives the
/// accepted range of each for a format, and `CODEC_E_UNSUPPORTED` for one that does not apply.
/// Generic parameters come first; format-specific ones carry the format in their name.
pub type codec_param = i32;

/// Compression level. zstd: -131072..22 (default 3). LZ4 frame and LZ4 blocks: negative
/// values are fast modes with acceleration `-level`, 0..2 the default fast mode, 3..12
/// high compression. xz / raw LZMA2 / .lzma: preset 0..9 (default 6).
pub const CODEC_PARAM_LEVEL: codec_param = 1;
/// Content checksum. zstd: 0/1 (XXH64, default 0). LZ4 frame: 0/1 (XXH32 content checksum,
/// default 0). xz: the check type, a `codec_check` value (NONE, CRC32, CRC64 (default) or
/// SHA256).
pub const CODEC_PARAM_CHECKSUM: codec_param = 2;
/// Worker threads. Encoders: zstd (0 = single-threaded, default; n = n zstdmt workers, jobs
/// sized as `CODEC_PARAM_ZSTD_JOB_SIZE` says), xz
/// (1 = single-threaded, default; n > 1 = liblzma's multithreaded encoder, blocks of
/// `CODEC_PARAM_XZ_BLOCK_SIZE`), LZ4 frame (0 or 1 = sequential, default; n > 1 = independent
/// blocks compressed in parallel, byte-identical to the sequential output; linked blocks are
/// always compressed sequentially, since each depends on the one before).
///
/// Threads: the calling thread and n - 1 others. LZ4 decoding of several blocks given in one
/// call (complete in the input, with room for them in the output) runs on helper threads
/// started for that call and joined before it returns, straight from the caller's input into
/// its output. Other work (compression, xz decoding, LZ4 input arriving in smaller pieces) runs
/// on one shared, process-wide pool of n - 1 workers that keeps working between calls and
/// exits when no handle uses it.
///
/// Decoders (LZ4 frame and xz, 1..=256): 1 = sequential (default); n > 1 = independent blocks
/// decoded in parallel by n threads: LZ4 frames with independent blocks,
/// .xz blocks whose headers record their sizes (liblzma's multithreaded encoder writes them;
/// other blocks are decoded sequentially). Output, errors and the output before an error are
/// those of the sequential decoder. Parallelism needs input: only blocks complete in the input
/// given are decoded together (give several blocks per call, and for LZ4 output room for
/// several blocks: with room for one, every other block is decoded ahead into the decoder's
/// buffer and copied out by the next call), and every call still delivers all
/// the output its input allows before asking for more. Marshal and clone work at any point:
/// a parallel decoder marshals as the sequential state at the output delivered so far plus the
/// compressed input after it as held input (an .xz block partly delivered is re-decoded up to
/// there), and the restored decoder keeps its thread count; a clone shares the work in flight.
pub const CODEC_PARAM_THREADS: codec_param = 3;
/// Decoders: the most memory (bytes) the window or dictionary may need. xz, .lzma and raw
/// LZMA2: default 256 MiB. zstd: sets the window limit to the largest power of two not above
/// it (default 2^27 = 128 MiB, as `CODEC_PARAM_ZSTD_WINDOW_LOG_MAX` 27). Raising it accepts
/// larger windows; data needing more fails with `CODEC_E_MEMLIMIT` before anything is
/// allocated. LZ4 decoders need no limit (the formats bound their blocks) and refuse it with
/// `CODEC_E_UNSUPPORTED`.
pub const CODEC_PARAM_MEMLIMIT: codec_param = 4;
/// Testing aid: setting this parameter (any value) panics inside the library, so that a
/// caller can check the panic boundary (`CODEC_E_PANIC`, handle poisoned). Never useful in
/// production.
pub const CODEC_PARAM_DEBUG_PANIC: codec_param = 99;

/// zstd: log2 of the window size (10..31; 0 = from level).
pub const CODEC_PARAM_ZSTD_WINDOW_LOG: codec_param = 101;
/// zstd: log2 of the match-finder hash table size (0 = from level).
pub const CODEC_PARAM_ZSTD_HASH_LOG: codec_param = 102;
/// zstd: log2 of the match-finder chain / tree size (0 = from level).
pub const CODEC_PARAM_ZSTD_CHAIN_LOG: codec_param = 103;
/// zstd: log2 of the number of match-finder searches (0 = from level).
pub const CODEC_PARAM_ZSTD_SEARCH_LOG: codec_param = 104;
/// zstd: minimum match length (0 = from level).
pub const CODEC_PARAM_ZSTD_MIN_MATCH: codec_param = 105;
/// zstd: target match length; strategy-dependent meaning (0 = from level).
pub const CODEC_PARAM_ZSTD_TARGET_LENGTH: codec_param = 106;
/// zstd: match-finder strategy, 1 (fast) .. 9 (btultra2) (0 = from level).
pub const CODEC_PARAM_ZSTD_STRATEGY: codec_param = 107;
/// zstd: long-distance matching (0 = auto, 1 = on, 2 = off).
pub const CODEC_PARAM_ZSTD_ENABLE_LONG_DISTANCE_MATCHING: codec_param = 108;
/// zstd: log2 of the long-distance-matching hash table size (0 = default).
pub const CODEC_PARAM_ZSTD_LDM_HASH_LOG: codec_param = 109;
/// zstd: long-distance-matching minimum match length (0 = default).
pub const CODEC_PARAM_ZSTD_LDM_MIN_MATCH: codec_param = 110;
/// zstd: log2 of the long-distance-matching bucket size (0 = default).
pub const CODEC_PARAM_ZSTD_LDM_BUCKET_SIZE_LOG: codec_param = 111;
/// zstd: log2 of the long-distance-matching insertion rate (0 = default).
pub const CODEC_PARAM_ZSTD_LDM_HASH_RATE_LOG: codec_param = 112;
/// zstd: write the content size in the frame header when known (0/1, default 1).
pub const CODEC_PARAM_ZSTD_CONTENT_SIZE_FLAG: codec_param = 113;
/// zstd: append an XXH64 content checksum (0/1, default 0); the same as `CODEC_PARAM_CHECKSUM`.
pub const CODEC_PARAM_ZSTD_CHECKSUM_FLAG: codec_param = 114;
/// zstd: write the dictionary ID in the frame header (0/1, default 1).
pub const CODEC_PARAM_ZSTD_DICT_ID_FLAG: codec_param = 115;
/// zstd: worker threads (0 = single-threaded); the same as `CODEC_PARAM_THREADS`.
pub const CODEC_PARAM_ZSTD_NB_WORKERS: codec_param = 116;
/// zstd, multithreaded: size of each compression job in bytes; 0 = zstd's own choice,
/// 2^max(20, window log + 2) bytes without long-distance matching. Not set: libcodec's
/// choice, which is 4 MiB (at least 4 times the jobs' overlap) where zstd's would be larger
/// and the strategy is lazy2 or faster without long-distance matching (levels 3 to 12 with
/// their own window and strategy, where zstd's 8-16 MiB jobs leave a worker idle on input of
/// a few jobs; output stays within about 0.3 % of zstd's), and zstd's choice elsewhere.
/// Chosen at the start of each frame from the parameters then set; the output does not
/// depend on the number of workers.
pub const CODEC_PARAM_ZSTD_JOB_SIZE: codec_param = 117;
/// zstd, multithreaded: overlap between jobs, 0 (default) .. 9 (full window).
pub const CODEC_PARAM_ZSTD_OVERLAP_LOG: codec_param = 118;
/// zstd decoder: log2 of the largest window accepted (10..31, default 27 = 128 MiB).
pub const CODEC_PARAM_ZSTD_WINDOW_LOG_MAX: codec_param = 119;

/// LZ4 frame: maximum block size in bytes: 65536 (default), 262144, 1048576 or 4194304.
pub const CODEC_PARAM_LZ4_BLOCK_SIZE: codec_param = 201;
/// LZ4 frame: 1 = linked blocks (default; better ratio), 0 = independent blocks.
pub const CODEC_PARAM_LZ4_LINKED_BLOCKS: codec_param = 202;
/// LZ4 frame: content checksum (0/1, default 0); the same as `CODEC_PARAM_CHECKSUM`.
pub const CODEC_PARAM_LZ4_CONTENT_CHECKSUM: codec_param = 203;
/// LZ4 frame: per-block checksum (0/1, default 0).
pub const CODEC_PARAM_LZ4_BLOCK_CHECKSUM: codec_param = 204;
/// LZ4 frame, high-compression levels: favour decompression speed over ratio (0/1).
pub const CODEC_PARAM_LZ4_FAVOR_DEC_SPEED: codec_param = 205;

/// LZ4 blocks: page size in bytes, the largest uncompressed block (default 65536). Encoder
/// and decoder must agree. It bounds the decoder's memory: one block of at most the page size,
/// whose compressed length may not exceed LZ4's bound for a page.
pub const CODEC_PARAM_LZ4BLOCKS_PAGE_SIZE: codec_param = 301;
/// LZ4 blocks: width of the little-endian compressed-length prefix: 0, 1, 2 or 4 (default).
/// Encoder and decoder must agree.
pub const CODEC_PARAM_LZ4BLOCKS_PREFIX_WIDTH: codec_param = 302;
/// LZ4 blocks, fast mode: acceleration (1 = default, higher is faster).
pub const CODEC_PARAM_LZ4BLOCKS_ACCELERATION: codec_param = 303;
/// LZ4 blocks: high-compression level 1..12; 0 (default) selects fast mode.
pub const CODEC_PARAM_LZ4BLOCKS_HC_LEVEL: codec_param = 304;

/// xz / raw LZMA2 / .lzma: preset 0..9 (default 6); the same as `CODEC_PARAM_LEVEL`.
pub const CODEC_PARAM_XZ_PRESET: codec_param = 401;
/// xz / raw LZMA2 / .lzma: the "extreme" variant of the preset (0/1).
pub const CODEC_PARAM_XZ_EXTREME: codec_param = 402;
/// xz: check type, a `codec_check` value; the same as `CODEC_PARAM_CHECKSUM`.
pub const CODEC_PARAM_XZ_CHECK: codec_param = 403;
/// LZMA dictionary size in bytes (4096 .. 1.5 GiB). Encoders: overrides the preset. Raw LZMA2
/// decoder: the dictionary size the stream was made with (default 8 MiB); above
/// `CODEC_PARAM_MEMLIMIT` (default 256 MiB) decoding fails with `CODEC_E_MEMLIMIT`.
pub const CODEC_PARAM_XZ_DICT_SIZE: codec_param = 404;
/// LZMA literal context bits, 0..4 (lc + lp <= 4).
pub const CODEC_PARAM_XZ_LC: codec_param = 405;
/// LZMA literal position bits, 0..4 (lc + lp <= 4).
pub const CODEC_PARAM_XZ_LP: codec_param = 406;
/// LZMA position bits, 0..4.
pub const CODEC_PARAM_XZ_PB: codec_param = 407;
/// LZMA compression mode: 1 = fast, 2 = normal.
pub const CODEC_PARAM_XZ_MODE: codec_param = 408;
/// LZMA match finder: 0x03 hc3, 0x04 hc4, 0x12 bt2, 0x13 bt3, 0x14 bt4 (liblzma's values).
pub const CODEC_PARAM_XZ_MATCH_FINDER: codec_param = 409;
/// LZMA nice match length, 2..273.
pub const CODEC_PARAM_XZ_NICE_LEN: codec_param = 410;
/// LZMA match-finder search depth (0 = automatic).
pub const CODEC_PARAM_XZ_DEPTH: codec_param = 411;
/// xz / raw LZMA2: put a delta filter with this distance (1..256) before LZMA2; 0 = none.
/// The raw LZMA2 decoder must be given the same value.
pub const CODEC_PARAM_XZ_DELTA_DIST: codec_param = 412;
/// xz / raw LZMA2: put the x86 BCJ filter before LZMA2 (0/1). Sync flush is then
/// unsupported. The raw LZMA2 decoder must be given the same value.
pub const CODEC_PARAM_XZ_BCJ_X86: codec_param = 413;
/// xz, multithreaded encoder: uncompressed size of each block in bytes (0 = automatic).
pub const CODEC_PARAM_XZ_BLOCK_SIZE: codec_param = 414;

/// A dictionary-training algorithm (zstd's trainers).
pub type codec_train_algorithm = i32;

/// zstd's fastCover trainer (the default; what `zstd --train` uses).
pub const CODEC_TRAIN_FASTCOVER: codec_train_algorithm = 0;
/// zstd's COVER trainer: slower, sometimes slightly better.
pub const CODEC_TRAIN_COVER: codec_train_algorithm = 1;

/// Options for `codec_dict_train_ex`. All-zero fields mean "let zstd choose": an all-zero
/// struct optimises k and d with fastCover.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct codec_train_params {
    /// `CODEC_TRAIN_FASTCOVER` or `CODEC_TRAIN_COVER`.
    pub algorithm: codec_train_algorithm,
    /// Segment size; 0 = search for the best (50..2000).
    pub k: u32,
    /// Dmer size (6..16, at most k); 0 = try 6 and 8.
    pub d: u32,
    /// Number of k values to try when searching; 0 = zstd's default.
    pub steps: u32,
    /// zstd compression level to tune the dictionary's entropy tables for; 0 = default (3).
    pub level: i32,
    /// Threads for the search (0 or 1 = single-threaded).
    pub threads: u32,
    /// Dictionary ID to write; 0 = random (zstd reserves IDs <= 32767 and >= 2^31).
    pub dict_id: u32,
}

/// What `codec_frame_info` learns from the start of a frame. Fields that do not apply to the
/// format are 0 (or `CODEC_CONTENT_SIZE_UNKNOWN` for `content_size`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct codec_frame_header {
    /// The frame's format.
    pub format: codec_format,
    /// Size in bytes of the frame (or stream) header.
    pub header_size: u32,
    /// Decompressed size recorded in the header, or `CODEC_CONTENT_SIZE_UNKNOWN`.
    pub content_size: u64,
    /// Window (zstd) or dictionary (xz, .lzma) size the decoder needs, in bytes.
    pub window_size: u64,
    /// Maximum block size (LZ4 frame), in bytes.
    pub block_size: u64,
    /// Dictionary ID the frame requires (zstd, LZ4 frame); 0 = none recorded.
    pub dict_id: u32,
    /// Integrity check of the content, a `codec_check` value.
    pub checksum: codec_check,
    /// `CODEC_FRAME_FLAG_*` bits.
    pub flags: u32,
}

/// What `codec_state_info` reads from a marshalled decoder state without restoring it.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct codec_state_header {
    /// The format the decoder was created with (`CODEC_FORMAT_AUTO` for an AUTO decoder).
    pub format: codec_format,
    /// ID of the dictionary the state needs (0 for a raw-content dictionary or none).
    pub dict_id: u32,
    /// 1 when the state needs a dictionary to be restored, else 0.
    pub needs_dict: u32,
    /// Input bytes the decoder had consumed: resume feeding from this offset.
    pub consumed: u64,
    /// Output bytes the decoder had delivered.
    pub produced: u64,
}

/// Human-readable name of a status value ("CODEC_E_STATE"); `CODEC_UNKNOWN_STATUS` for
/// anything else.
pub fn status_name(st: i32) -> &'static std::ffi::CStr {
    match st {
        CODEC_OK => c"CODEC_OK",
        CODEC_MORE_OUTPUT => c"CODEC_MORE_OUTPUT",
        CODEC_FRAME_END => c"CODEC_FRAME_END",
        CODEC_E_NULL => c"CODEC_E_NULL",
        CODEC_E_INVALID => c"CODEC_E_INVALID",
        CODEC_E_UNSUPPORTED => c"CODEC_E_UNSUPPORTED",
        CODEC_E_SEQUENCE => c"CODEC_E_SEQUENCE",
        CODEC_E_CORRUPT => c"CODEC_E_CORRUPT",
        CODEC_E_CHECKSUM => c"CODEC_E_CHECKSUM",
        CODEC_E_TRUNCATED => c"CODEC_E_TRUNCATED",
        CODEC_E_DICT => c"CODEC_E_DICT",
        CODEC_E_MEMLIMIT => c"CODEC_E_MEMLIMIT",
        CODEC_E_BUFFER => c"CODEC_E_BUFFER",
        CODEC_E_STATE => c"CODEC_E_STATE",
        CODEC_E_NOMEM => c"CODEC_E_NOMEM",
        CODEC_E_PANIC => c"CODEC_E_PANIC",
        CODEC_E_INTERNAL => c"CODEC_E_INTERNAL",
        _ => c"CODEC_UNKNOWN_STATUS",
    }
}
