"""pyzstd 0.2.x's API on libcodec.

``compress``, ``decompress``, ``ZstdCompressor`` (``compress(data, end_directive)``,
``flush(end_frame)``, ``last_end_directive``), ``ZstdDecompressor`` (multi-frame, with
``decompress(data, max_length)``, ``needs_input``, ``at_frame_edge``), ``EndDirective``,
``ZstdDict``, ``train_dict``, ``get_frame_info``, ``get_frame_size``, ``CompressParameter``,
``DecompressParameter`` (``.bounds()``), ``Strategy``, ``ZstdError``.

Behaviour follows pyzstd's later, corrected versions where 0.2.4 had bugs:

* ``decompress()`` of truncated data raises ``ZstdError`` (0.2.4 returned partial output), and
  so does ``decompress(b'')`` and data with trailing garbage;
* ``ZstdDecompressor.at_frame_edge`` stays true over empty calls, and requires both input and
  output to be at a frame edge (0.2.4's flag looked at the output only);
* after an error a ``ZstdDecompressor`` / ``ZstdCompressor`` is reset (0.2.4 kept the broken
  session), so it can be used again;
* ``train_dict`` returns the dictionary at its trained size (0.2.4 padded it to ``dict_size``)
  and rejects empty samples or ``dict_size <= 0`` with ``ValueError``.

``CompressParameter.X.bounds()`` are libcodec's bounds for zstd 1.5.7: parameters documented as
"0 = default" include 0, and ``enableLongDistanceMatching`` is ``(0, 2)`` (zstd 1.5's
auto/enable/disable switch; pyzstd 0.2.4 bundled zstd 1.4.5, where it was ``(0, 1)``).
"""
from __future__ import annotations

import enum
from collections import namedtuple
from typing import Any, Iterable, Optional, Tuple, Union

from .. import _abi
from .._core import CodecError, Decoder, Dict, Encoder, Format, decompress as _decompress, frame_info as _frame_info
from .._core import _param_id, frame_size as _frame_size, param_bounds, version as _version

__all__ = [
    "compress", "decompress", "ZstdCompressor", "ZstdDecompressor", "EndDirective", "ZstdDict", "train_dict",
    "get_frame_info", "get_frame_size", "CompressParameter", "DecompressParameter", "Strategy", "ZstdError",
    "zstd_version", "zstd_version_info", "frame_info",
]

zstd_version = "1.5.7"
zstd_version_info = (1, 5, 7)
for _part in _version().split("("):
    if "zstd" in _part:
        zstd_version = _part.split("zstd ")[1].split(",")[0].strip(") ")
        zstd_version_info = tuple(int(x) for x in zstd_version.split("."))


class ZstdError(Exception):
    """An error from the zstd library (here: from libcodec)."""


def _zstd_error(e: CodecError, what: str) -> ZstdError:
    if e.status == _abi.CODEC_E_TRUNCATED:
        msg = f"{what} failed: zstd data ends in an incomplete frame, maybe the input data was truncated. {e.message}"
    elif e.status == _abi.CODEC_E_CHECKSUM:
        msg = f"{what} failed: Restored data doesn't match checksum. {e.message}"
    elif e.status == _abi.CODEC_E_MEMLIMIT:
        msg = f"{what} failed: Frame requires too much memory for decoding. {e.message}"
    elif e.status == _abi.CODEC_E_CORRUPT and ("unrecognised" in e.message or "magic" in e.message):
        msg = f"{what} failed: Unknown frame descriptor. {e.message}"
    else:
        msg = f"{what} failed: {e.message or e.name}"
    err = ZstdError(msg)
    err.__cause__ = e
    return err


class EndDirective(enum.IntEnum):
    """Stream compressor's end directive."""

    CONTINUE = 0
    FLUSH = 1
    END = 2


