"""zstd through the Python package, against zstandard, pyzstd and the zstd CLI."""
import os
import shutil
import subprocess
import threading

import pytest
import pyzstd
import zstandard

import codec
from codec import _abi

from conftest import text_data

DATA = text_data(300_000, seed=1)


def test_round_trip_buffer_types():
    for data in (DATA, bytearray(DATA), memoryview(DATA), memoryview(bytearray(DATA))[10:], b""):
        blob = codec.compress(data, "zstd")
        assert codec.decompress(blob) == bytes(data)
        assert codec.decompress(bytearray(blob), "zstd") == bytes(data)


def test_levels_and_parameters():
    sizes = {lvl: len(codec.compress(DATA, level=lvl)) for lvl in (1, 3, 19)}
    assert sizes[19] < sizes[1]
    blob = codec.compress(DATA, level=3, window_log=20, checksum_flag=1, strategy=2)
    info = codec.frame_info(blob)
    assert info.format == codec.Format.ZSTD
    assert info.content_size == len(DATA)
    assert info.checksum == _abi.CODEC_CHECK_XXH64
    assert codec.decompress(blob) == DATA


def test_parameter_errors():
    with pytest.raises(TypeError):
        codec.Encoder("zstd", no_such_param=1)
    with pytest.raises(TypeError):
        codec.Encoder("zstd", window_log_max=20)  # a decoder parameter
    with pytest.raises(ValueError) as e:
        codec.Encoder("zstd", window_log=100)
    assert isinstance(e.value, codec.CodecError)
    assert e.value.name == "CODEC_E_INVALID"
    assert "CODEC_PARAM_ZSTD_WINDOW_LOG" in str(e.value)
    with pytest.raises(ValueError):
        codec.Encoder("auto")
    with pytest.raises(ValueError):
        codec.Encoder("nonsense")


def test_interop_with_zstandard_and_pyzstd():
    ours = codec.compress(DATA, level=3)
    assert zstandard.ZstdDecompressor().decompress(ours) == DATA
    assert pyzstd.decompress(ours) == DATA
    assert codec.decompress(zstandard.ZstdCompressor(level=5).compress(DATA)) == DATA
    assert codec.decompress(pyzstd.compress(DATA, 7)) == DATA
    # streamed by them (no content size), decoded by us
    c = zstandard.ZstdCompressor().compressobj()
    theirs = c.compress(DATA) + c.flush()
    assert codec.frame_info(theirs).content_size is None
    assert codec.decompress(theirs) == DATA


@pytest.mark.skipif(shutil.which("zstd") is None, reason="zstd CLI not installed")
def test_interop_with_cli(tmp_path):
    src = tmp_path / "data"
    src.write_bytes(DATA)
    ours = tmp_path / "ours.zst"
    ours.write_bytes(codec.compress(DATA, level=9))
    assert subprocess.run(["zstd", "-dc", str(ours)], capture_output=True, check=True).stdout == DATA
    theirs = subprocess.run(["zstd", "-19", "-c", str(src)], capture_output=True, check=True).stdout
    assert codec.decompress(theirs) == DATA
    # two CLI frames concatenated
    both = theirs + subprocess.run(["zstd", "-1", "-c", str(src)], capture_output=True, check=True).stdout
    assert codec.decompress(both) == DATA * 2


def test_every_flushed_prefix_decodes_with_all_decoders():
    enc = codec.Encoder("zstd", level=3)
    stream = b""
    fed = b""
    for i, piece in enumerate([DATA[:1], DATA[1:5000], b"", DATA[5000:5001], DATA[5001:90_000]]):
        stream += enc.compress(piece) + enc.flush()
        fed += piece
        assert codec.Decoder().decompress(stream) == fed
        assert zstandard.ZstdDecompressor().decompressobj().decompress(stream) == fed
        assert pyzstd.EndlessZstdDecompressor().decompress(stream) == fed
    stream += enc.finish()
    assert codec.decompress(stream) == fed
    assert pyzstd.decompress(stream) == fed


def test_flush_modes_like_pyzstd():
    enc = codec.Encoder("zstd")
    assert enc.flush() == b""  # nothing pending: an empty flush emits nothing
    assert enc.compress(b"123") == b""
    assert enc.flush() != b""
    assert enc.flush() == b""
    first = enc.finish()
    assert first != b""
    # an empty finish still writes a (empty) frame each time
    empty1, empty2 = enc.finish(), enc.finish()
    assert empty1 and empty2
    assert codec.decompress(empty1) == b""


def test_reuse_after_finish_makes_concatenated_frames():
    enc = codec.Encoder("zstd")
    blob = enc.compress(b"a" * 42) + enc.finish() + enc.compress(b"b" * 60) + enc.finish()
    d = codec.Decoder("zstd")
    assert d.decompress(blob) == b"a" * 42 + b"b" * 60
    assert d.at_frame_edge and d.needs_input
    assert codec.decompress(blob) == b"a" * 42 + b"b" * 60


