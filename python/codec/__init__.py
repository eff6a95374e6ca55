"""libcodec for Python: streaming zstd, LZ4 and xz/LZMA with flush on every format,
decoders that can be cloned or saved mid-frame, and shared dictionaries.

Pure Python over ctypes (no compiled extension); the work is done by libcodec.so.

>>> import codec
>>> blob = codec.compress(b"hello " * 1000, format="zstd", level=19)
>>> codec.decompress(blob) == b"hello " * 1000
True

Formats: ``"zstd"``, ``"lz4"`` (frame), ``"lz4blocks"``, ``"xz"``, ``"lzma2"`` (raw),
``"lzma"`` (.lzma); decoders also take ``"auto"``; ``codec.Format`` members work too. Keyword
parameters are the C parameter names in lower case without the ``CODEC_PARAM_`` and format
prefixes (``CODEC_PARAM_ZSTD_WINDOW_LOG`` -> ``window_log``, ``CODEC_PARAM_XZ_DICT_SIZE`` ->
``dict_size``).

Objects: ``Encoder``, ``Decoder`` (``clone()``, ``marshal()``, ``Decoder.unmarshal()``),
``Dict`` (``Dict.train()``), ``open()`` (file objects like ``lzma.open``). Functions:
``compress``, ``decompress``, ``decompress_into``, ``frame_info``, ``frame_size``,
``detect_format``, ``param_bounds``, ``compress_bound``, ``version``. Errors: ``CodecError``.

Thread safety: every object may be used from several threads (each has a lock); the C calls
release the GIL, so separate objects really run in parallel. Encoders and decoders own C
state: ``close()`` them (or use ``with``) to free it at once; otherwise it is freed when the
object is collected. They cannot be pickled; save a decoder with ``marshal()``.

The seeds' APIs live in ``codec.compat``: ``yalzma``, ``lz4framed``, ``lz4stream``, ``pyzstd``.
"""
from __future__ import annotations

from ._core import (
    Buffer,
    CodecError,
    CodecValueError,
    Decoder,
    Dict,
    Encoder,
    Format,
    FrameInfo,
    compress,
    compress_bound,
    decompress,
    decompress_into,
    detect_format,
    frame_info,
    frame_size,
    param_bounds,
    version,
)
from ._file import CodecFile, open
from ._lib import path as library_path

__all__ = [
    "Format",
    "CodecError",
    "CodecValueError",
    "Encoder",
    "Decoder",
    "Dict",
    "FrameInfo",
    "CodecFile",
    "compress",
    "decompress",
    "decompress_into",
    "open",
    "frame_info",
    "frame_size",
    "detect_format",
    "param_bounds",
    "compress_bound",
    "version",
    "library_path",
]