class Strategy(enum.IntEnum):
    """Values of ``CompressParameter.strategy``, from fast to strong."""

    fast = 1
    dfast = 2
    greedy = 3
    lazy = 4
    lazy2 = 5
    btlazy2 = 6
    btopt = 7
    btultra = 8
    btultra2 = 9


# zstd's parameter numbers -> libcodec keyword
_CPARAM_KEYWORDS = {
    100: "level", 101: "window_log", 102: "hash_log", 103: "chain_log", 104: "search_log", 105: "min_match",
    106: "target_length", 107: "strategy", 160: "enable_long_distance_matching", 161: "ldm_hash_log",
    162: "ldm_min_match", 163: "ldm_bucket_size_log", 164: "ldm_hash_rate_log", 200: "content_size_flag",
    201: "checksum_flag", 202: "dict_id_flag", 400: "nb_workers", 401: "job_size", 402: "overlap_log",
}
_DPARAM_KEYWORDS = {100: "window_log_max"}


class CompressParameter(enum.IntEnum):
    """Advanced compression parameters (zstd's ``ZSTD_cParameter`` values)."""

    compressionLevel = 100
    windowLog = 101
    hashLog = 102
    chainLog = 103
    searchLog = 104
    minMatch = 105
    targetLength = 106
    strategy = 107
    enableLongDistanceMatching = 160
    ldmHashLog = 161
    ldmMinMatch = 162
    ldmBucketSizeLog = 163
    ldmHashRateLog = 164
    contentSizeFlag = 200
    checksumFlag = 201
    dictIDFlag = 202
    nbWorkers = 400
    jobSize = 401
    overlapLog = 402

    def bounds(self) -> Tuple[int, int]:
        """Lower and upper bounds of the parameter, both inclusive."""
        return param_bounds("zstd", _CPARAM_KEYWORDS[self.value])


class DecompressParameter(enum.IntEnum):
    """Advanced decompression parameters (zstd's ``ZSTD_dParameter`` values)."""

    windowLogMax = 100

    def bounds(self) -> Tuple[int, int]:
        """Lower and upper bounds of the parameter, both inclusive."""
        lo, hi = param_bounds("zstd", _DPARAM_KEYWORDS[self.value])
        return lo, hi


def _int32(v: Any, what: str) -> int:
    if not isinstance(v, int):
        raise TypeError(f"{what} should be an int, not {type(v).__name__}")
    if not -(1 << 31) <= v < (1 << 31):
        raise ValueError(f"{what} should be a 32-bit signed int value")
    return v


def _param_name(key: int, table: dict) -> str:
    try:
        return (CompressParameter if table is _CPARAM_KEYWORDS else DecompressParameter)(key).name
    except ValueError:
        return f"unknown parameter (key {key})"


def _apply(handle: Any, table: dict, option: dict, kind: str) -> None:
    """Set each parameter of a pyzstd option dict on a libcodec encoder/decoder."""
    for key, value in option.items():
        key = _int32(int(key) if isinstance(key, enum.IntEnum) else key, "Key of option dict")
        value = _int32(value, "Value of option dict")
        name = _param_name(key, table)
        if key not in table:
            raise ZstdError(f'Error when setting zstd {kind} parameter "{name}", it should be a valid parameter.')
        keyword = table[key]
        lo, hi = param_bounds("zstd", keyword)
        if keyword == "level":
            value = min(max(value, lo), hi)  # zstd clamps levels
        try:
            handle._set(_abi.CODEC_PARAM_LEVEL if keyword == "level" else _param_id(Format.ZSTD, keyword), value,
                        keyword)
        except (CodecError, TypeError):
            raise ZstdError(
                f'Error when setting zstd {kind} parameter "{name}", it should {lo} <= value <= {hi}, '
                f"provided value is {value}. (zstd v{zstd_version}, 64-bit build)"
            ) from None


