"""py-lz4framed's API (the fork with resumable decoders) on libcodec: LZ4 frames.

``compress``, ``decompress``, ``Compressor``, ``Decompressor`` (iterates one chunk per LZ4 block
read from a file object; ``setfp`` continues from another source after an interruption,
``setctx`` swaps in a cloned or unmarshalled context), ``create_decompression_context``,
``decompress_update``, ``get_frame_info``, ``get_block_size``, ``clone_decompression_context``,
``marshal_decompression_context``, ``unmarshal_decompression_context``, ``Lz4FramedError``
(``args == (message, LZ4F error code)``), ``Lz4FramedNoDataError`` and the ``LZ4F_*`` constants.

Differences from the fork, all deliberate:

* ``decompress()`` decodes every concatenated frame (the original silently ignored everything
  after the first frame); a context (``decompress_update``, ``Decompressor``) still covers one
  frame and leaves the bytes after it unconsumed, as before.
* The marshalled context is libcodec's versioned, checksummed, little-endian decoder state
  (plus a few bytes of frame-walking state), portable across machines and validated on load;
  a damaged one raises ``Lz4FramedError(..., LZ4F_ERROR_GENERIC)``. It is small at block
  boundaries (under 256 bytes with independent blocks) and about 64 KiB with linked blocks.
* The checksum-only marshalling functions of the fork (which copied raw XXH32 state) are not
  provided: the full state includes the checksum state.
"""
from __future__ import annotations

import struct
import threading
from typing import Any, Dict as _Dict, Iterator, List, Optional

from .. import _abi
from .._core import CodecError, Decoder, Encoder, compress as _compress, decompress as _decompress, version

__all__ = [
    "compress", "decompress", "Compressor", "Decompressor", "create_decompression_context", "decompress_update",
    "get_frame_info", "get_block_size", "clone_decompression_context", "marshal_decompression_context",
    "unmarshal_decompression_context", "Lz4FramedError", "Lz4FramedNoDataError",
]

__version__ = "0.9.11+libcodec"
LZ4_VERSION = LZ4F_VERSION = next((p.split()[1].rstrip(",)") for p in version().split("(")[-1].split(", ")
                                   if p.startswith("lz4")), "unknown")

LZ4F_BLOCKSIZE_DEFAULT = 0
LZ4F_BLOCKSIZE_MAX64KB = 4
LZ4F_BLOCKSIZE_MAX256KB = 5
LZ4F_BLOCKSIZE_MAX1MB = 6
LZ4F_BLOCKSIZE_MAX4MB = 7
LZ4F_COMPRESSION_MIN = 0
LZ4F_COMPRESSION_MIN_HC = 3
LZ4F_COMPRESSION_MAX = 12

# LZ4F error codes (lz4 1.7 numbering, as the fork exported them)
(LZ4F_ERROR_GENERIC, LZ4F_ERROR_maxBlockSize_invalid, LZ4F_ERROR_blockMode_invalid,
 LZ4F_ERROR_contentChecksumFlag_invalid, LZ4F_ERROR_compressionLevel_invalid, LZ4F_ERROR_headerVersion_wrong,
 LZ4F_ERROR_blockChecksum_unsupported, LZ4F_ERROR_reservedFlag_set, LZ4F_ERROR_allocation_failed,
 LZ4F_ERROR_srcSize_tooLarge, LZ4F_ERROR_dstMaxSize_tooSmall, LZ4F_ERROR_frameHeader_incomplete,
 LZ4F_ERROR_frameType_unknown, LZ4F_ERROR_frameSize_wrong, LZ4F_ERROR_srcPtr_wrong,
 LZ4F_ERROR_decompressionFailed, LZ4F_ERROR_headerChecksum_invalid,
 LZ4F_ERROR_contentChecksum_invalid) = range(1, 19)

_MAGIC = 0x184D2204


class Lz4FramedError(Exception):
    """An LZ4 frame error: ``args == (message, LZ4F error code)``."""


class Lz4FramedNoDataError(Lz4FramedError):
    """No data: empty input, or the source ran dry before the frame ended."""


