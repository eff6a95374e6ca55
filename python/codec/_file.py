"""``codec.open``: compressed files for every format, like ``lzma.open``."""
from __future__ import annotations

import builtins
import io
import os
import threading
from typing import Any, Optional, Union

from . import _abi
from ._core import Buffer, CodecError, Decoder, Dict, Encoder, Format, FormatLike, _format

READ_SIZE = 1 << 17  # compressed bytes read from the underlying file at a time

_EXTENSIONS = {
    ".zst": Format.ZSTD,
    ".zstd": Format.ZSTD,
    ".lz4": Format.LZ4,
    ".xz": Format.XZ,
    ".txz": Format.XZ,
    ".lzma": Format.LZMA,
}


def _format_for_name(name: Any) -> Format:
    """The format a file name suggests (``.zst``, ``.lz4``, ``.xz``, ``.lzma``); zstd otherwise."""
    if isinstance(name, (str, bytes, os.PathLike)):
        ext = os.path.splitext(os.fsdecode(name))[1].lower()
        return _EXTENSIONS.get(ext, Format.ZSTD)
    return Format.ZSTD


class _DecodingReader(io.RawIOBase):
    """Raw stream of the decompressed data of a file object; BufferedReader sits on top.

    Seeking forward decodes and discards; seeking backward rewinds the underlying file to
    where reading began and decodes again (as ``lzma.open`` does).
    """

    def __init__(self, fp: Any, decoder: Decoder) -> None:
        self._fp = fp
        self._decoder = decoder
        self._pos = 0        # offset in the decompressed data
        self._size = -1      # total decompressed size, once known
        self._eof = False
        try:
            self._start = fp.tell() if fp.seekable() else 0
        except (AttributeError, OSError, ValueError):
            self._start = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return bool(getattr(self._fp, "seekable", lambda: False)())

    def close(self) -> None:
        self._decoder.close()
        super().close()

    def readinto(self, b: Buffer) -> int:
        if self._eof:
            return 0
        d = self._decoder
        with memoryview(b) as view, view.cast("B") as out:
            if not len(out):
                return 0
            while True:
                if d.needs_input:
                    raw = self._fp.read(READ_SIZE)
                    if not raw:
                        if d.at_frame_edge and (d.frames or d.format == Format.LZ4BLOCKS):
                            self._eof = True
                            self._size = self._pos
                            return 0
                        raise EOFError("Compressed file ended before the end-of-stream marker was reached")
                else:
                    raw = b""
                n = d.decompress_into(raw, out)
                if n:
                    self._pos += n
                    return n

    def _rewind(self) -> None:
        self._fp.seek(self._start)
        self._decoder.reset()
        self._pos = 0
        self._eof = False

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pass
        elif whence == io.SEEK_CUR:
            offset = self._pos + offset
        elif whence == io.SEEK_END:
            if self._size < 0:
                while self.readinto(bytearray(1 << 20)):
                    pass
            offset = self._size + offset
        else:
            raise ValueError(f"invalid whence ({whence!r}, should be 0, 1 or 2)")
        if offset < self._pos:
            self._rewind()
        else:
            offset -= self._pos
        if offset > 0:
            scratch = memoryview(bytearray(min(offset, 1 << 20)))
            while offset > 0:
                n = self.readinto(scratch[:min(offset, len(scratch))])
                if not n:
                    break
                offset -= n
        return self._pos

    def tell(self) -> int:
        return self._pos