class ZstdDict:
    """A zstd dictionary (``dict_content`` must be a zstd-format dictionary unless
    ``is_raw=True``). Supports pickle."""

    def __init__(self, dict_content: Any, is_raw: bool = False) -> None:
        content = bytes(dict_content)
        if is_raw:
            if len(content) < 8:
                raise ValueError("Zstd dictionary content should at least 8 bytes.")
        elif content[:4] != b"\x37\xa4\x30\xec":
            raise ValueError("Not a valid Zstd dictionary content.")
        try:
            self._dict = Dict(content)
        except CodecError as e:
            raise ZstdError(f"ZSTD_CDict / ZSTD_DDict: dictionary is corrupted. {e.message}") from None

    @property
    def dict_id(self) -> int:
        """ID of the zstd dictionary, a 32-bit unsigned int value (0 for raw content)."""
        return self._dict.dict_id

    @property
    def dict_content(self) -> bytes:
        """The content of the zstd dictionary."""
        return self._dict.content

    def __len__(self) -> int:
        return len(self._dict)

    def __str__(self) -> str:
        return f"<ZstdDict dict_id={self.dict_id} dict_size={len(self)}>"

    __repr__ = __str__

    def __reduce__(self):
        return (ZstdDict, (self.dict_content, self.dict_id == 0))


def _codec_dict(zstd_dict: Optional[ZstdDict]) -> Optional[Dict]:
    if zstd_dict is None:
        return None
    if not isinstance(zstd_dict, ZstdDict):
        raise TypeError("zstd_dict argument should be ZstdDict object.")
    return zstd_dict._dict


class ZstdCompressor:
    """A streaming compressor. Thread-safe at method level."""

    def __init__(self, level_or_option: Union[None, int, dict] = None, zstd_dict: Optional[ZstdDict] = None) -> None:
        self._dict = _codec_dict(zstd_dict)
        self._level_or_option = level_or_option
        self._enc = self._make()
        self.last_end_directive = EndDirective.END

    def _make(self) -> Encoder:
        enc = Encoder("zstd", dict=self._dict)
        opt = self._level_or_option
        if opt is None:
            pass
        elif isinstance(opt, bool) or not isinstance(opt, (int, dict)):
            raise TypeError("level_or_option argument wrong type.")
        elif isinstance(opt, int):
            lo, hi = param_bounds("zstd", "level")
            enc._set(_abi.CODEC_PARAM_LEVEL, min(max(_int32(opt, "Compression level"), lo), hi), "level")
        else:
            _apply(enc, _CPARAM_KEYWORDS, opt, "compression")
        return enc

    def compress(self, data: Any, end_directive: int = EndDirective.CONTINUE) -> bytes:
        """Provide data; return a chunk of compressed data if possible, or ``b''``."""
        if end_directive not in (0, 1, 2):
            raise ValueError("end_directive argument should be EndDirective.CONTINUE, FLUSH or END.")
        enc = self._enc
        try:
            with enc._lock:
                if end_directive == EndDirective.CONTINUE:
                    out = enc.compress(data)
                elif end_directive == EndDirective.FLUSH:
                    out = enc.compress(data) + enc.flush()
                else:
                    if self.last_end_directive == EndDirective.END:
                        enc.set_pledged_size(memoryview(data).nbytes)  # a whole frame: record its size
                    out = enc.finish(data)
        except CodecError as e:
            enc.reset()
            self.last_end_directive = EndDirective.END
            raise _zstd_error(e, "Compression") from None
        self.last_end_directive = EndDirective(end_directive)
        return out

    def flush(self, end_frame: bool = True) -> bytes:
        """Flush the remaining data: end the frame (``end_frame=True``) or only the block."""
        return self.compress(b"", EndDirective.END if end_frame else EndDirective.FLUSH)


