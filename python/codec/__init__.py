"""libcodec for Python: streaming zstd, LZ4 and xz/LZMA with flush on every format.

Pure Python over ctypes (no compiled extension); the work is done by libcodec.so.

>>> import codec
>>> blob = codec.compress(b"hello " * 1000, format="zstd", level=19)
>>> codec.decompress(blob) == b"hello " * 1000
True

Formats: "zstd", "lz4" (frame), "lz4blocks", "xz", "lzma2" (raw), "lzma" (.lzma); decoders
also take "auto". Keyword parameters are the C parameter names in lower case without the
``CODEC_PARAM_`` and format prefixes (``CODEC_PARAM_ZSTD_WINDOW_LOG`` -> ``window_log``).

Thread safety: every object is safe to use from several threads (each has a lock); the C calls
release the GIL, so separate objects really run in parallel.
"""
from __future__ import annotations

import ctypes
import enum
import threading
from typing import Any, Dict as _DictT, List, NamedTuple, Optional, Tuple, Union

from . import _abi
from ._lib import FrameHeader, lib

__all__ = [
    "Format",
    "CodecError",
    "Encoder",
    "Decoder",
    "FrameInfo",
    "compress",
    "decompress",
    "frame_info",
    "detect_format",
    "version",
]

Buffer = Union[bytes, bytearray, memoryview]


class Format(enum.IntEnum):
    """Compression formats (the C ``CODEC_FORMAT_*`` values)."""

    AUTO = _abi.CODEC_FORMAT_AUTO
    ZSTD = _abi.CODEC_FORMAT_ZSTD
    LZ4 = _abi.CODEC_FORMAT_LZ4_FRAME
    LZ4BLOCKS = _abi.CODEC_FORMAT_LZ4_BLOCKS
    XZ = _abi.CODEC_FORMAT_XZ
    LZMA2 = _abi.CODEC_FORMAT_LZMA2_RAW
    LZMA = _abi.CODEC_FORMAT_LZMA_ALONE


_FORMAT_NAMES = {
    "auto": Format.AUTO,
    "zstd": Format.ZSTD,
    "lz4": Format.LZ4,
    "lz4blocks": Format.LZ4BLOCKS,
    "xz": Format.XZ,
    "lzma2": Format.LZMA2,
    "lzma": Format.LZMA,
}
# Parameter-name prefix of each format's own parameters.
_FAMILY = {
    Format.ZSTD: "ZSTD",
    Format.LZ4: "LZ4",
    Format.LZ4BLOCKS: "LZ4BLOCKS",
    Format.XZ: "XZ",
    Format.LZMA2: "XZ",
    Format.LZMA: "XZ",
}
_PARAMS = {k: v for k, v in vars(_abi).items() if k.startswith("CODEC_PARAM_")}


def version() -> str:
    """Version of the loaded libcodec and of the zstd, lz4 and liblzma inside it."""
    return lib.codec_version_string().decode()


class CodecError(Exception):
    """An error reported by libcodec.

    ``status`` is the C status value (a negative int) and ``name`` its C name, e.g.
    ``"CODEC_E_CORRUPT"``. Errors for invalid values (``CODEC_E_INVALID``) are also
    ``ValueError``s.
    """

    def __init__(self, status: int, message: str):
        self.status = status
        self.name = lib.codec_status_name(status).decode()
        self.message = message
        super().__init__(f"{self.name}: {message}" if message else self.name)


class _CodecValueError(CodecError, ValueError):
    """A ``CodecError`` for ``CODEC_E_INVALID``."""


def _error(status: int, message: str) -> CodecError:
    cls = _CodecValueError if status == _abi.CODEC_E_INVALID else CodecError
    return cls(status, message)


def _last_error() -> str:
    return lib.codec_last_error().decode(errors="replace")


def _format(fmt: Union[str, int, Format], allow_auto: bool) -> Format:
    if isinstance(fmt, str):
        try:
            f = _FORMAT_NAMES[fmt.lower()]
        except KeyError:
            raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(_FORMAT_NAMES)}") from None
    else:
        try:
            f = Format(int(fmt))
        except ValueError:
            raise ValueError(f"unknown format {fmt!r}") from None
    if f == Format.AUTO and not allow_auto:
        raise ValueError("format 'auto' is only for decoding")
    return f


def _param_id(fmt: Format, keyword: str) -> int:
    """The C parameter for a keyword: the format's own first, then the generic one."""
    key = keyword.upper()
    families = [_FAMILY[fmt]] if fmt in _FAMILY else sorted(set(_FAMILY.values()))
    for cand in [f"CODEC_PARAM_{fam}_{key}" for fam in families] + [f"CODEC_PARAM_{key}"]:
        if cand in _PARAMS:
            return _PARAMS[cand]
    raise TypeError(f"unknown parameter {keyword!r} for format {fmt.name.lower()}")


