"""The codec package's objects over the C API: formats, errors, encoders, decoders,
dictionaries and one-shot functions. Everything here is re-exported by ``codec``."""
from __future__ import annotations

import ctypes
import enum
import threading
from typing import Any, Iterable, NamedTuple, Optional, Tuple, Union

from . import _abi
from ._lib import FrameHeader, TrainParams, lib
from ._mem import OutBytes, in_buffer, out_buffer

#: Anything with the buffer protocol: bytes, bytearray, memoryview, array, mmap...
Buffer = Any


class Format(enum.IntEnum):
    """Compression formats (the C ``CODEC_FORMAT_*`` values). Functions also accept the
    names ``"auto"``, ``"zstd"``, ``"lz4"``, ``"lz4blocks"``, ``"xz"``, ``"lzma2"``, ``"lzma"``."""

    AUTO = _abi.CODEC_FORMAT_AUTO
    ZSTD = _abi.CODEC_FORMAT_ZSTD
    LZ4 = _abi.CODEC_FORMAT_LZ4_FRAME
    LZ4BLOCKS = _abi.CODEC_FORMAT_LZ4_BLOCKS
    XZ = _abi.CODEC_FORMAT_XZ
    LZMA2 = _abi.CODEC_FORMAT_LZMA2_RAW
    LZMA = _abi.CODEC_FORMAT_LZMA_ALONE

    @property
    def label(self) -> str:
        """The short name used by the Python API and codecat (``"lz4"``, ``"lzma2"``...)."""
        return self.name.lower()


FormatLike = Union[str, int, Format]

_FORMAT_NAMES = {f.label: f for f in Format}
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
_PARAM_NAMES = {v: k for k, v in _PARAMS.items()}


def version() -> str:
    """Version of the loaded libcodec and of the zstd, lz4 and liblzma inside it."""
    return lib.codec_version_string().decode()


# ----------------------------------------------------------------------------- errors

class CodecError(Exception):
    """An error reported by libcodec.

    ``status`` is the C status value (a negative int), ``name`` its C name (e.g.
    ``"CODEC_E_CORRUPT"``) and ``message`` the library's explanation. Errors for invalid
    arguments (``CODEC_E_INVALID``) are also ``ValueError``s.
    """

    status: int
    name: str
    message: str

    def __new__(cls, status: int, message: str = ""):
        if cls is CodecError and status == _abi.CODEC_E_INVALID:
            cls = CodecValueError
        return super().__new__(cls, status, message)

    def __init__(self, status: int, message: str = "") -> None:
        self.status = int(status)
        self.name = lib.codec_status_name(self.status).decode()
        self.message = message
        super().__init__(f"{self.name}: {message}" if message else self.name)

    def __reduce__(self):
        return (type(self), (self.status, self.message))


class CodecValueError(CodecError, ValueError):
    """A ``CodecError`` for ``CODEC_E_INVALID`` (an invalid argument or parameter value)."""


def _last_error() -> str:
    return lib.codec_last_error().decode(errors="replace")


def _check_global(st: int) -> int:
    """Raise for a failed handle-less call (message from codec_last_error)."""
    if st < 0:
        raise CodecError(st, _last_error())
    return st


# ----------------------------------------------------------------------------- names

def _format(fmt: FormatLike, allow_auto: bool) -> Format:
    if isinstance(fmt, str):
        try:
            f = _FORMAT_NAMES[fmt.lower()]
        except KeyError:
            raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(_FORMAT_NAMES)}") from None
    else:
        try:
            f = Format(int(fmt))
        except (ValueError, TypeError):
            raise ValueError(f"unknown format {fmt!r}") from None
    if f == Format.AUTO and not allow_auto:
        raise ValueError("format 'auto' is only for decoding: name the format to compress to")
    return f


def _param_id(fmt: Format, keyword: str) -> int:
    """The C parameter for a keyword: the format's own first, then the generic one."""
    key = keyword.upper()
    families = [_FAMILY[fmt]] if fmt in _FAMILY else sorted(set(_FAMILY.values()))
    for cand in [f"CODEC_PARAM_{fam}_{key}" for fam in families] + [f"CODEC_PARAM_{key}"]:
        if cand in _PARAMS and cand != "CODEC_PARAM_DEBUG_PANIC":
            return _PARAMS[cand]
    raise TypeError(f"unknown parameter {keyword!r} for format {fmt.label!r}")