class ZstdDecompressor:
    """A streaming decompressor that accepts concatenated frames. Thread-safe at method level."""

    def __init__(self, zstd_dict: Optional[ZstdDict] = None, option: Optional[dict] = None) -> None:
        self._dec = _make_decoder(zstd_dict, option)

    def decompress(self, data: Any, max_length: int = -1) -> bytes:
        """Decompress `data`; return at most `max_length` bytes when it is not negative."""
        try:
            return self._dec.decompress(data, max_length)
        except CodecError as e:
            self._dec.reset()
            raise _zstd_error(e, "Decompression") from None

    @property
    def needs_input(self) -> bool:
        """True if more input is needed before more decompressed data can be produced."""
        return self._dec.needs_input

    @property
    def at_frame_edge(self) -> bool:
        """True when input and output are at a frame edge (or nothing was given yet)."""
        return self._dec.at_frame_edge

    def __reduce__(self):
        raise TypeError(f"cannot pickle {type(self).__name__} object.")


def _make_decoder(zstd_dict: Optional[ZstdDict], option: Optional[dict]) -> Decoder:
    dec = Decoder("zstd", dict=_codec_dict(zstd_dict))
    if option is not None:
        if not isinstance(option, dict):
            raise TypeError("option argument should be dict object.")
        _apply(dec, _DPARAM_KEYWORDS, option, "decompression")
    return dec


def compress(data: Any, level_or_option: Union[None, int, dict] = None, zstd_dict: Optional[ZstdDict] = None) -> bytes:
    """Compress `data` into one frame (recording its size); ``compress(b'')`` is an empty frame."""
    return ZstdCompressor(level_or_option, zstd_dict).compress(data, EndDirective.END)


def decompress(data: Any, zstd_dict: Optional[ZstdDict] = None, option: Optional[dict] = None) -> bytes:
    """Decompress `data` (concatenated frames allowed); ``ZstdError`` if it is truncated,
    empty, corrupt or followed by garbage."""
    if zstd_dict is None and option is None:
        try:
            return _decompress(data, "zstd")
        except CodecError as e:
            raise _zstd_error(e, "Decompression") from None
    dec = _make_decoder(zstd_dict, option)
    try:
        out = dec.decompress(data)
        if not dec.at_frame_edge or dec.frames == 0:
            raise CodecError(_abi.CODEC_E_TRUNCATED, f"Decompressed data is {len(out)} bytes.")
        return out
    except CodecError as e:
        raise _zstd_error(e, "Decompression") from None
    finally:
        dec.close()


def train_dict(iterable_of_chunks: Iterable[Any], dict_size: int = 100 * 1024) -> ZstdDict:
    """Train a zstd dictionary of at most `dict_size` bytes from the samples."""
    samples = [bytes(c) for c in iterable_of_chunks]
    if not samples:
        raise ValueError("The samples are empty content, can't train dictionary.")
    if dict_size <= 0:
        raise ValueError("dict_size argument should be positive number.")
    try:
        d = Dict.train(samples, dict_size)
    except CodecError as e:
        raise ZstdError(f"Error when training dictionary: {e.message}") from None
    z = ZstdDict.__new__(ZstdDict)
    z._dict = d
    return z


frame_info = namedtuple("frame_info", ["decompressed_size", "dictionary_id"])


def get_frame_info(frame_buffer: Any) -> "frame_info":
    """``(decompressed_size, dictionary_id)`` from a frame header; size ``None`` when unknown,
    id 0 when no dictionary."""
    try:
        info = _frame_info(frame_buffer, "zstd")
    except CodecError:
        raise ZstdError(
            "Error when getting frame content size, please make sure that frame_buffer points to the "
            "beginning of a frame and provide a size not less than the frame header (6 to 18 bytes)."
        ) from None
    return frame_info(info.content_size, info.dict_id)


def get_frame_size(frame_buffer: Any) -> int:
    """Size of the zstd frame at the start of `frame_buffer` (which must hold all of it)."""
    try:
        return _frame_size(frame_buffer, "zstd")
    except CodecError:
        raise ZstdError(
            "Error when finding the compressed size of a zstd frame. Make sure the frame_buffer argument "
            "starts from the beginning of a frame, and its length not less than this complete frame."
        ) from None
