"""Bad input and error discipline through Python, every format.

- Thousands of mutations of valid streams (bit flips, byte sets, truncations, insertions,
  garbage after valid frames, garbage after valid headers), decoded in random pieces with
  bounded output: each ends in a CodecError with a message, or in output equal to the original
  (formats with an integrity check, when the decoder says the stream is complete).
- A panic inside the library (CODEC_PARAM_DEBUG_PANIC) raises CODEC_E_PANIC, poisons that
  handle only, and the process goes on.
- After a data error the decoder refuses work (CODEC_E_SEQUENCE) until reset().
- One-shot decompression with `max_output` never allocates for a content size the frame
  merely claims.

CODEC_BAD_INPUT_ROUNDS=N multiplies the number of mutations.
"""
import os
import random
import resource
import zlib

import pytest

import codec
from codec import _abi

from conftest import ALL_FORMATS, param_formats, text_data

ROUNDS = max(1, int(os.environ.get("CODEC_BAD_INPUT_ROUNDS", "1")))
CHECKED = {"zstd", "lz4", "xz"}  # content covered by a check in these streams
OUT_CAP = 16 << 20
GARBAGE = b"garbage after a valid stream \x00\xff\x28\xb5\x2f\xfd"


def _params(fmt):
    return {"memlimit": 16 << 20} if fmt in ("zstd", "xz", "lzma2", "lzma") else {}


def _stream(fmt, data):
    level = 0 if fmt in ("xz", "lzma2", "lzma") else 1
    kw = {"checksum": 1} if fmt in ("zstd", "lz4") else {}
    e = codec.Encoder(fmt, level=level, **kw)
    if fmt == "lzma":
        return e.finish(data)
    half = len(data) // 2
    return e.compress(data[:half]) + e.flush() + e.finish(data[half:])


def _mutate(z, i, r):
    at = r.randrange(len(z))
    kind = i % 6
    if kind == 0:
        m = bytearray(z)
        m[at] ^= 1 << r.randrange(8)
        return bytes(m), 1
    if kind == 1:
        m = bytearray(z)
        m[at] = 0xFF if r.random() < 0.3 else r.randrange(256)
        return bytes(m), 1
    if kind == 2:
        return z[:at], 1 if at else 0  # an empty stream is a valid (empty) one
    if kind == 3:
        return z[:at] + bytes(r.randrange(256) for _ in range(r.randint(1, 8))) + z[at:], 1
    if kind == 4:
        copies = 2 if i % 12 == 4 else 1
        return z * copies + GARBAGE[: r.randint(1, len(GARBAGE))], copies
    keep = min(len(z), r.randint(4, 24))
    return z[:keep] + bytes(r.randrange(256) for _ in range(r.randrange(200))), 1


def _decode(fmt, m, r):
    """('error', CodecError) or ('done', output, at_frame_edge) or ('capped',)."""
    d = codec.Decoder(fmt, **_params(fmt))
    out = bytearray()
    pos = 0
    try:
        while True:
            n = r.randint(1, 700)
            chunk = m[pos:pos + n]
            pos += len(chunk)
            out += d.decompress(chunk, max_length=r.randint(1, 8192))
            # drain what is pending before feeding more
            for _ in range(1_000_000):
                if d.needs_input or d.eof:
                    break
                out += d.decompress(b"", max_length=8192)
                if len(out) > OUT_CAP:
                    return ("capped",)
            else:
                pytest.fail(f"{fmt}: decoder never asks for input")
            if len(out) > OUT_CAP:
                return ("capped",)
            if pos >= len(m):
                return ("done", bytes(out), d.at_frame_edge)
    except codec.CodecError as e:
        assert e.status < 0 and e.message, e
        assert e.name not in ("CODEC_E_PANIC", "CODEC_E_SEQUENCE", "CODEC_E_INTERNAL"), e
        return ("error", e)
    finally:
        d.close()


@pytest.mark.parametrize("fmt", param_formats(*ALL_FORMATS))
def test_mutations(fmt):
    data = text_data(3000, seed=len(fmt))
    z = _stream(fmt, data)
    r = random.Random(zlib.crc32(fmt.encode()))
    n = 1200 * ROUNDS
    errors = 0
    for i in range(n):
        m, copies = _mutate(z, i, r)
        res = _decode(fmt, m, r)
        if res[0] == "error":
            errors += 1
        elif res[0] == "done" and fmt in CHECKED and res[2]:
            assert res[1] == data * copies, f"{fmt}: mutant {i} decoded without error to different output"
    assert errors > n // 3, (fmt, errors, n)


@pytest.mark.parametrize("fmt", param_formats(*ALL_FORMATS))
def test_one_shot_mutations(fmt):
    """codec.decompress on mutants: an error, or (checked formats) the original."""
    data = text_data(2000, seed=3)
    z = _stream(fmt, data)
    r = random.Random(7)
    for i in range(300 * ROUNDS):
        m, copies = _mutate(z, i, r)
        try:
            out = codec.decompress(m, fmt, max_output=1 << 20)
        except codec.CodecError as e:
            assert e.status < 0 and e.message
            assert e.name not in ("CODEC_E_PANIC", "CODEC_E_SEQUENCE", "CODEC_E_INTERNAL"), e
            continue
        if fmt in CHECKED:
            assert out == data * copies, f"{fmt}: mutant {i}"