def _lz4_error(e: CodecError) -> Exception:
    if e.status == _abi.CODEC_E_TRUNCATED:
        return ValueError("frame incomplete")
    code = {
        _abi.CODEC_E_CHECKSUM: LZ4F_ERROR_contentChecksum_invalid,
        _abi.CODEC_E_CORRUPT: LZ4F_ERROR_decompressionFailed,
        _abi.CODEC_E_NOMEM: LZ4F_ERROR_allocation_failed,
        _abi.CODEC_E_INVALID: LZ4F_ERROR_GENERIC,
    }.get(e.status, LZ4F_ERROR_GENERIC)
    if e.status == _abi.CODEC_E_CORRUPT and "magic" in e.message.lower():
        code = LZ4F_ERROR_frameType_unknown
    if e.status == _abi.CODEC_E_CORRUPT and "checksum" in e.message.lower():
        code = LZ4F_ERROR_headerChecksum_invalid if "header" in e.message.lower() else code
    return Lz4FramedError(e.message or e.name, code)


def _nbytes(b: Any) -> int:
    return b.nbytes if isinstance(b, memoryview) else memoryview(b).nbytes


def _block_size(block_size_id: int) -> int:
    if block_size_id == 0:
        return 1 << 16
    if block_size_id not in (4, 5, 6, 7):
        raise ValueError(f"invalid block_size_id {block_size_id}")
    return 1 << (8 + 2 * block_size_id)


def get_block_size(block_size_id: int) -> int:
    """Maximum block size for a block size id (4..7 = 64 KiB .. 4 MiB; 0 = default 64 KiB)."""
    return _block_size(block_size_id)


def _encoder_params(block_size_id: int, block_mode_linked: bool, checksum: bool, level: int) -> dict:
    if not LZ4F_COMPRESSION_MIN <= level <= LZ4F_COMPRESSION_MAX:
        raise ValueError(f"level must be between {LZ4F_COMPRESSION_MIN} and {LZ4F_COMPRESSION_MAX}")
    return dict(level=level, block_size=_block_size(block_size_id), linked_blocks=int(bool(block_mode_linked)),
                content_checksum=int(bool(checksum)))


def compress(b: Any, block_size_id: int = LZ4F_BLOCKSIZE_DEFAULT, block_mode_linked: bool = True,
             checksum: bool = False, level: int = LZ4F_COMPRESSION_MIN) -> bytes:
    """Compress `b` into one LZ4 frame (recording the content size)."""
    if not _nbytes(b):
        raise Lz4FramedNoDataError("no data", LZ4F_ERROR_GENERIC)
    p = _encoder_params(block_size_id, block_mode_linked, checksum, level)
    lvl = p.pop("level")
    return _compress(b, "lz4", level=lvl, **p)


def decompress(b: Any, buffer_size: int = 1024) -> bytes:
    """Decompress every LZ4 frame in `b` (`buffer_size` is accepted for compatibility)."""
    if not _nbytes(b):
        raise Lz4FramedNoDataError("no data", LZ4F_ERROR_GENERIC)
    head = bytes(memoryview(b)[:4])
    if len(head) == 4 and struct.unpack("<I", head)[0] != _MAGIC and (struct.unpack("<I", head)[0] >> 4) != 0x184D2A5:
        raise Lz4FramedError("frame type unknown (bad magic)", LZ4F_ERROR_frameType_unknown)
    try:
        return _decompress(b, "lz4")
    except CodecError as e:
        raise _lz4_error(e) from None


# ----------------------------------------------------------------------------- contexts