def param_bounds(format: FormatLike, name: str) -> Tuple[int, int]:
    """The accepted values ``(lo, hi)`` (inclusive) of keyword parameter `name` for `format`
    (``"auto"`` answers for decoders). ``TypeError`` when it does not apply to the format."""
    fmt = _format(format, allow_auto=True)
    p = _abi.CODEC_PARAM_LEVEL if name == "level" else _param_id(fmt, name)
    lo, hi = ctypes.c_int64(), ctypes.c_int64()
    st = lib.codec_param_bounds(fmt, p, ctypes.byref(lo), ctypes.byref(hi))
    if st == _abi.CODEC_E_UNSUPPORTED:
        raise TypeError(f"parameter {name!r} does not apply to format {fmt.label!r}")
    _check_global(st)
    return lo.value, hi.value


def compress_bound(size: int, format: FormatLike = "zstd") -> int:
    """Largest compressed size of `size` bytes in one frame made by ``compress``."""
    return lib.codec_compress_bound(_format(format, allow_auto=False), size)


# ----------------------------------------------------------------------------- handles

class _Handle:
    """Owns one C handle; frees it on close(), at the end of a with-block, or when collected.

    Every method takes the object's lock, so an object may be shared between threads (calls
    are serialised); the C calls release the GIL, so separate objects run in parallel.
    """

    _free: Any = None  # the C free function

    def __init__(self) -> None:
        self._ptr = ctypes.c_void_p()
        self._lock = threading.RLock()

    def _handle(self) -> ctypes.c_void_p:
        if not self._ptr:
            raise ValueError(f"I/O operation on closed {type(self).__name__}")
        return self._ptr

    @property
    def closed(self) -> bool:
        """True after close()."""
        return not self._ptr

    def close(self) -> None:
        """Free the C object. Idempotent; the object is unusable afterwards."""
        with self._lock:
            if self._ptr:
                ptr, self._ptr = self._ptr, ctypes.c_void_p()
                type(self)._free(ptr)

    def __enter__(self):
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if self._ptr:
                type(self)._free(self._ptr)
                self._ptr = ctypes.c_void_p()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __reduce__(self):
        raise TypeError(
            f"cannot pickle {type(self).__name__} objects: they own C state "
            f"(save a Decoder with marshal() and restore it with Decoder.unmarshal())"
        )