@pytest.mark.parametrize("fmt", param_formats(*ALL_FORMATS))
def test_panic_every_format(fmt):
    e = codec.Encoder(fmt)
    with pytest.raises(codec.CodecError) as ex:
        e._set(_abi.CODEC_PARAM_DEBUG_PANIC, 1, "debug_panic")
    assert ex.value.name == "CODEC_E_PANIC" and "panic" in ex.value.message
    with pytest.raises(codec.CodecError) as ex:
        e.finish(b"abc")
    assert ex.value.name == "CODEC_E_PANIC"
    e.close()
    d = codec.Decoder(fmt)
    with pytest.raises(codec.CodecError) as ex:
        d._set(_abi.CODEC_PARAM_DEBUG_PANIC, 1, "debug_panic")
    assert ex.value.name == "CODEC_E_PANIC"
    with pytest.raises(codec.CodecError) as ex:
        d.decompress(b"abcd")
    assert ex.value.name == "CODEC_E_PANIC"
    d.close()
    # the process and new handles are fine
    data = text_data(5000, seed=1)
    assert codec.Decoder(fmt).decompress(codec.Encoder(fmt).finish(data)) == data


def _first_error(fmt, z):
    """A corruption of z that this format's decoder reports."""
    for i in range(len(z) // 3, len(z), 5):
        m = bytearray(z)
        m[i] ^= 0x55
        d = codec.Decoder(fmt)
        try:
            d.decompress(bytes(m))
        except codec.CodecError:
            return bytes(m)
        finally:
            d.close()
    pytest.fail(f"{fmt}: no corruption detected")


@pytest.mark.parametrize("fmt", param_formats(*ALL_FORMATS))
def test_sequence_after_error_until_reset(fmt):
    data = text_data(20000, seed=2)
    z = _stream(fmt, data)
    bad = _first_error(fmt, z)
    d = codec.Decoder(fmt)
    with pytest.raises(codec.CodecError) as ex:
        d.decompress(bad)
    assert ex.value.name not in ("CODEC_E_SEQUENCE", "CODEC_E_PANIC")
    for attempt in (z, b""):
        with pytest.raises(codec.CodecError) as ex:
            d.decompress(attempt)
        assert ex.value.name == "CODEC_E_SEQUENCE"
    with pytest.raises(codec.CodecError) as ex:
        d.clone()
    assert ex.value.name == "CODEC_E_SEQUENCE"
    d.reset()
    assert d.decompress(z) == data
    d.close()


def _zstd_claiming(size):
    """A zstd frame whose header claims `size` bytes of content (4-byte field) but holds 5."""
    fhd = 0x80 | 0x20  # 4-byte content size, single segment
    return (b"\x28\xb5\x2f\xfd" + bytes([fhd]) + size.to_bytes(4, "little")
            + bytes([1 | (5 << 3), 0, 0]) + b"hello")


def test_one_shot_never_allocates_the_claimed_size():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    lying = _zstd_claiming(3 << 30)
    with pytest.raises(codec.CodecError) as ex:
        codec.decompress(lying, max_output=1 << 20)
    assert ex.value.name == "CODEC_E_BUFFER"
    # without a limit the claim is not trusted either: the frame is corrupt (5 bytes, not 3 GiB)
    with pytest.raises(codec.CodecError):
        codec.decompress(lying)
    with pytest.raises(codec.CodecError):
        codec.decompress(_zstd_claiming(1 << 31), "zstd")
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 256 << 10, grown_kib
    # a frame claiming less than it holds
    data = text_data(100_000, seed=4)
    z = bytearray(codec.compress(data, "zstd"))
    with pytest.raises(codec.CodecError):
        codec.decompress(bytes(z[:5]) + (1000).to_bytes(4, "little") + bytes(z[9:]), "zstd")


@pytest.mark.parametrize("fmt", param_formats("xz", "lzma"))
def test_dictionary_bombs_refused_by_default(fmt):
    data = text_data(5000, seed=5)
    z = bytearray(codec.compress(data, fmt, level=0))
    if fmt == "lzma":
        z[1:5] = (0x60000000).to_bytes(4, "little")  # 1.5 GiB
    else:
        size = (z[12] + 1) * 4
        assert z[13:16] == b"\x00\x21\x01"
        z[16] = 37  # 1.5 GiB
        z[12 + size - 4:12 + size] = zlib.crc32(bytes(z[12:12 + size - 4])).to_bytes(4, "little")
    with pytest.raises(codec.CodecError) as ex:
        codec.decompress(bytes(z), fmt)
    assert ex.value.name == "CODEC_E_MEMLIMIT"
    assert codec.decompress(bytes(z), fmt, memlimit=2 << 30) == data
