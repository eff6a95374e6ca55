"""python-lz4's ``lz4.stream`` API on libcodec: LZ4 block streaming ("double_buffer").

``LZ4StreamCompressor(strategy, buffer_size, ...)``: each ``compress(chunk)`` (at most
`buffer_size` bytes) returns one block, compressed against the previous 64 KiB (or the
dictionary), prefixed by its compressed length in `store_comp_size` bytes (0, 1, 2 or 4,
little-endian; 0 = sizes kept out of band). ``LZ4StreamDecompressor``: ``get_block(stream)``
returns the first block of `stream` without its prefix, ``decompress(block)`` decodes one block.
The wire format is python-lz4's, byte for byte; errors have its types and messages.

Differences: python-lz4 reported LZ4's own negative return value in "Decompression failed.
error: N"; libcodec reports the failing input offset, so N here is that offset plus one (1
for an empty or unreadable block), which is what LZ4 returns for most errors. The module is
available in every build (python-lz4 built it only with ``PYLZ4_EXPERIMENTAL``).
"""
from __future__ import annotations

import re
import threading
from typing import Any, Optional, Union

from .._core import CodecError, Decoder, Dict, Encoder

__all__ = ["LZ4StreamCompressor", "LZ4StreamDecompressor", "LZ4StreamError", "LZ4_MAX_INPUT_SIZE"]

LZ4_MAX_INPUT_SIZE = 0x7E000000


class LZ4StreamError(Exception):
    """An LZ4 stream error."""


def _compress_bound(n: int) -> int:
    return n + n // 255 + 16 if n <= LZ4_MAX_INPUT_SIZE else 0


def _input_bound(csize: int) -> int:
    """python-lz4's largest decompressed size a compressed block of `csize` bytes may have."""
    if csize < 16:
        csize = 17
    if csize > _compress_bound(LZ4_MAX_INPUT_SIZE):
        return 0
    isize = ((csize << 8) - csize - 4080) >> 8
    return 0 if isize > LZ4_MAX_INPUT_SIZE else isize + 1


def _check_config(strategy: str, store_comp_size: int) -> None:
    if strategy == "ring_buffer":
        raise NotImplementedError("Buffer strategy not implemented: ring_buffer")
    if strategy != "double_buffer":
        raise ValueError(f"Invalid strategy argument: {strategy}. Must be one of: double_buffer, ring_buffer")
    if store_comp_size not in (0, 1, 2, 4):
        raise ValueError(f"Invalid store_comp_size argument: {store_comp_size}. Must be one of: 0, 1, 2, 4")


def _dictionary(dictionary: Union[None, str, bytes, Any]) -> Optional[Dict]:
    if dictionary is None or (isinstance(dictionary, str) and not dictionary):
        return None
    if isinstance(dictionary, str):
        raise TypeError("dictionary must be a bytes-like object")
    data = bytes(memoryview(dictionary))
    if len(data) > 0x7FFFFFFF:
        raise OverflowError("Dictionary too large for LZ4 API")
    if not data:
        return None
    return Dict(data[-65536:])  # LZ4 uses the last 64 KiB


def _check_data(data: Any) -> memoryview:
    if isinstance(data, str):
        raise TypeError("a bytes-like object is required, not 'str'")
    return memoryview(data).cast("B")