class Dict(_Handle):
    """A dictionary for zstd, LZ4 (frame and blocks) and raw LZMA2: immutable, shared.

    ``Dict(content)`` loads a zstd-format dictionary (magic ``0xEC30A437``, e.g. from
    ``zstd --train`` or ``Dict.train``) or any other bytes as raw content (``dict_id`` 0).
    The bytes are copied. Encoders and decoders keep their own reference, so a ``Dict`` may
    be closed or dropped as soon as they have been made. Unlike encoders and decoders a
    ``Dict`` can be pickled (by content).
    """

    _free = lib.codec_dict_free

    def __init__(self, content: Buffer) -> None:
        super().__init__()
        keep, addr, n = in_buffer(content)
        _check_global(lib.codec_dict_load(addr or None, n, ctypes.byref(self._ptr)))
        self._content: Optional[bytes] = None

    @classmethod
    def _adopt(cls, ptr: ctypes.c_void_p) -> "Dict":
        d = cls.__new__(cls)
        _Handle.__init__(d)
        d._ptr = ptr
        d._content = None
        return d

    @property
    def dict_id(self) -> int:
        """The zstd dictionary ID (0 for raw content)."""
        return lib.codec_dict_id(self._handle())

    @property
    def content(self) -> bytes:
        """The dictionary's bytes exactly as loaded or trained."""
        if self._content is None:
            n = ctypes.c_size_t()
            p = lib.codec_dict_content(self._handle(), ctypes.byref(n))
            self._content = ctypes.string_at(p, n.value) if n.value else b""
        return self._content

    def __len__(self) -> int:
        return len(self.content)

    def __repr__(self) -> str:
        if not self._ptr:
            return "<codec.Dict closed>"
        return f"<codec.Dict dict_id={self.dict_id} size={len(self)}>"

    def __reduce__(self):
        return (type(self), (self.content,))

    @classmethod
    def train(cls, samples: Iterable[Buffer], size: int, algorithm: str = "fastcover", k: int = 0,
              d: int = 0, steps: int = 0, level: int = 0, threads: int = 1, dict_id: int = 0) -> "Dict":
        """Train a zstd dictionary of at most `size` bytes from `samples` (bytes-like objects).

        With the defaults this is ``zstd --train`` (fastCover, d = 8, searching k). Otherwise
        `algorithm` is ``"fastcover"`` or ``"cover"``; `k` (segment size), `d` (dmer size) and
        `steps` 0 mean "search"; `level` is the zstd level to tune the entropy tables for (0 =
        3); `threads` for the search; `dict_id` 0 = random. Train on representative data:
        typically thousands of samples totalling about 100 times `size`.
        Raises ``CodecError`` (``CODEC_E_INVALID``, a ``ValueError``) for unusable input.
        """
        parts = [s if isinstance(s, bytes) else bytes(memoryview(s)) for s in samples]
        sizes = (ctypes.c_size_t * max(len(parts), 1))(*[len(p) for p in parts])
        blob = b"".join(parts)
        keep, addr, n = in_buffer(blob)
        algo = {"fastcover": _abi.CODEC_TRAIN_FASTCOVER, "cover": _abi.CODEC_TRAIN_COVER}.get(algorithm.lower())
        if algo is None:
            raise ValueError(f"unknown training algorithm {algorithm!r}: use 'fastcover' or 'cover'")
        out = ctypes.c_void_p()
        if algo == _abi.CODEC_TRAIN_FASTCOVER and not (k or d or steps or level or dict_id) and threads in (0, 1):
            st = lib.codec_dict_train(addr or None, sizes, len(parts), size, ctypes.byref(out))
        else:
            p = TrainParams(algorithm=algo, k=k, d=d, steps=steps, level=level, threads=threads, dict_id=dict_id)
            st = lib.codec_dict_train_ex(addr or None, sizes, len(parts), size, ctypes.addressof(p),
                                         ctypes.byref(out))
        _check_global(st)
        return cls._adopt(out)


def _dict_ptr(d: Optional[Any]) -> Any:
    if d is None:
        return None
    if not isinstance(d, Dict):
        raise TypeError(f"dict must be a codec.Dict, not {type(d).__name__}")
    return d._handle()


def _as_dict(d: Any) -> Optional[Dict]:
    """Accept a Dict, or raw bytes-like content (loaded on the fly), or None."""
    if d is None or isinstance(d, Dict):
        return d
    return Dict(d)


# ----------------------------------------------------------------------------- encoder