def _input(data: Buffer) -> Tuple[Any, int, int]:
    """(keep-alive object, address, length) of a bytes-like object, without copying when
    possible (bytes, writable buffers); other read-only buffers are copied once."""
    if isinstance(data, bytes):
        n = len(data)
        return data, (ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0) if n else 0, n
    mv = memoryview(data)
    if mv.ndim != 1 or mv.itemsize != 1 or not mv.c_contiguous:
        mv = memoryview(mv.tobytes())
    n = mv.nbytes
    if n == 0:
        return mv, 0, 0
    if mv.readonly:
        b = mv.tobytes()
        return b, ctypes.cast(ctypes.c_char_p(b), ctypes.c_void_p).value or 0, n
    arr = (ctypes.c_char * n).from_buffer(mv)
    return arr, ctypes.addressof(arr), n


class _Output:
    """A growable output area handed to C one chunk at a time; `result()` joins the chunks."""

    __slots__ = ("parts", "total", "_buf", "_arr")

    def __init__(self) -> None:
        self.parts: List[bytearray] = []
        self.total = 0
        self._buf: Optional[bytearray] = None
        self._arr: Any = None

    def chunk(self, size: int) -> int:
        """A fresh chunk of `size` bytes; returns its address (0 when size is 0)."""
        self._buf = bytearray(size)
        if not size:
            return 0
        self._arr = (ctypes.c_char * size).from_buffer(self._buf)
        return ctypes.addressof(self._arr)

    def commit(self, used: int) -> None:
        """Keep the first `used` bytes of the current chunk."""
        buf, self._buf, self._arr = self._buf, None, None  # drop the export before resizing
        if used:
            if used < len(buf):
                del buf[used:]
            self.parts.append(buf)
            self.total += used

    def result(self) -> bytes:
        if len(self.parts) == 1:
            return bytes(self.parts[0])
        return b"".join(self.parts)


class _Handle:
    """Owns one C handle; closes it on close(), at the end of a with-block, or when collected."""

    _free = None  # the C free function

    def __init__(self) -> None:
        self._ptr = ctypes.c_void_p()
        self._lock = threading.RLock()

    def _handle(self) -> ctypes.c_void_p:
        if not self._ptr:
            raise ValueError(f"{type(self).__name__} is closed")
        return self._ptr

    def close(self) -> None:
        """Free the C object. Idempotent; the object is unusable afterwards."""
        with self._lock:
            if self._ptr:
                type(self)._free(self._ptr)
                self._ptr = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __reduce__(self):
        raise TypeError(f"cannot pickle {type(self).__name__} objects (use marshal() for decoders)")