class LZ4StreamCompressor:
    """Compress a stream of chunks into LZ4 blocks (double-buffer strategy).

    `mode` is ``"default"``, ``"fast"`` (with `acceleration`) or ``"high_compression"``
    (with `compression_level`); `dictionary` primes the history on both sides.
    """

    def __init__(self, strategy: str, buffer_size: int, mode: str = "default", acceleration: int = 1,
                 compression_level: int = 9, return_bytearray: bool = False, store_comp_size: int = 4,
                 dictionary: Union[str, bytes, Any] = "") -> None:
        _check_config(strategy, store_comp_size)
        if mode not in ("default", "fast", "high_compression"):
            raise ValueError(f"Invalid mode argument: {mode}. Must be one of: default, fast, high_compression")
        if buffer_size <= 0 or buffer_size > LZ4_MAX_INPUT_SIZE:
            raise ValueError(f"Invalid buffer_size argument: {buffer_size}. Cannot define output buffer size. "
                             f"Must be lesser or equal to {LZ4_MAX_INPUT_SIZE}")
        bound = _compress_bound(buffer_size)
        if store_comp_size and bound > (1 << (8 * store_comp_size)) - 1:
            raise LZ4StreamError(f"Inconsistent buffer_size/store_comp_size values. Maximal compressed length "
                                 f"({bound}) cannot fit in a {store_comp_size} byte-long integer")
        params = dict(page_size=buffer_size, prefix_width=store_comp_size)
        if mode == "high_compression":
            level = compression_level if compression_level > 0 else 9
            params["hc_level"] = min(level, 12)
        elif mode == "fast":
            params["acceleration"] = max(acceleration, 1)
        self._buffer_size = buffer_size
        self._width = store_comp_size
        self._bytearray = return_bytearray
        self._enc = Encoder("lz4blocks", dict=_dictionary(dictionary), **params)
        self._lock = threading.Lock()

    def __enter__(self) -> "LZ4StreamCompressor":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def compress(self, chunk: Any) -> Union[bytes, bytearray]:
        """Compress `chunk` (at most `buffer_size` bytes) into one block, with its prefix."""
        view = _check_data(chunk)
        if len(view) > self._buffer_size:
            raise OverflowError("Input too large for LZ4 API")
        with self._lock:
            if not len(view):
                block = b"\x00"  # LZ4's encoding of an empty block
                out = (1).to_bytes(self._width, "little") + block if self._width else block
            else:
                out = self._enc.compress(view) + self._enc.flush()
        return bytearray(out) if self._bytearray else out


class LZ4StreamDecompressor:
    """Decode LZ4 blocks made by ``LZ4StreamCompressor`` (same `buffer_size`,
    `store_comp_size` and dictionary)."""

    def __init__(self, strategy: str, buffer_size: int, return_bytearray: bool = False, store_comp_size: int = 4,
                 dictionary: Union[str, bytes, Any] = "") -> None:
        _check_config(strategy, store_comp_size)
        self._buffer_size = buffer_size
        self._width = store_comp_size
        self._bytearray = return_bytearray
        self._dict = _dictionary(dictionary)
        self._dec: Optional[Decoder] = None
        self._lock = threading.Lock()

    def __enter__(self) -> "LZ4StreamDecompressor":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def _decoder(self) -> Decoder:
        if self._dec is None:
            # Sizes are checked here (python-lz4 accepts any buffer_size at construction).
            page = max(1, min(self._buffer_size, LZ4_MAX_INPUT_SIZE))
            self._dec = Decoder("lz4blocks", dict=self._dict, page_size=page, prefix_width=0)
        return self._dec

    def get_block(self, stream: Any) -> Union[bytes, bytearray]:
        """The first block of `stream`, without its length prefix (a copy)."""
        view = _check_data(stream)
        n = self._width
        if n == 0:
            raise LZ4StreamError("LZ4 context is configured for storing block size out-of-band")
        if len(view) < n:
            raise LZ4StreamError("Invalid source, too small for holding any block")
        length = int.from_bytes(view[:n], "little")
        if length > len(view) - n:
            raise LZ4StreamError(f"Requested input size ({length}) larger than source size ({len(view) - n})")
        block = view[n:n + length]
        return bytearray(block) if self._bytearray else block.tobytes()

    def decompress(self, chunk: Any) -> Union[bytes, bytearray]:
        """Decode one block (without its prefix) and return its data."""
        view = _check_data(chunk)
        size = len(view)
        limit = (1 << (8 * (self._width or 4))) - 1
        if size > limit:
            raise OverflowError(f"Source length ({size}) too large for LZ4 store_comp_size ({self._width}) value")
        bound = _input_bound(size)
        if bound == 0 or bound > self._buffer_size:
            raise LZ4StreamError(f"Maximal decompressed data ({bound}) cannot fit in LZ4 internal buffer "
                                 f"({self._buffer_size})")
        if size == 0:
            raise LZ4StreamError("Decompression failed. error: 1")
        with self._lock:
            dec = self._decoder()
            try:
                out = dec.decompress(view)
            except CodecError as e:
                m = re.search(r"input byte (\d+)", e.message)
                code = int(m.group(1)) + 1 if m else 1
                # libcodec's decoder needs a reset after an error, which forgets the history:
                # blocks after a failed one decode as if the stream started there.
                self._dec = None
                raise LZ4StreamError(f"Decompression failed. error: {code}") from None
        return bytearray(out) if self._bytearray else out