def test_max_length_and_needs_input():
    blob = codec.compress(b"a" * (100 + 32 * 1024))
    d = codec.Decoder()
    assert d.at_frame_edge and d.needs_input
    for _ in range(3):
        assert d.decompress(b"") == b""
        assert d.at_frame_edge and d.needs_input
    out = d.decompress(blob, 100)
    assert out == b"a" * 100
    assert not d.at_frame_edge and not d.needs_input
    rest = d.decompress(b"", 32 * 1024)
    assert len(rest) == 32 * 1024
    # the output exactly hit the limit at the end of the frame: nothing more without input
    assert d.at_frame_edge and d.needs_input
    assert d.decompress(b"") == b""
    assert d.needs_input


def test_one_byte_at_a_time():
    blob = codec.compress(DATA[:20_000], checksum_flag=1)
    d = codec.Decoder("zstd")
    out = bytearray()
    for i in range(len(blob)):
        out += d.decompress(blob[i:i + 1], 1)
        while not d.needs_input:
            out += d.decompress(b"", 1)
    assert out == DATA[:20_000]
    assert d.at_frame_edge
    assert d.position == (len(blob), 20_000)


def test_single_frame_eof_and_unused_data():
    trail = b"12345678abcdefg!@#$%^&*()_+|"
    blob = codec.compress(b"x" * 1000) + trail
    d = codec.Decoder("zstd", single_frame=True)
    assert d.decompress(blob) == b"x" * 1000
    assert d.eof and d.unused_data == trail and not d.needs_input
    with pytest.raises(EOFError):
        d.decompress(b"more")


def test_skippable_frames_are_ignored():
    skippable = (0x184D2A50).to_bytes(4, "little") + (32768).to_bytes(4, "little") + b"a" * 32768
    frame = codec.compress(b"payload")
    assert codec.decompress(skippable + frame + skippable) == b"payload"
    info = codec.frame_info(skippable)
    assert info.flags & _abi.CODEC_FRAME_FLAG_SKIPPABLE


def test_errors_carry_status_and_message():
    blob = codec.compress(DATA[:10_000], checksum_flag=1)
    with pytest.raises(codec.CodecError) as e:
        codec.decompress(blob[:-1])
    assert e.value.status == _abi.CODEC_E_TRUNCATED
    bad = bytearray(blob)
    bad[-1] ^= 1
    with pytest.raises(codec.CodecError) as e:
        codec.decompress(bytes(bad))
    assert e.value.name == "CODEC_E_CHECKSUM"
    with pytest.raises(codec.CodecError) as e:
        codec.decompress(b"this is not compressed data")
    assert e.value.name == "CODEC_E_CORRUPT"
    with pytest.raises(codec.CodecError) as e:
        codec.decompress(blob + b"junk")
    assert e.value.name == "CODEC_E_CORRUPT"
    assert "input byte" in str(e.value)
    with pytest.raises(codec.CodecError):
        codec.decompress(b"")
    # after an error the decoder refuses work until reset
    d = codec.Decoder("zstd")
    with pytest.raises(codec.CodecError):
        d.decompress(b"garbage!")
    with pytest.raises(codec.CodecError) as e:
        d.decompress(blob)
    assert e.value.name == "CODEC_E_SEQUENCE"
    d.reset()
    assert d.decompress(blob) == DATA[:10_000]


def test_window_limit():
    big = codec.Encoder("zstd", window_log=28)
    blob = big.compress(DATA[:100_000]) + big.finish()
    with pytest.raises(codec.CodecError) as e:
        codec.decompress(blob)
    assert e.value.name == "CODEC_E_MEMLIMIT"
    assert codec.decompress(blob, window_log_max=28) == DATA[:100_000]


def test_panic_boundary_through_python():
    e = codec.Encoder("zstd")
    with pytest.raises(codec.CodecError) as ex:
        e._set(_abi.CODEC_PARAM_DEBUG_PANIC, 1, "debug_panic")
    assert ex.value.name == "CODEC_E_PANIC"
    with pytest.raises(codec.CodecError) as ex:
        e.compress(b"abc")
    assert ex.value.name == "CODEC_E_PANIC"
    e.close()
    assert codec.decompress(codec.compress(b"still fine")) == b"still fine"


def test_close_and_context_manager():
    with codec.Encoder("zstd") as e:
        e.compress(b"abc")
    with pytest.raises(ValueError):
        e.compress(b"abc")
    e.close()  # idempotent
    d = codec.Decoder()
    d.close()
    with pytest.raises(ValueError):
        d.decompress(b"")


def test_threads_on_separate_handles():
    errors = []

    def work(seed):
        try:
            data = text_data(200_000, seed)
            for _ in range(3):
                enc = codec.Encoder("zstd", level=3)
                blob = enc.compress(data) + enc.finish()
                assert codec.Decoder().decompress(blob) == data
        except Exception as ex:  # pragma: no cover - reported below
            errors.append(ex)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_shared_handle_across_threads_is_serialised():
    # 64 threads feed one encoder at once. The per-object lock serialises the calls; with
    # identical chunks the input is the same whatever order the calls run in, and zstd holds
    # all output until finish(), so the stream must decode to exactly the 64 chunks.
    enc = codec.Encoder("zstd")
    chunk = os.urandom(10) * 100
    outs = []

    def work():
        outs.append(enc.compress(chunk))

    threads = [threading.Thread(target=work) for _ in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outs == [b""] * 64
    assert codec.decompress(enc.finish()) == chunk * 64
