"""yalzma's API on libcodec: an ``.xz`` encoder (LZMA2, CRC64) that can sync-flush.

``LZMAEncoder(preset=6)``: ``run(data)`` feeds data and returns what is ready,
``sync_flush()`` makes everything so far decodable by any xz decoder (``lzma.open`` reads it)
without ending the stream, ``finish()`` ends the stream. The output is a standard ``.xz``
stream, decodable by ``lzma.decompress`` and ``xz -d``.

Differences from yalzma 0.0.2, all deliberate:

* ``run`` accepts any bytes-like object (yalzma asserted ``bytes``);
* a completely filled output buffer is handled (the 0.0.2 bug fixed in 0.0.3);
* calling a method after ``finish()`` raises ``EncoderFinishedError`` (a ``ValueError`` and,
  for code written against yalzma's accidental ``AttributeError``, an ``AttributeError`` too).
"""
from __future__ import annotations

from typing import Any

from .. import _abi
from .._core import Encoder

__all__ = ["LZMAEncoder", "EncoderFinishedError"]


class EncoderFinishedError(ValueError, AttributeError):
    """The encoder was used after ``finish()``."""


class LZMAEncoder:
    """An ``.xz`` encoder with sync flush (LZMA2 filter, CRC64 check), thread-safe per method."""

    def __init__(self, preset: int = 6) -> None:
        self._enc = Encoder("xz", level=preset, check=_abi.CODEC_CHECK_CRC64)

    def _encoder(self) -> Encoder:
        if self._enc is None:
            raise EncoderFinishedError("the LZMAEncoder is finished")
        return self._enc

    def run(self, data: Any) -> bytes:
        """Compress `data`; return the output that is ready (often ``b''``)."""
        if not len(memoryview(data)):
            self._encoder()
            return b""
        return self._encoder().compress(data)

    def sync_flush(self) -> bytes:
        """Make all data given so far decodable (LZMA_SYNC_FLUSH); the stream goes on."""
        return self._encoder().flush()

    def finish(self) -> bytes:
        """End the stream and return the rest of the output; the encoder is then done."""
        enc = self._encoder()
        try:
            return enc.finish()
        finally:
            enc.close()
            self._enc = None