class _Walker:
    """Follows the LZ4 frame structure of the bytes given to a context (header, block sizes,
    end mark, checksum), to know where the frame ends and how many bytes to read next (the
    LZ4F "hint"). It only looks at headers; libcodec does the decoding."""

    HEADER, BLOCK_HEADER, BLOCK, CHECKSUM, DONE = range(5)
    _FMT = "<BB19sBIB4s"

    def __init__(self) -> None:
        self.stage = self.HEADER
        self.hdr = b""
        self.hdr_len = 7
        self.left = 0
        self.bh = b""

    def copy(self) -> "_Walker":
        w = _Walker.__new__(_Walker)
        w.stage, w.hdr, w.hdr_len, w.left, w.bh = self.stage, self.hdr, self.hdr_len, self.left, self.bh
        return w

    @property
    def flg(self) -> int:
        return self.hdr[4] if len(self.hdr) > 4 else 0

    def feed(self, data: memoryview) -> int:
        """Advance over `data`; return how many of its bytes belong to the frame."""
        i, n = 0, len(data)
        while i < n and self.stage != self.DONE:
            if self.stage == self.HEADER:
                take = min(self.hdr_len - len(self.hdr), n - i)
                self.hdr += bytes(data[i:i + take])
                i += take
                if len(self.hdr) >= 5 and self.hdr_len == 7:
                    self.hdr_len = 7 + (8 if self.flg & 0x08 else 0) + (4 if self.flg & 0x01 else 0)
                if len(self.hdr) == self.hdr_len:
                    self.stage, self.bh = self.BLOCK_HEADER, b""
            elif self.stage == self.BLOCK_HEADER:
                take = min(4 - len(self.bh), n - i)
                self.bh += bytes(data[i:i + take])
                i += take
                if len(self.bh) == 4:
                    size = struct.unpack("<I", self.bh)[0] & 0x7FFFFFFF
                    if size == 0:
                        self.stage, self.left = (self.CHECKSUM, 4) if self.flg & 0x04 else (self.DONE, 0)
                    else:
                        self.stage, self.left = self.BLOCK, size + (4 if self.flg & 0x10 else 0)
            else:  # BLOCK or CHECKSUM
                take = min(self.left, n - i)
                self.left -= take
                i += take
                if self.left == 0:
                    self.stage, self.bh = (self.BLOCK_HEADER, b"") if self.stage == self.BLOCK else (self.DONE, b"")
        return i

    def hint(self) -> int:
        if self.stage == self.HEADER:
            return self.hdr_len - len(self.hdr)
        if self.stage == self.BLOCK_HEADER:
            return 4 - len(self.bh)
        if self.stage == self.BLOCK:
            return self.left + 4  # the rest of this block and the next block's header
        if self.stage == self.CHECKSUM:
            return self.left
        return 0

    def info(self) -> _Dict[str, Any]:
        if self.stage == self.HEADER:
            raise Lz4FramedError("frame header incomplete", LZ4F_ERROR_frameHeader_incomplete)
        flg, bd = self.hdr[4], self.hdr[5]
        length = struct.unpack("<Q", self.hdr[6:14])[0] if flg & 0x08 else 0
        return {"input_hint": self.hint(), "length": length, "block_size_id": (bd >> 4) & 7,
                "block_mode_linked": not flg & 0x20, "checksum": bool(flg & 0x04)}

    def pack(self) -> bytes:
        return struct.pack(self._FMT, self.stage, len(self.hdr), self.hdr, self.hdr_len, self.left, len(self.bh),
                           self.bh)

    @classmethod
    def unpack(cls, blob: bytes) -> "_Walker":
        stage, hl, hdr, hdr_len, left, bl, bh = struct.unpack(cls._FMT, blob)
        if stage > cls.DONE or hl > 19 or bl > 4 or not 7 <= hdr_len <= 19 or hl > hdr_len:
            raise ValueError("bad walker state")
        w = cls.__new__(cls)
        w.stage, w.hdr, w.hdr_len, w.left, w.bh = stage, hdr[:hl], hdr_len, left, bh[:bl]
        return w


class DecompressionContext:
    """An LZ4 frame decompression context (one frame): a libcodec decoder and the frame walker."""

    def __init__(self, decoder: Optional[Decoder] = None, walker: Optional[_Walker] = None) -> None:
        self.decoder = decoder if decoder is not None else Decoder("lz4")
        self.walker = walker if walker is not None else _Walker()
        self.lock = threading.RLock()

    def __reduce__(self):
        raise TypeError("cannot pickle a decompression context: use marshal_decompression_context()")


def create_decompression_context() -> DecompressionContext:
    """A new context for ``decompress_update``."""
    return DecompressionContext()