class Encoder(_Handle):
    """A streaming compressor.

    ``compress(data)`` feeds data and returns whatever output is ready (often ``b""``);
    ``flush()`` returns everything needed to decode all data so far without ending the frame;
    ``finish()`` ends the frame, after which the encoder starts a new frame.
    """

    _free = lib.codec_encoder_free

    def __init__(self, format: Union[str, int, Format] = "zstd", level: Optional[int] = None,
                 dict: Optional[Any] = None, **params: int) -> None:
        super().__init__()
        self.format = _format(format, allow_auto=False)
        st = lib.codec_encoder_new(self.format, ctypes.byref(self._ptr))
        if st < 0:
            raise _error(st, _last_error())
        if level is not None:
            self._set(_abi.CODEC_PARAM_LEVEL, level, "level")
        for k, v in params.items():
            self._set(_param_id(self.format, k), v, k)
        if dict is not None:
            self._check(lib.codec_encoder_set_dict(self._ptr, dict._handle()))
            self._dict = dict

    def _check(self, st: int) -> int:
        if st < 0:
            raise _error(st, lib.codec_encoder_last_error(self._ptr).decode(errors="replace"))
        return st

    def _set(self, param: int, value: int, name: str) -> None:
        st = lib.codec_encoder_set_param(self._ptr, param, int(value))
        if st == _abi.CODEC_E_UNSUPPORTED:
            raise TypeError(f"parameter {name!r} does not apply to {self.format.name.lower()} encoders")
        self._check(st)

    def _run(self, data: Buffer, action: int) -> bytes:
        keep, addr, n = _input(data)
        out = _Output()
        pos = 0
        size = max(1 << 16, n // 2 + 1024)
        r, w = ctypes.c_size_t(), ctypes.c_size_t()
        with self._lock:
            h = self._handle()
            while True:
                oaddr = out.chunk(size)
                st = lib.codec_encoder_encode(h, addr + pos if n else None, n - pos, ctypes.byref(r),
                                              oaddr, size, ctypes.byref(w), action)
                pos += r.value
                out.commit(w.value)
                self._check(st)
                if st == _abi.CODEC_OK:
                    break
                size = min(size * 2, 1 << 26)
        del keep
        return out.result()

    def compress(self, data: Buffer) -> bytes:
        """Feed `data`; return the compressed output that is ready (possibly ``b""``)."""
        return self._run(data, _abi.CODEC_CONTINUE)

    def flush(self) -> bytes:
        """Make all data given so far decodable without ending the frame; return the output."""
        return self._run(b"", _abi.CODEC_FLUSH)

    def finish(self) -> bytes:
        """End the frame; return the remaining output. The next data starts a new frame."""
        return self._run(b"", _abi.CODEC_FINISH)

    def reset(self) -> None:
        """Abandon the current frame (keeping parameters and dictionary) and clear errors."""
        with self._lock:
            self._check(lib.codec_encoder_reset(self._handle()))


class Decoder(_Handle):
    """A streaming decompressor, shaped like ``lzma.LZMADecompressor``.

    ``decompress(data, max_length=-1)`` returns at most `max_length` bytes (all available when
    negative); input it could not use yet is kept and used by the next call (call with
    ``b""`` while ``needs_input`` is false). Concatenated frames are decoded by default; with
    ``single_frame=True`` decoding stops after the first frame: ``eof`` becomes true and
    ``unused_data`` holds the bytes after it.
    """

    _free = lib.codec_decoder_free

    def __init__(self, format: Union[str, int, Format] = "auto", dict: Optional[Any] = None,
                 single_frame: bool = False, **params: int) -> None:
        super().__init__()
        self.format = _format(format, allow_auto=True)
        self.single_frame = single_frame
        self._held = b""
        self._eof = False
        self._unused = b""
        self._needs_input = True
        self._frames = 0
        st = lib.codec_decoder_new(self.format, ctypes.byref(self._ptr))
        if st < 0:
            raise _error(st, _last_error())
        for k, v in params.items():
            st = lib.codec_decoder_set_param(self._ptr, _param_id(self.format, k), int(v))
            if st == _abi.CODEC_E_UNSUPPORTED:
                raise TypeError(f"parameter {k!r} does not apply to {self.format.name.lower()} decoders")
            self._check(st)
        if dict is not None:
            self._check(lib.codec_decoder_set_dict(self._ptr, dict._handle()))
            self._dict = dict

    def _check(self, st: int) -> int:
        if st < 0:
            raise _error(st, lib.codec_decoder_last_error(self._ptr).decode(errors="replace"))
        return st

    def decompress(self, data: Buffer, max_length: int = -1) -> bytes:
        """Decompress `data` (after any input held from earlier calls); return at most
        `max_length` bytes (everything available when negative)."""
        return self._decompress(data, max_length, 0)

    def _decompress(self, data: Buffer, max_length: int, size_hint: int) -> bytes:
        with self._lock:
            h = self._handle()
            if self._eof:
                raise EOFError("already at the end of the frame (single_frame=True)")
            src = self._held + bytes(data) if self._held else data
            keep, addr, n = _input(src)
            limit = max_length if max_length >= 0 else None
            out = _Output()
            pos = 0
            size = (size_hint or max(1 << 16, 4 * n)) if limit is None else limit
            r, w = ctypes.c_size_t(), ctypes.c_size_t()
            st = _abi.CODEC_OK
            while True:
                room = size if limit is None else limit - out.total
                if limit is not None and room == 0 and out.total > 0:
                    break
                oaddr = out.chunk(room)
                st = lib.codec_decoder_decode(h, addr + pos if n - pos else None, n - pos, ctypes.byref(r),
                                              oaddr, room, ctypes.byref(w))
                pos += r.value
                out.commit(w.value)
                if st < 0:
                    self._held = b""
                    self._check(st)
                if st == _abi.CODEC_FRAME_END:
                    self._frames += 1
                if st == _abi.CODEC_FRAME_END and self.single_frame:
                    self._eof = True
                    self._unused = bytes(memoryview(src)[pos:])
                    pos = n
                    break
                if st == _abi.CODEC_OK:
                    break
                if st == _abi.CODEC_MORE_OUTPUT:
                    if limit is not None:
                        if out.total >= limit:
                            break
                    else:
                        size = min(size * 2, 1 << 28)
            self._held = bytes(memoryview(src)[pos:]) if pos < n else b""
            self._needs_input = (not self._eof and not self._held and st != _abi.CODEC_MORE_OUTPUT
                                 and (limit is None or out.total < limit))
            del keep
            return out.result()

    @property
    def needs_input(self) -> bool:
        """False when output is pending or input is held: call ``decompress(b"")`` again."""
        return self._needs_input

    @property
    def eof(self) -> bool:
        """single_frame=True: the first frame has ended."""
        return self._eof

    @property
    def unused_data(self) -> bytes:
        """single_frame=True, after eof: the bytes that followed the frame."""
        return self._unused

    @property
    def at_frame_edge(self) -> bool:
        """True when the input so far ends exactly at a frame boundary and all output was
        returned, so a stream may end here."""
        with self._lock:
            return bool(lib.codec_decoder_at_frame_edge(self._handle())) and not self._held

    @property
    def position(self) -> Tuple[int, int]:
        """(bytes consumed, bytes produced) since the decoder began. Input this object holds
        back counts as consumed, so a resume always starts at ``position[0]``."""
        c, p = ctypes.c_uint64(), ctypes.c_uint64()
        with self._lock:
            self._check(lib.codec_decoder_position(self._handle(), ctypes.byref(c), ctypes.byref(p)))
            return c.value + len(self._held), p.value

    def reset(self) -> None:
        """Start over: forget the stream and any error (parameters and dictionary stay)."""
        with self._lock:
            self._check(lib.codec_decoder_reset(self._handle()))
            self._held, self._eof, self._unused, self._needs_input = b"", False, b"", True
            self._frames = 0


class FrameInfo(NamedTuple):
    """What the header at the start of some data says (see ``codec_frame_header``)."""

    format: Format
    header_size: int
    content_size: Optional[int]
    window_size: int
    block_size: int
    dict_id: int
    checksum: int
    flags: int


def frame_info(data: Buffer, format: Union[str, int, Format] = "auto") -> FrameInfo:
    """Read the frame header at the start of `data`."""
    keep, addr, n = _input(data)
    h = FrameHeader()
    st = lib.codec_frame_info(_format(format, True), addr or None, n, ctypes.byref(h))
    if st < 0:
        raise _error(st, _last_error())
    size = None if h.content_size == _abi.CODEC_CONTENT_SIZE_UNKNOWN else h.content_size
    return FrameInfo(Format(h.format), h.header_size, size, h.window_size, h.block_size, h.dict_id, h.checksum,
                     h.flags)


def detect_format(data: Buffer) -> Format:
    """The format of `data`, from its first bytes (up to 13 are needed)."""
    keep, addr, n = _input(data)
    f = ctypes.c_int32()
    st = lib.codec_detect_format(addr or None, n, ctypes.byref(f))
    if st < 0:
        raise _error(st, _last_error())
    return Format(f.value)


def compress(data: Buffer, format: Union[str, int, Format] = "zstd", level: Optional[int] = None,
             dict: Optional[Any] = None, **params: int) -> bytes:
    """Compress `data` into one frame (the content size is recorded where the format can)."""
    fmt = _format(format, allow_auto=False)
    if dict is None and not params:
        keep, addr, n = _input(data)
        cap = lib.codec_compress_bound(fmt, n)
        out = _Output()
        oaddr = out.chunk(cap)
        w = ctypes.c_size_t()
        st = lib.codec_compress(fmt, _abi.CODEC_LEVEL_DEFAULT if level is None else level, addr or None, n,
                                oaddr, cap, ctypes.byref(w))
        out.commit(w.value)
        if st < 0:
            raise _error(st, _last_error())
        return out.result()
    with Encoder(fmt, level=level, dict=dict, **params) as e:
        keep, addr, n = _input(data)
        st = lib.codec_encoder_set_pledged_size(e._ptr, n)
        if st < 0 and st != _abi.CODEC_E_UNSUPPORTED:
            e._check(st)
        return e._run(data, _abi.CODEC_FINISH)


def decompress(data: Buffer, format: Union[str, int, Format] = "auto", dict: Optional[Any] = None,
               **params: int) -> bytes:
    """Decompress every frame in `data`. Raises CodecError (CODEC_E_TRUNCATED) when the data
    ends inside a frame or holds no frame at all. The output is sized from the first frame's
    recorded content size when there is one."""
    with Decoder(format, dict=dict, **params) as d:
        hint = 0
        try:
            size = frame_info(data, d.format).content_size
            if size is not None and size <= max(1 << 26, 64 * len(memoryview(data))):
                hint = size + 1  # one spare byte: the frame end then needs no second call
        except CodecError:
            pass
        out = d._decompress(data, -1, hint)
        if not d.at_frame_edge:
            raise CodecError(_abi.CODEC_E_TRUNCATED, "compressed data ended before the end of a frame")
        if d._frames == 0 and d.format != Format.LZ4BLOCKS:
            raise CodecError(_abi.CODEC_E_TRUNCATED, "no complete frame in the data")
        return out