class Encoder(_Handle):
    """A streaming compressor.

    ``compress(data)`` feeds data and returns whatever output is ready (often ``b""``);
    ``flush()`` returns everything needed to decode all data so far without ending the frame
    (zstd block flush, LZ4 frame flush, LZ4 block emit, LZMA2 sync flush; ``.lzma`` cannot:
    ``CodecError`` ``CODEC_E_UNSUPPORTED``); ``finish()`` ends the frame, after which the
    encoder starts a new frame with the next data.

    `level` is the format's level (zstd -131072..22, LZ4 negative = fast ... 12, xz preset
    0..9); `dict` a ``Dict`` (zstd, LZ4, raw LZMA2); other keywords are the C parameters in
    lower case without ``CODEC_PARAM_`` and the format (``window_log=20``, ``checksum=1``,
    ``block_size=262144``, ``dict_size=1 << 24``...). Unknown keywords raise ``TypeError``,
    values out of range ``CodecError`` (a ``ValueError``).
    """

    _free = lib.codec_encoder_free

    def __init__(self, format: FormatLike = "zstd", level: Optional[int] = None, dict: Optional[Dict] = None,
                 **params: int) -> None:
        super().__init__()
        self.format = _format(format, allow_auto=False)
        _check_global(lib.codec_encoder_new(self.format, ctypes.byref(self._ptr)))
        self._r, self._w = ctypes.c_size_t(), ctypes.c_size_t()
        if level is not None:
            self._set(_abi.CODEC_PARAM_LEVEL, level, "level")
        for k, v in params.items():
            self._set(_param_id(self.format, k), v, k)
        self._dict = _as_dict(dict)
        if self._dict is not None:
            self._check(lib.codec_encoder_set_dict(self._ptr, _dict_ptr(self._dict)))

    def _check(self, st: int) -> int:
        if st < 0:
            raise CodecError(st, lib.codec_encoder_last_error(self._ptr).decode(errors="replace"))
        return st

    def _set(self, param: int, value: int, name: str) -> None:
        st = lib.codec_encoder_set_param(self._handle(), param, int(value))
        if st == _abi.CODEC_E_UNSUPPORTED:
            raise TypeError(f"parameter {name!r} does not apply to {self.format.label} encoders")
        self._check(st)

    def set_pledged_size(self, size: int) -> None:
        """Declare the exact size of the next frame's content before its first byte: zstd,
        LZ4 frame and xz record it in the header; a frame whose content differs fails."""
        with self._lock:
            st = lib.codec_encoder_set_pledged_size(self._handle(), size)
            if st == _abi.CODEC_E_UNSUPPORTED:
                return
            self._check(st)

    def _run(self, data: Buffer, action: int) -> bytes:
        keep, addr, n = in_buffer(data)
        out = OutBytes(lib.codec_compress_bound(self.format, n) + 4096)
        pos = 0
        r, w = self._r, self._w
        with self._lock:
            h = self._handle()
            encode = lib.codec_encoder_encode
            while True:
                st = encode(h, addr + pos if n - pos else None, n - pos, r, out.addr, out.room, w, action)
                pos += r.value
                out.used += w.value
                if st < 0:
                    self._check(st)
                if st == _abi.CODEC_OK:
                    break
                out.grow(max(out.cap, 1 << 16))
        del keep
        return out.take()

    def compress(self, data: Buffer) -> bytes:
        """Feed `data`; return the compressed output that is ready (possibly ``b""``)."""
        return self._run(data, _abi.CODEC_CONTINUE)

    def flush(self) -> bytes:
        """Make all data given so far decodable without ending the frame; return the output."""
        return self._run(b"", _abi.CODEC_FLUSH)

    def finish(self, data: Buffer = b"") -> bytes:
        """Feed `data` (optional), end the frame and return the remaining output. The next
        data starts a new frame."""
        return self._run(data, _abi.CODEC_FINISH)

    def reset(self) -> None:
        """Abandon the current frame (keeping parameters and dictionary) and clear errors."""
        with self._lock:
            self._check(lib.codec_encoder_reset(self._handle()))


# ----------------------------------------------------------------------------- decoder