def decompress_update(ctx: DecompressionContext, b: Any, chunk_len: int = 65536) -> List[Any]:
    """Decompress more of the frame: returns the output chunks (each at most `chunk_len`
    bytes) followed by the input hint: how many bytes to give next (0 = frame complete).
    Bytes after the end of the frame are not consumed."""
    if chunk_len < 1:
        raise ValueError("chunk_len must be positive")
    with ctx.lock:
        walker = ctx.walker.copy()
        view = memoryview(b).cast("B")
        n = walker.feed(view)
        out: List[Any] = []
        dec = ctx.decoder
        try:
            chunk = dec.decompress(view[:n], chunk_len)
            while True:
                if chunk:
                    out.append(chunk)
                if dec.needs_input:
                    break
                chunk = dec.decompress(b"", chunk_len)
        except CodecError as e:
            raise _lz4_error(e) from None
        ctx.walker = walker
        out.append(walker.hint())
        return out


def get_frame_info(ctx: DecompressionContext) -> _Dict[str, Any]:
    """``{input_hint, length, block_size_id, block_mode_linked, checksum}`` of the frame being
    decoded; ``Lz4FramedError(..., LZ4F_ERROR_frameHeader_incomplete)`` before its header."""
    with ctx.lock:
        return ctx.walker.info()


def clone_decompression_context(ctx: DecompressionContext) -> DecompressionContext:
    """An independent copy of the context (a checkpoint)."""
    with ctx.lock:
        return DecompressionContext(ctx.decoder.clone(), ctx.walker.copy())


_STATE_MAGIC = b"L4FP"


def marshal_decompression_context(ctx: DecompressionContext) -> bytes:
    """The context's whole state as bytes (see ``unmarshal_decompression_context``)."""
    with ctx.lock:
        try:
            return _STATE_MAGIC + ctx.walker.pack() + ctx.decoder.marshal()
        except CodecError as e:
            raise Lz4FramedError(e.message or e.name, LZ4F_ERROR_GENERIC) from None


def unmarshal_decompression_context(b: Any) -> DecompressionContext:
    """Rebuild a context from ``marshal_decompression_context`` output."""
    blob = bytes(b)
    head = 4 + struct.calcsize(_Walker._FMT)
    if blob[:4] != _STATE_MAGIC or len(blob) <= head:
        raise Lz4FramedError("invalid marshalled context", LZ4F_ERROR_GENERIC)
    try:
        walker = _Walker.unpack(blob[4:head])
        dec = Decoder.unmarshal(blob[head:])
    except (ValueError, CodecError) as e:
        raise Lz4FramedError(f"invalid marshalled context: {e}", LZ4F_ERROR_GENERIC) from None
    return DecompressionContext(dec, walker)


# ----------------------------------------------------------------------------- classes

class Compressor:
    """Iteratively compress into one LZ4 frame, returning output or writing it to `fp`.

    Used as a context manager (with `fp`), the frame is finished on exit."""

    def __init__(self, fp: Any = None, block_size_id: int = LZ4F_BLOCKSIZE_DEFAULT, block_mode_linked: bool = True,
                 checksum: bool = False, autoflush: bool = False, level: int = LZ4F_COMPRESSION_MIN) -> None:
        self.__lock = threading.Lock()
        if fp is None:
            self.__write = None
        elif not callable(getattr(fp, "write", None)):
            raise TypeError("fp.write not callable")
        else:
            self.__write = fp.write
        p = _encoder_params(block_size_id, block_mode_linked, checksum, level)
        lvl = p.pop("level")
        self.__enc = Encoder("lz4", level=lvl, **p)
        self.__autoflush = autoflush

    def __enter__(self) -> "Compressor":
        if self.__write is None:
            raise ValueError("Context only usable when fp supplied")
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        if exc_type is None:
            self.end()

    def update(self, b: Any) -> Optional[bytes]:
        """Compress `b`; return the output (or write it to fp). ``Lz4FramedNoDataError`` for
        empty input."""
        if not _nbytes(b):
            raise Lz4FramedNoDataError("no data", LZ4F_ERROR_GENERIC)
        with self.__lock:
            out = self.__enc.compress(b)
            if self.__autoflush:
                out += self.__enc.flush()
            if self.__write:
                if out:
                    self.__write(out)
                return None
            return out

    def flush(self) -> Optional[bytes]:
        """Emit everything compressed so far without ending the frame (LZ4F_flush)."""
        with self.__lock:
            out = self.__enc.flush()
            if self.__write:
                self.__write(out)
                return None
            return out

    def end(self) -> Optional[bytes]:
        """Finish the frame; return the rest (or write it to fp)."""
        with self.__lock:
            out = self.__enc.finish()
            if self.__write:
                self.__write(out)
                return None
            return out