class CodecFile(io.BufferedIOBase):
    """A file object whose contents are compressed (any libcodec format), like
    ``lzma.LZMAFile``.

    Reading (mode ``"rb"``) detects the format unless `format` is given (``"lz4blocks"`` and
    ``"lzma2"`` must be named), decodes concatenated frames, supports ``read``, ``read1``,
    ``readinto``, ``readline``, iteration, ``peek`` and ``seek``/``tell`` (forward by decoding,
    backward by rewinding and decoding again), and raises ``EOFError`` for a truncated file.

    Writing (``"wb"``, ``"xb"``, ``"ab"``: a new frame after the existing data) compresses
    with `format` (by default from the file name: ``.zst``, ``.lz4``, ``.xz``, ``.lzma``;
    else zstd), `level`, `dict` and format parameters. ``flush()`` performs a format flush,
    so a reader sees all data written so far while the frame goes on; ``.lzma`` cannot
    flush, so there ``flush()`` only passes on what the encoder has already produced.
    ``close()`` finishes the frame.
    """

    def __init__(self, filename: Union[str, bytes, os.PathLike, Any], mode: str = "r", *,
                 format: Optional[FormatLike] = None, level: Optional[int] = None,
                 dict: Optional[Dict] = None, **params: int) -> None:
        self._fp: Any = None
        self._closefp = False
        self._reading = False
        self._writing = False
        self._lock = threading.RLock()
        if mode in ("r", "rb"):
            self._reading, fmode = True, "rb"
        elif mode in ("w", "wb", "a", "ab", "x", "xb"):
            self._writing, fmode = True, mode[0] + "b"
        else:
            raise ValueError(f"invalid mode: {mode!r}")
        if isinstance(filename, (str, bytes, os.PathLike)):
            self._fp = builtins.open(filename, fmode)
            self._closefp = True
        elif hasattr(filename, "read" if self._reading else "write"):
            self._fp = filename
        else:
            raise TypeError("filename must be a str, bytes or os.PathLike object, or a file object")
        try:
            if self._reading:
                fmt = _format("auto" if format is None else format, allow_auto=True)
                self._decoder = Decoder(fmt, dict=dict, **params)
                self._buffer = io.BufferedReader(_DecodingReader(self._fp, self._decoder), buffer_size=1 << 16)
            else:
                fmt = _format_for_name(filename) if format is None else _format(format, allow_auto=False)
                self._encoder = Encoder(fmt, level=level, dict=dict, **params)
                self._pos = 0
            self.format = fmt
        except BaseException:
            if self._closefp:
                self._fp.close()
            raise

    # -- state
    @property
    def closed(self) -> bool:
        return self._fp is None

    def _check_open(self) -> None:
        if self._fp is None:
            raise ValueError("I/O operation on closed file")

    def _check_readable(self) -> None:
        self._check_open()
        if not self._reading:
            raise io.UnsupportedOperation("File not open for reading")

    def _check_writable(self) -> None:
        self._check_open()
        if not self._writing:
            raise io.UnsupportedOperation("File not open for writing")

    def close(self) -> None:
        """Finish the frame (writing), release the decoder/encoder and close the file if it
        was opened here. Idempotent."""
        with self._lock:
            if self._fp is None:
                return
            try:
                if self._writing:
                    try:
                        self._fp.write(self._encoder.finish())
                    finally:
                        self._encoder.close()
                else:
                    self._buffer.close()
            finally:
                try:
                    if self._closefp:
                        self._fp.close()
                finally:
                    self._fp = None
                    self._closefp = False

    def fileno(self) -> int:
        """The underlying file's descriptor."""
        self._check_open()
        return self._fp.fileno()

    def seekable(self) -> bool:
        return self._reading and self._fp is not None and self._buffer.seekable()

    def readable(self) -> bool:
        self._check_open()
        return self._reading

    def writable(self) -> bool:
        self._check_open()
        return self._writing

    # -- reading
    def read(self, size: Optional[int] = -1) -> bytes:
        """Read up to `size` decompressed bytes (all when negative or None)."""
        self._check_readable()
        return self._buffer.read(-1 if size is None else size)

    def read1(self, size: int = -1) -> bytes:
        """Read up to `size` bytes with at most one read of the underlying file."""
        self._check_readable()
        if size < 0:
            size = io.DEFAULT_BUFFER_SIZE
        return self._buffer.read1(size)

    def readinto(self, b: Buffer) -> int:
        """Read decompressed bytes into `b`; return how many."""
        self._check_readable()
        return self._buffer.readinto(b)

    def readinto1(self, b: Buffer) -> int:
        self._check_readable()
        return self._buffer.readinto1(b)

    def readline(self, size: Optional[int] = -1) -> bytes:
        """Read one line (up to `size` bytes)."""
        self._check_readable()
        return self._buffer.readline(-1 if size is None else size)

    def peek(self, size: int = -1) -> bytes:
        """Return buffered data without advancing (at least one byte unless at EOF)."""
        self._check_readable()
        return self._buffer.peek(size)

    # -- writing
    def write(self, data: Buffer) -> int:
        """Compress and write `data`; return its length in bytes."""
        with self._lock:
            self._check_writable()
            n = data.nbytes if isinstance(data, memoryview) else len(memoryview(data).cast("B"))
            out = self._encoder.compress(data)
            if out:
                self._fp.write(out)
            self._pos += n
            return n

    def flush(self) -> None:
        """Writing: make everything written so far decodable by a reader (a format flush)
        and flush the underlying file. For ``.lzma``, which cannot flush, only what the
        encoder has already produced is passed on."""
        with self._lock:
            if self._fp is None or not self._writing:
                return
            try:
                out = self._encoder.flush()
            except CodecError as e:
                if e.status != _abi.CODEC_E_UNSUPPORTED:
                    raise
                out = b""
            if out:
                self._fp.write(out)
            if hasattr(self._fp, "flush"):
                self._fp.flush()

    # -- position
    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Reading only: move to `offset` in the decompressed data (backward seeks decode
        again from the start)."""
        self._check_readable()
        if not self._buffer.seekable():
            raise io.UnsupportedOperation("the underlying file is not seekable")
        return self._buffer.seek(offset, whence)

    def tell(self) -> int:
        """Position in the decompressed data."""
        self._check_open()
        if self._reading:
            return self._buffer.tell()
        return self._pos


def open(file: Union[str, bytes, os.PathLike, Any], mode: str = "rb", *, format: Optional[FormatLike] = None,
         level: Optional[int] = None, dict: Optional[Dict] = None, encoding: Optional[str] = None,
         errors: Optional[str] = None, newline: Optional[str] = None, **params: int) -> Any:
    """Open a compressed file in binary (``"rb"``, ``"wb"``, ``"ab"``, ``"xb"``) or text
    (``"rt"``, ``"wt"``, ``"at"``, ``"xt"``) mode; `file` is a path or a file object.

    Binary modes return a ``CodecFile``; text modes wrap it in ``io.TextIOWrapper`` with
    `encoding`, `errors` and `newline`. See ``CodecFile`` for `format`, `level`, `dict` and
    the parameters.
    """
    if "t" in mode:
        if "b" in mode:
            raise ValueError(f"invalid mode: {mode!r}")
    else:
        if encoding is not None:
            raise ValueError("argument 'encoding' not supported in binary mode")
        if errors is not None:
            raise ValueError("argument 'errors' not supported in binary mode")
        if newline is not None:
            raise ValueError("argument 'newline' not supported in binary mode")
    f = CodecFile(file, mode.replace("t", ""), format=format, level=level, dict=dict, **params)
    if "t" in mode:
        if hasattr(io, "text_encoding"):
            encoding = io.text_encoding(encoding)
        return io.TextIOWrapper(f, encoding, errors, newline)
    return f