class Decoder(_Handle):
    """A streaming decompressor, shaped like ``lzma.LZMADecompressor``.

    ``decompress(data, max_length=-1)`` returns at most `max_length` bytes (all available
    when negative); input it could not use yet is kept and used by the next call (call with
    ``b""`` while ``needs_input`` is false). Concatenated frames are decoded by default; with
    ``single_frame=True`` decoding stops after the first frame: ``eof`` becomes true and
    ``unused_data`` holds the bytes after it.

    ``position`` is ``(consumed, produced)`` since the start; input held back counts as
    consumed. ``clone()`` copies the whole state; ``marshal()`` saves it as bytes (including
    held-back input) that ``Decoder.unmarshal(blob, dict)`` restores, here or in another
    process, after which decoding continues with the input from offset ``position[0]``.

    Keywords are the decoder parameters (``window_log_max``, ``memlimit``, ``dict_size`` and
    ``delta_dist``/``bcj_x86`` for raw LZMA2, ``page_size``/``prefix_width`` for LZ4 blocks).
    """

    _free = lib.codec_decoder_free

    def __init__(self, format: FormatLike = "auto", dict: Optional[Dict] = None, single_frame: bool = False,
                 **params: int) -> None:
        super().__init__()
        self.format = _format(format, allow_auto=True)
        self._init_state(single_frame)
        _check_global(lib.codec_decoder_new(self.format, ctypes.byref(self._ptr)))
        for k, v in params.items():
            self._set(_param_id(self.format, k), v, k)
        self._dict = _as_dict(dict)
        if self._dict is not None:
            self._check(lib.codec_decoder_set_dict(self._ptr, _dict_ptr(self._dict)))

    def _set(self, param: int, value: int, name: str) -> None:
        st = lib.codec_decoder_set_param(self._handle(), param, int(value))
        if st == _abi.CODEC_E_UNSUPPORTED:
            raise TypeError(f"parameter {name!r} does not apply to {self.format.label} decoders")
        self._check(st)

    def _init_state(self, single_frame: bool) -> None:
        self.single_frame = bool(single_frame)
        self._held = b""          # input received but not decoded yet (max_length stopped us)
        self._eof = False
        self._unused = b""
        self._needs_input = True
        self._frames = 0          # frames completed
        self._r, self._w = ctypes.c_size_t(), ctypes.c_size_t()

    def _check(self, st: int) -> int:
        if st < 0:
            raise CodecError(st, lib.codec_decoder_last_error(self._ptr).decode(errors="replace"))
        return st

    # The decoding loop. Output goes either into a growing OutBytes (decompress) or into a
    # caller's buffer (decompress_into); `limit` caps the bytes produced by this call.
    def _decode(self, data: Buffer, limit: int, hint: int = 0, dst: Optional[Tuple[int, int]] = None):
        with self._lock:
            h = self._handle()
            if self._eof:
                raise EOFError("already at the end of the frame (single_frame=True)")
            if self._held:
                src = self._held + bytes(data) if len(data) else self._held
            else:
                src = data
            keep, addr, n = in_buffer(src)
            if dst is not None:
                out = None
                daddr, limit = dst
            else:
                first = hint or max(1 << 16, min(4 * n, 1 << 26))
                out = OutBytes(first if limit < 0 else min(limit, first))
            total = 0
            pos = 0
            r, w = self._r, self._w
            decode = lib.codec_decoder_decode
            st = _abi.CODEC_OK
            while True:
                if out is None:
                    room, a = limit - total, daddr + total
                else:
                    if out.room == 0 and (limit < 0 or total < limit):
                        out.grow(out.cap if limit < 0 else min(out.cap, limit - total))
                    room = out.room if limit < 0 else min(out.room, limit - total)
                    a = out.addr
                st = decode(h, addr + pos if n - pos else None, n - pos, r, a if room else None, room, w)
                pos += r.value
                total += w.value
                if out is not None:
                    out.used += w.value
                if st < 0:
                    self._held, self._needs_input = b"", True
                    self._check(st)
                if st == _abi.CODEC_FRAME_END:
                    self._frames += 1
                    if self.single_frame:
                        self._eof = True
                        self._unused = bytes(memoryview(src)[pos:]) if pos < n else b""
                        pos = n
                        break
                    if pos == n:
                        st = _abi.CODEC_OK
                        break
                    continue
                if st == _abi.CODEC_OK:
                    break
                # CODEC_MORE_OUTPUT
                if limit >= 0 and total >= limit:
                    break
            self._held = bytes(memoryview(src)[pos:]) if pos < n else b""
            if self._eof or self._held:
                self._needs_input = False
            elif st != _abi.CODEC_MORE_OUTPUT and (limit < 0 or total < limit):
                self._needs_input = True
            else:
                # The output limit was reached: more may be pending, unless the decoder sits
                # at a frame edge with everything delivered (pyzstd's later semantics).
                self._needs_input = bool(lib.codec_decoder_at_frame_edge(h))
            del keep
            return total if out is None else out.take()

    def decompress(self, data: Buffer, max_length: int = -1) -> bytes:
        """Decompress `data` (after any input held from earlier calls); return at most
        `max_length` bytes (everything available when negative)."""
        return self._decode(data, max_length)

    def decompress_into(self, data: Buffer, buffer: Buffer) -> int:
        """Like ``decompress(data, len(buffer))`` but write the output into `buffer` (a
        writable bytes-like object) and return the number of bytes written."""
        keep, addr, cap = out_buffer(buffer)
        return self._decode(data, cap, dst=(addr, cap))

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
        returned, so a stream may end here (a fresh decoder is at an edge)."""
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

    @property
    def frames(self) -> int:
        """Number of frames completed so far."""
        return self._frames

    def reset(self) -> None:
        """Start over: forget the stream and any error (parameters and dictionary stay)."""
        with self._lock:
            self._check(lib.codec_decoder_reset(self._handle()))
            self._init_state(self.single_frame)

    def _copy_from(self, other: "Decoder") -> None:
        self.format = other.format
        self._dict = other._dict
        self.single_frame = other.single_frame
        self._held, self._eof, self._unused = other._held, other._eof, other._unused
        self._needs_input, self._frames = other._needs_input, other._frames

    def clone(self) -> "Decoder":
        """An independent copy of the whole decoder (C state, held input, flags)."""
        with self._lock:
            new = Decoder.__new__(Decoder)
            _Handle.__init__(new)
            new._init_state(self.single_frame)
            self._check(lib.codec_decoder_clone(self._handle(), ctypes.byref(new._ptr)))
            new._copy_from(self)
            return new

    def marshal(self) -> bytes:
        """The decoder's whole state as bytes (versioned, checksummed, portable between
        processes and machines of this libcodec build), including input held back by
        `max_length`. Restore it with ``Decoder.unmarshal(blob, dict)`` and continue with
        the input from offset ``position[0]``. The dictionary is not included."""
        with self._lock:
            h = self._handle()
            tmp = None
            if self._held:
                # The held bytes must be inside the saved state: give them to a throw-away
                # copy of the C decoder (this object keeps them for its own next call).
                tmp = ctypes.c_void_p()
                self._check(lib.codec_decoder_clone(h, ctypes.byref(tmp)))
                try:
                    keep, addr, n = in_buffer(self._held)
                    self._check(lib.codec_decoder_feed(tmp, addr, n))
                except BaseException:
                    lib.codec_decoder_free(tmp)
                    raise
                h = tmp
            try:
                need = ctypes.c_size_t()
                st = lib.codec_decoder_marshal(h, None, 0, ctypes.byref(need))
                if st != _abi.CODEC_E_BUFFER:
                    self._check(st)
                out = OutBytes(need.value)
                st = lib.codec_decoder_marshal(h, out.addr, out.cap, ctypes.byref(need))
                if st < 0:
                    raise CodecError(st, lib.codec_decoder_last_error(h).decode(errors="replace"))
                out.used = need.value
                return out.take()
            finally:
                if tmp is not None:
                    lib.codec_decoder_free(tmp)

    @classmethod
    def unmarshal(cls, blob: Buffer, dict: Optional[Dict] = None, single_frame: bool = False,
                  **limits: int) -> "Decoder":
        """Rebuild a decoder from ``marshal()`` output (from this or another process). `dict`
        must be the dictionary the original decoder used (``CODEC_E_DICT`` otherwise); a
        corrupted or foreign state raises ``CodecError`` ``CODEC_E_STATE``.

        A state does not carry its decoder's limits (it is untrusted input): the restored
        decoder has the default limits, or those given here (``window_log_max`` for zstd,
        ``memlimit`` for xz/.lzma/raw LZMA2). A state inside a frame or block that needs more
        raises ``CodecError`` ``CODEC_E_MEMLIMIT``; later frames are held to the limits."""
        keep, addr, n = in_buffer(blob)
        if limits:
            new = cls("auto", dict=dict, single_frame=single_frame, **limits)
            with new._lock:
                new._check(lib.codec_decoder_restore(new._handle(), addr or None, n))
            return new
        new = cls.__new__(cls)
        _Handle.__init__(new)
        new._init_state(single_frame)
        new.format = Format.AUTO
        new._dict = _as_dict(dict)
        _check_global(lib.codec_decoder_unmarshal(addr or None, n, _dict_ptr(new._dict), ctypes.byref(new._ptr)))
        return new


# ----------------------------------------------------------------------------- inspection

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

    @property
    def skippable(self) -> bool:
        """A skippable frame (zstd or LZ4)."""
        return bool(self.flags & _abi.CODEC_FRAME_FLAG_SKIPPABLE)


def _frame_header(fmt: Format, addr: int, n: int) -> Tuple[int, FrameHeader]:
    h = FrameHeader()
    return lib.codec_frame_info(fmt, addr or None, n, ctypes.byref(h)), h


def frame_info(data: Buffer, format: FormatLike = "auto") -> FrameInfo:
    """Read the frame (or stream) header at the start of `data`. Raises ``CodecError``:
    ``CODEC_E_TRUNCATED`` when the header is incomplete, ``CODEC_E_CORRUPT`` when invalid."""
    keep, addr, n = in_buffer(data)
    st, h = _frame_header(_format(format, True), addr, n)
    _check_global(st)
    size = None if h.content_size == _abi.CODEC_CONTENT_SIZE_UNKNOWN else h.content_size
    return FrameInfo(Format(h.format), h.header_size, size, h.window_size, h.block_size, h.dict_id, h.checksum,
                     h.flags)


def frame_size(data: Buffer, format: FormatLike = "auto") -> int:
    """Compressed size of the complete frame (zstd, LZ4 frame) or stream (xz) at the start
    of `data`. ``CodecError`` ``CODEC_E_TRUNCATED`` when it is not complete in `data`."""
    keep, addr, n = in_buffer(data)
    size = ctypes.c_uint64()
    _check_global(lib.codec_frame_size(_format(format, True), addr or None, n, ctypes.byref(size)))
    return size.value


def detect_format(data: Buffer) -> Format:
    """The format of `data`, from its first bytes (up to 13 are needed). ``CodecError``:
    ``CODEC_E_TRUNCATED`` when more bytes are needed, ``CODEC_E_UNSUPPORTED`` when unknown."""
    keep, addr, n = in_buffer(data)
    f = ctypes.c_int32()
    _check_global(lib.codec_detect_format(addr or None, n, ctypes.byref(f)))
    return Format(f.value)


# ----------------------------------------------------------------------------- one-shot

def compress(data: Buffer, format: FormatLike = "zstd", level: Optional[int] = None, dict: Optional[Dict] = None,
             **params: int) -> bytes:
    """Compress `data` into one frame (the content size is recorded where the format can).
    Arguments as for ``Encoder``."""
    fmt = _format(format, allow_auto=False)
    if dict is None and not params:
        keep, addr, n = in_buffer(data)
        out = OutBytes(lib.codec_compress_bound(fmt, n) or n + 4096)
        w = ctypes.c_size_t()
        st = lib.codec_compress(fmt, _abi.CODEC_LEVEL_DEFAULT if level is None else level, addr or None, n,
                                out.addr, out.cap, ctypes.byref(w))
        _check_global(st)
        out.used = w.value
        return out.take()
    with Encoder(fmt, level=level, dict=dict, **params) as e:
        e.set_pledged_size(len(memoryview(data).cast("B")) if not isinstance(data, bytes) else len(data))
        return e._run(data, _abi.CODEC_FINISH)


# Largest output we size up front from the frames' recorded content sizes without further
# checks; beyond it the recorded size must also be physically possible for the input.
_TRUSTED_SIZE = 1 << 26
_MAX_WALK = 64  # frames inspected to add up content sizes


def _content_total(fmt: Format, addr: int, n: int) -> Optional[int]:
    """Sum of the recorded content sizes of the frames in the input, or None when some
    frame does not record it (or the input is not a simple run of frames)."""
    if fmt in (Format.LZ4BLOCKS, Format.LZMA2) or n == 0:
        return None
    total, off, size = 0, 0, ctypes.c_uint64()
    for _ in range(_MAX_WALK):
        st, h = _frame_header(fmt, addr + off, n - off)
        if st < 0:
            return None
        f = h.format
        if h.flags & _abi.CODEC_FRAME_FLAG_SKIPPABLE:
            pass
        elif h.content_size == _abi.CODEC_CONTENT_SIZE_UNKNOWN:
            return None
        else:
            total += h.content_size
        st = lib.codec_frame_size(f, addr + off, n - off, ctypes.byref(size))
        if st < 0:
            # .lzma has no frame walk: a single stream is the whole input
            return total if off == 0 and f == Format.LZMA else None
        off += size.value
        if off >= n:
            return total
    return None


def _buffer_error(limit: int) -> CodecError:
    return CodecError(_abi.CODEC_E_BUFFER, f"the decompressed data is larger than {limit} bytes")


def _stream_decompress(data: Buffer, fmt: Format, dict: Optional[Dict], params: dict, limit: int,
                       hint: int = 0, dst: Optional[Tuple[int, int]] = None):
    with Decoder(fmt, dict=dict, **params) as d:
        out = d._decode(data, limit, hint, dst)
        if limit >= 0 and not d.needs_input and not d._eof:
            # the limit was reached: is there really more?
            probe = bytearray(1)
            if d.decompress_into(b"", probe):
                raise _buffer_error(limit)
        if not d.at_frame_edge:
            raise CodecError(_abi.CODEC_E_TRUNCATED, "compressed data ended before the end of a frame")
        if d._frames == 0 and fmt != Format.LZ4BLOCKS and d.format != Format.LZ4BLOCKS:
            raise CodecError(_abi.CODEC_E_TRUNCATED, "no complete frame in the data")
        return out


def decompress(data: Buffer, format: FormatLike = "auto", dict: Optional[Dict] = None,
               max_output: Optional[int] = None, **params: int) -> bytes:
    """Decompress every frame in `data` and return the result.

    The output is sized from the frames' recorded content sizes when they have them. With
    `max_output`, never more than that many bytes are allocated or produced: larger content
    raises ``CodecError`` ``CODEC_E_BUFFER``. Raises ``CodecError`` ``CODEC_E_TRUNCATED`` when
    the data ends inside a frame or holds no frame, ``CODEC_E_CORRUPT`` / ``CODEC_E_CHECKSUM``
    for bad data. Keywords are decoder parameters, as for ``Decoder``.
    """
    fmt = _format(format, allow_auto=True)
    limit = -1 if max_output is None else int(max_output)
    keep, addr, n = in_buffer(data)
    total = _content_total(fmt, addr, n)
    if total is not None and limit >= 0 and total > limit:
        raise _buffer_error(limit)
    plausible = total is not None and (total <= _TRUSTED_SIZE or total <= n << 15)
    if plausible and dict is None and not params:
        out = OutBytes(total + 1)  # one spare byte tells "more than recorded" from "exact"
        w = ctypes.c_size_t()
        st = lib.codec_decompress(fmt, addr or None, n, out.addr, out.cap, ctypes.byref(w))
        if st != _abi.CODEC_E_BUFFER:  # a header that lied about the size: stream instead
            _check_global(st)
            out.used = w.value
            return out.take()
    hint = total + 1 if plausible else 0
    if limit >= 0 and hint:
        hint = min(hint, limit)
    return _stream_decompress(data, fmt, _as_dict(dict), params, limit, hint)


def decompress_into(data: Buffer, buffer: Buffer, format: FormatLike = "auto", dict: Optional[Dict] = None,
                    **params: int) -> int:
    """Decompress every frame in `data` into the writable `buffer`; return the number of
    bytes written. ``CodecError`` ``CODEC_E_BUFFER`` when the output does not fit."""
    fmt = _format(format, allow_auto=True)
    okeep, oaddr, cap = out_buffer(buffer)
    if dict is None and not params:
        keep, addr, n = in_buffer(data)
        w = ctypes.c_size_t()
        st = lib.codec_decompress(fmt, addr or None, n, oaddr or None, cap, ctypes.byref(w))
        if st == _abi.CODEC_E_BUFFER:
            raise _buffer_error(cap)
        _check_global(st)
        return w.value
    return _stream_decompress(data, fmt, _as_dict(dict), params, cap, dst=(oaddr, cap))