class Decompressor:
    """Iterate over the decompressed blocks of one LZ4 frame read from a file object.

    Reads exactly what the frame needs next, so after each yielded block the input is at a
    block boundary. When ``fp.read`` returns no data before the frame ends,
    ``Lz4FramedNoDataError`` is raised; the state is kept, so ``setfp`` (a source continuing at
    the next unread byte) and iterating again resumes. ``setctx`` swaps in a cloned or
    unmarshalled context.
    """

    def __init__(self, fp: Any) -> None:
        self.__info: Optional[_Dict[str, Any]] = None
        self.__ctx = create_decompression_context()
        self.__lock = threading.RLock()
        self.__data_read = 0
        self.__last_hint = 0
        self.__last_read_aligned = False
        self.__first15 = b""
        self.setfp(fp)

    def setfp(self, fp: Any) -> None:
        """Read from `fp` from now on (it must continue at the next unread byte)."""
        with self.__lock:
            if fp is None:
                raise TypeError("fp")
            if not callable(getattr(fp, "read", None)):
                raise TypeError("fp.read not callable")
            self.__read = fp.read

    def setctx(self, ctx: DecompressionContext) -> None:
        """Use `ctx` (from clone or unmarshal) as the decompression context."""
        with self.__lock:
            self.__ctx = ctx

    def _read(self, read: Any, input_hint: int = 15) -> bytes:
        data = read(input_hint)
        if not data:
            raise Lz4FramedNoDataError("no data", LZ4F_ERROR_GENERIC)
        self.__data_read += len(data)
        self.__last_hint = input_hint
        self.__last_read_aligned = len(data) == input_hint
        return data

    def __iter__(self) -> Iterator[bytes]:
        with self.__lock:
            ctx = self.__ctx
            read = self.__read
            input_hint = 15
            chunk_size = 32
            if self.__info is None:
                data = self._read(read, input_hint)
                if not self.__first15:
                    self.__first15 = data
                output = decompress_update(ctx, data, chunk_size)
                try:
                    self.__info = info = get_frame_info(ctx)
                except Lz4FramedError as ex:
                    if ex.args[1] != LZ4F_ERROR_frameHeader_incomplete:
                        raise
                else:
                    chunk_size = get_block_size(info["block_size_id"])
                input_hint = output.pop()
                yield from output
            else:
                chunk_size = get_block_size(self.__info["block_size_id"])
                input_hint = ctx.walker.hint() or 0
                if ctx.walker.stage == _Walker.DONE:
                    return
            while input_hint > 0:
                output = decompress_update(ctx, self._read(read, input_hint), chunk_size)
                input_hint = output.pop()
                yield from output

    @property
    def frame_info(self) -> Optional[_Dict[str, Any]]:
        """See ``get_frame_info()``; None until the header has been read."""
        return self.__info

    @property
    def data_read(self) -> int:
        """Number of bytes read from the file objects."""
        return self.__data_read

    @property
    def last_hint(self) -> int:
        """The size of the last read requested."""
        return self.__last_hint

    @property
    def last_read_aligned(self) -> bool:
        """The last read returned exactly what was asked (so the input is on a block boundary)."""
        return self.__last_read_aligned

    @property
    def next_data_block(self) -> int:
        """Offset in the input where the data of the next block starts (once its size field
        has been read), or where its size field starts."""
        w = self.__ctx.walker
        return self.__data_read + (w.hint() - 4 if w.stage == _Walker.BLOCK else 0)

    @property
    def first15(self) -> bytes:
        """The first bytes read (the frame header)."""
        return self.__first15

    @property
    def ctx(self) -> DecompressionContext:
        """The current decompression context."""
        return self.__ctx
