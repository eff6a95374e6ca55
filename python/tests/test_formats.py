"""Every format through the codec package: round trips, flush, resumable decoders, files,
dictionaries, and interop with stdlib lzma, python-lz4, pyzstd and zstandard."""
import gc
import io
import lzma
import os
import pickle
import subprocess
import sys
import threading

import pytest

import codec
from codec import _abi
from conftest import ALL_FORMATS, FRAME_FORMATS, needs, param_formats, text_data

DATA = text_data(400_000, seed=7)
RANDOM = os.urandom(200_000)
HERE = os.path.dirname(os.path.abspath(__file__))

# decoder keywords a format needs to read what the encoder wrote with default settings
DECODER_KW = {}
FLUSHABLE = ["zstd", "lz4", "lz4blocks", "xz", "lzma2"]


def stream_compress(fmt, data, pieces=7, flush=False, **kw):
    enc = codec.Encoder(fmt, **kw)
    out = []
    step = max(1, len(data) // pieces)
    for i in range(0, len(data), step):
        out.append(enc.compress(data[i:i + step]))
        if flush:
            out.append(enc.flush())
    out.append(enc.finish())
    enc.close()
    return b"".join(out)


@pytest.mark.parametrize("fmt", param_formats(*ALL_FORMATS))
def test_round_trip_one_shot_and_streaming(fmt):
    for data in (DATA, RANDOM[:70_000], b"x", memoryview(DATA)[5:5000], bytearray(DATA[:1000])):
        blob = codec.compress(data, fmt)
        assert codec.decompress(blob, fmt) == bytes(data)
        assert codec.decompress(stream_compress(fmt, data), fmt) == bytes(data)
    if fmt in FRAME_FORMATS:
        assert codec.decompress(codec.compress(DATA, fmt)) == DATA  # auto
        assert codec.detect_format(codec.compress(DATA, fmt)) == codec.Format[fmt.upper()]


@pytest.mark.parametrize("fmt", param_formats(*ALL_FORMATS))
def test_levels_change_output(fmt):
    lo, hi = {"zstd": (1, 19), "lz4": (0, 9), "lz4blocks": (0, 9), "xz": (0, 9), "lzma2": (0, 9),
              "lzma": (0, 9)}[fmt]
    a, b = codec.compress(DATA, fmt, level=lo), codec.compress(DATA, fmt, level=hi)
    assert len(b) < len(a)
    assert codec.decompress(a, fmt) == codec.decompress(b, fmt) == DATA


@pytest.mark.parametrize("fmt", param_formats(*FLUSHABLE))
def test_every_flush_makes_everything_decodable(fmt):
    enc = codec.Encoder(fmt)
    stream, fed = b"", b""
    for piece in (DATA[:1], DATA[1:5000], b"", DATA[5000:5001], DATA[5001:120_000]):
        stream += enc.compress(piece) + enc.flush()
        fed += piece
        d = codec.Decoder(fmt)
        assert d.decompress(stream) == fed
    stream += enc.finish()
    assert codec.decompress(stream, fmt) == fed


@needs("lzma")
def test_lzma_alone_cannot_flush_but_file_flush_still_works():
    enc = codec.Encoder("lzma")
    first = enc.compress(b"abc")
    with pytest.raises(codec.CodecError) as e:
        enc.flush()
    assert e.value.name == "CODEC_E_UNSUPPORTED"
    assert codec.decompress(first + enc.compress(b"def") + enc.finish(), "lzma") == b"abcdef"


@pytest.mark.parametrize("fmt", param_formats(*ALL_FORMATS))
def test_max_length_one_byte_at_a_time(fmt):
    data = DATA[:20_000]
    blob = codec.compress(data, fmt)
    d = codec.Decoder(fmt)
    out = bytearray()
    for i in range(0, len(blob), 97):
        out += d.decompress(blob[i:i + 97], 1)
        while not d.needs_input:
            out += d.decompress(b"", 333)
    assert out == data
    assert d.at_frame_edge
    assert d.position == (len(blob), len(data))


@pytest.mark.parametrize("fmt", param_formats(*ALL_FORMATS))
def test_marshal_and_clone_at_many_points_resume_identically(fmt, rng):
    data = DATA[:150_000] + RANDOM[:50_000]
    blob = stream_compress(fmt, data, pieces=5, flush=fmt in FLUSHABLE)
    cuts = sorted({1, 2, 7, len(blob) // 2, len(blob) - 1} | {rng.randrange(1, len(blob)) for _ in range(12)})
    for cut in cuts:
        d = codec.Decoder(fmt)
        head = d.decompress(blob[:cut], max_length=rng.choice([-1, 5000]))  # may hold input back
        consumed = d.position[0]
        assert consumed == cut
        state = d.marshal()
        twin = d.clone()
        resumed = codec.Decoder.unmarshal(state)
        assert resumed.position == d.position
        rest = blob[consumed:]
        for r in (resumed, twin, d):
            out = r.decompress(rest)
            while not r.needs_input:
                out += r.decompress(b"")
            assert head + out == data, (fmt, cut)
            assert r.at_frame_edge


def test_unmarshal_in_another_process_gives_identical_output(tmp_path):
    fmts = [f for f in ALL_FORMATS if __import__("conftest").format_available(f)]
    for fmt in fmts:
        data = DATA[:200_000]
        blob = codec.compress(data, fmt)
        d = codec.Decoder(fmt)
        head = d.decompress(blob[:len(blob) // 3], 10_000)  # output limit: input is held back
        (tmp_path / f"{fmt}.state").write_bytes(d.marshal())
        (tmp_path / f"{fmt}.rest").write_bytes(blob[d.position[0]:])
        (tmp_path / f"{fmt}.want").write_bytes(data[len(head):])
    script = (
        "import sys, codec\n"
        "d = codec.Decoder.unmarshal(open(sys.argv[1], 'rb').read())\n"
        "out = d.decompress(open(sys.argv[2], 'rb').read())\n"
        "assert d.at_frame_edge\n"
        "sys.stdout.buffer.write(out)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
    for fmt in fmts:
        res = subprocess.run([sys.executable, "-c", script, str(tmp_path / f"{fmt}.state"),
                              str(tmp_path / f"{fmt}.rest")], capture_output=True, env=env, check=True)
        assert res.stdout == (tmp_path / f"{fmt}.want").read_bytes(), fmt


@pytest.mark.parametrize("fmt", param_formats("zstd", "lz4", "lz4blocks", "lzma2"))
def test_dictionary_round_trip_and_wrong_dictionary(fmt):
    samples = [b"record %d: colour=%s animal=%s weight=%d\n" % (i, [b"red", b"green", b"blue"][i % 3],
               [b"cat", b"dog", b"horse", b"cow"][i % 4], i * 7 % 1000) for i in range(3000)]
    d = codec.Dict.train(samples, 4096)
    assert d.dict_id != 0 and 0 < len(d.content) <= 4096
    other = codec.Dict(b"some unrelated raw dictionary content " * 50)
    for s in samples[:50:7]:
        blob = codec.compress(s, fmt, dict=d)
        assert codec.decompress(blob, fmt, dict=d) == s
        assert codec.Decoder(fmt, dict=d).decompress(blob) == s
    big = b"".join(samples[:200])
    blob = codec.compress(big, fmt, dict=d)
    if fmt == "zstd":  # on small records a dictionary must pay off
        assert len(codec.compress(samples[5], fmt, dict=d)) < len(codec.compress(samples[5], fmt))
    bad = None
    try:
        bad = codec.decompress(blob, fmt, dict=other)
    except codec.CodecError as e:
        assert e.name in ("CODEC_E_DICT", "CODEC_E_CORRUPT", "CODEC_E_CHECKSUM")
    assert bad != big
    # a marshalled decoder needs the same dictionary back
    dec = codec.Decoder(fmt, dict=d)
    head = dec.decompress(blob[:len(blob) // 2])
    state = dec.marshal()
    with pytest.raises(codec.CodecError) as e:
        codec.Decoder.unmarshal(state, dict=other)
    assert e.value.name == "CODEC_E_DICT"
    r = codec.Decoder.unmarshal(state, dict=d)
    assert head + r.decompress(blob[dec.position[0]:]) == big


@needs("zstd")
def test_unmarshal_takes_the_limits_of_the_caller_not_of_the_state():
    # A zstd frame declaring a 2^28 window (over the default 2^27) holding one raw byte.
    frame = bytes([0x28, 0xB5, 0x2F, 0xFD, 0x00, (28 - 10) << 3, 0x09, 0x00, 0x00]) + b"x"
    state = codec.Decoder("zstd", window_log_max=28).marshal()
    # The state does not carry the raised limit: restored with the defaults, the frame is refused.
    with pytest.raises(codec.CodecError) as e:
        codec.Decoder.unmarshal(state).decompress(frame)
    assert e.value.name == "CODEC_E_MEMLIMIT"
    # Given by the caller, it applies.
    assert codec.Decoder.unmarshal(state, window_log_max=28).decompress(frame) == b"x"
    # Inside a frame, the state's window must fit the caller's limit.
    blob = codec.compress(DATA * 8, "zstd", window_log=20)
    dec = codec.Decoder("zstd")
    head = dec.decompress(blob[:len(blob) // 2])
    mid = dec.marshal()
    with pytest.raises(codec.CodecError) as e:
        codec.Decoder.unmarshal(mid, window_log_max=19)
    assert e.value.name == "CODEC_E_MEMLIMIT"
    r = codec.Decoder.unmarshal(mid, window_log_max=20)
    assert head + r.decompress(blob[dec.position[0]:]) == DATA * 8


# ----------------------------------------------------------------------------- files
@pytest.mark.parametrize("fmt", param_formats(*ALL_FORMATS))
def test_file_write_flush_read_seek(fmt, tmp_path):
    path = tmp_path / ("data." + fmt)
    lines = [b"line %06d %s\n" % (i, b"x" * (i % 50)) for i in range(20_000)]
    data = b"".join(lines)
    with codec.open(path, "wb", format=fmt, level=1) as f:
        assert f.writable() and not f.readable()
        f.write(data[:1000])
        f.flush()
        if fmt != "lzma":  # .lzma cannot flush: a reader sees everything only at close
            r = codec.Decoder(fmt)
            assert r.decompress(path.read_bytes()) == data[:1000]
        f.write(memoryview(data)[1000:])
        assert f.tell() == len(data)
    with codec.open(path, "ab", format=fmt) as f:  # a second frame after the first
        f.write(b"appended\n")
    full = data + b"appended\n"
    kw = {} if fmt in FRAME_FORMATS else {"format": fmt}
    with codec.open(path, **kw) as f:
        assert f.readline() == lines[0]
        assert f.read(5) == lines[1][:5]
        f.seek(500_000)
        assert f.read(30) == full[500_000:500_030]
        f.seek(10)  # backward: decodes again from the start
        assert f.tell() == 10
        assert f.read(10) == full[10:20]
        f.seek(-9, io.SEEK_END)
        assert f.read() == b"appended\n"
        f.seek(0)
        assert f.read() == full
    with codec.open(path, "rt", encoding="ascii", **kw) as f:
        assert sum(1 for _ in f) == len(lines) + 1
    # truncated files raise EOFError, like lzma.open
    raw = path.read_bytes()
    with pytest.raises(EOFError):
        codec.open(io.BytesIO(raw[:len(raw) // 2]), **kw).read()


def test_file_text_mode_and_errors(tmp_path):
    p = tmp_path / "t.zst"
    with codec.open(p, "wt", encoding="utf-8") as f:
        f.write("héllo\nwörld\n")
    with codec.open(p, "rt", encoding="utf-8") as f:
        assert f.readlines() == ["héllo\n", "wörld\n"]
    assert codec.frame_info(p.read_bytes()).format == codec.Format.ZSTD
    with pytest.raises(ValueError):
        codec.open(p, "rb", encoding="utf-8")
    with pytest.raises(ValueError):
        codec.open(p, "rwb")
    with codec.open(p) as f:
        with pytest.raises(io.UnsupportedOperation):
            f.write(b"x")
    f.close()
    with pytest.raises(ValueError):
        f.read()
    bio = io.BytesIO()
    f = codec.open(bio, "wb")
    f.write(b"data")
    f.close()
    assert not bio.closed  # a file object passed in stays open
    assert codec.decompress(bio.getvalue()) == b"data"


def test_file_extension_picks_format(tmp_path):
    for ext, fmt in ((".zst", "zstd"), (".lz4", "lz4"), (".xz", "xz"), (".lzma", "lzma")):
        if not __import__("conftest").format_available(fmt):
            continue
        p = tmp_path / ("f" + ext)
        with codec.open(p, "wb") as f:
            f.write(b"payload")
        assert codec.detect_format(p.read_bytes()) == codec.Format[fmt.upper()]
        assert codec.open(p).read() == b"payload"


# ----------------------------------------------------------------------------- interop
@needs("xz")
def test_xz_interop_with_stdlib_lzma():
    ours = codec.compress(DATA, "xz")
    assert lzma.decompress(ours) == DATA
    assert codec.decompress(lzma.compress(DATA, preset=3)) == DATA
    assert codec.decompress(lzma.compress(DATA, check=lzma.CHECK_SHA256), "xz") == DATA
    # concatenated streams with padding
    two = lzma.compress(b"one") + b"\0" * 4 + lzma.compress(b"two")
    assert codec.decompress(two) == b"onetwo"
    # sync-flushed stream: stdlib reads it up to the flush
    enc = codec.Encoder("xz")
    part = enc.compress(b"first line\n") + enc.flush()
    assert lzma.open(io.BytesIO(part)).readline() == b"first line\n"


@needs("lzma")
def test_lzma_alone_interop_with_stdlib_lzma():
    assert lzma.decompress(codec.compress(DATA, "lzma"), format=lzma.FORMAT_ALONE) == DATA
    assert codec.decompress(lzma.compress(DATA, format=lzma.FORMAT_ALONE)) == DATA


@needs("lzma2")
def test_raw_lzma2_interop_with_stdlib_lzma():
    filters = [{"id": lzma.FILTER_LZMA2, "preset": 6}]
    theirs = lzma.compress(DATA, format=lzma.FORMAT_RAW, filters=filters)
    assert codec.decompress(theirs, "lzma2") == DATA
    ours = codec.compress(DATA, "lzma2")
    assert lzma.decompress(ours, format=lzma.FORMAT_RAW, filters=filters) == DATA


@needs("lz4")
def test_lz4_interop_with_python_lz4():
    lz4frame = pytest.importorskip("lz4.frame")
    ours = codec.compress(DATA, "lz4")
    assert lz4frame.decompress(ours) == DATA
    for kw in ({}, {"block_linked": False, "content_checksum": True}, {"compression_level": 9},
               {"block_size": lz4frame.BLOCKSIZE_MAX4MB, "store_size": False}):
        assert codec.decompress(lz4frame.compress(DATA, **kw)) == DATA
    # streamed by us with flushes, read by them
    enc = codec.Encoder("lz4", checksum=1, block_checksum=1)
    blob = enc.compress(DATA[:1000]) + enc.flush() + enc.compress(DATA[1000:]) + enc.finish()
    assert lz4frame.decompress(blob) == DATA
    info = codec.frame_info(blob)
    assert info.format == codec.Format.LZ4 and info.checksum == _abi.CODEC_CHECK_XXH32


# ----------------------------------------------------------------------------- API details
def test_decompress_max_output_and_decompress_into():
    blob = codec.compress(DATA)
    assert codec.decompress(blob, max_output=len(DATA)) == DATA
    with pytest.raises(codec.CodecError) as e:
        codec.decompress(blob, max_output=len(DATA) - 1)
    assert e.value.name == "CODEC_E_BUFFER"
    # without a recorded size the limit is enforced while decoding
    enc = codec.Encoder("zstd")
    streamed = enc.compress(DATA) + enc.finish()
    f = codec.Encoder("zstd", content_size_flag=0)
    nosize = f.compress(DATA) + f.finish()
    assert codec.frame_info(nosize).content_size is None
    assert codec.decompress(nosize, max_output=len(DATA)) == DATA
    with pytest.raises(codec.CodecError) as e:
        codec.decompress(nosize, max_output=1000)
    assert e.value.name == "CODEC_E_BUFFER"
    assert codec.decompress(streamed + nosize) == DATA * 2
    buf = bytearray(len(DATA) + 10)
    assert codec.decompress_into(blob, buf) == len(DATA)
    assert buf[:len(DATA)] == DATA
    mv = memoryview(bytearray(100))
    with pytest.raises(codec.CodecError) as e:
        codec.decompress_into(blob, mv)
    assert e.value.name == "CODEC_E_BUFFER"
    with pytest.raises(TypeError):
        codec.decompress_into(blob, b"read-only")
    d = codec.Decoder()
    out = bytearray(4096)
    got = d.decompress_into(blob, out)
    assert got == 4096 and out == DATA[:4096] and not d.needs_input


def test_content_size_lie_is_not_trusted():
    # a frame that claims 1 GiB but holds 10 bytes must fail without allocating 1 GiB
    blob = bytearray(codec.compress(b"0123456789", content_size_flag=1))
    f = codec.Encoder("zstd")
    f.set_pledged_size(10)
    ok = f.compress(b"0123456789") + f.finish()
    assert codec.decompress(ok) == b"0123456789"
    with pytest.raises(codec.CodecError):
        codec.decompress(blob[:-3])


def test_readonly_and_foreign_buffers_are_not_copied():
    import array
    import mmap
    blob = codec.compress(DATA)
    m = mmap.mmap(-1, len(blob))
    m.write(blob)
    assert codec.decompress(m) == DATA
    assert codec.decompress(memoryview(blob).toreadonly()) == DATA
    assert codec.decompress(array.array("B", blob)) == DATA
    assert codec.compress(array.array("I", [1, 2, 3])) == codec.compress(array.array("I", [1, 2, 3]).tobytes())
    with pytest.raises(TypeError):
        codec.compress("text")
    m.close()


def test_pickling_is_refused_but_dicts_pickle():
    for obj in (codec.Encoder(), codec.Decoder()):
        with pytest.raises(TypeError, match="cannot pickle"):
            pickle.dumps(obj)
    d = codec.Dict(b"raw dictionary content " * 10)
    assert pickle.loads(pickle.dumps(d)).content == d.content
    e = codec.CodecError(_abi.CODEC_E_STATE, "x")
    assert pickle.loads(pickle.dumps(e)).name == "CODEC_E_STATE"
    assert isinstance(codec.CodecError(_abi.CODEC_E_INVALID, "v"), ValueError)


def test_objects_are_freed_when_collected():
    freed = []
    orig = codec.Decoder._free
    try:
        codec.Decoder._free = lambda p: (freed.append(p.value), orig(p))
        d = codec.Decoder()
        d.decompress(codec.compress(b"abc"))
        ptr = d._ptr.value
        del d
        gc.collect()
    finally:
        codec.Decoder._free = orig
    assert ptr in freed


def test_corrupt_state_is_refused():
    d = codec.Decoder("zstd")
    blob = codec.compress(DATA)
    d.decompress(blob[:5000])
    state = bytearray(d.marshal())
    for i in (0, 10, len(state) // 2, len(state) - 1):
        bad = bytearray(state)
        bad[i] ^= 0x40
        with pytest.raises(codec.CodecError) as e:
            codec.Decoder.unmarshal(bytes(bad))
        assert e.value.name == "CODEC_E_STATE"
    with pytest.raises(codec.CodecError):
        codec.Decoder.unmarshal(bytes(state[:20]))


def test_single_frame_clone_keeps_unused_data():
    blob = codec.compress(b"A" * 100_000) + codec.compress(b"second")
    d = codec.Decoder(single_frame=True)
    first = d.decompress(blob, 10)
    c = d.clone()
    for x in (d, c):
        out = first
        while not x.eof:
            out += x.decompress(b"", 50_000)
        assert out == b"A" * 100_000
        assert codec.decompress(x.unused_data) == b"second"


def test_parallel_decoders_release_the_gil():
    blobs = [codec.compress(text_data(300_000, s), level=1) for s in range(4)]
    errors = []

    def work(b):
        try:
            for _ in range(5):
                codec.decompress(b)
                d = codec.Decoder()
                d.decompress(b, 1000)
                d.clone().marshal()
        except Exception as e:  # pragma: no cover
            errors.append(e)

    ts = [threading.Thread(target=work, args=(b,)) for b in blobs]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors


def test_param_bounds_and_frame_size():
    assert codec.param_bounds("zstd", "level") == (-131072, 22)
    assert codec.param_bounds("zstd", "window_log_max") == (10, 31)
    with pytest.raises(TypeError):
        codec.param_bounds("zstd", "dict_size")
    a, b = codec.compress(b"a" * 100), codec.compress(b"b" * 1000)
    assert codec.frame_size(a + b) == len(a)
    with pytest.raises(codec.CodecError) as e:
        codec.frame_size(a[:-1])
    assert e.value.name == "CODEC_E_TRUNCATED"
    assert codec.compress_bound(1000) >= 1000
