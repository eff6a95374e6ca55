"""Ports of the py-lz4framed fork's tests (test.py) to codec.compat.lz4framed: continuation after
an interrupted source, clone, marshal (random cuts and block boundaries), plus the README."""
import random
from io import BytesIO

import pytest

from conftest import needs

pytestmark = needs("lz4")

SHORT_INPUT = b'abcdefghijklmnopqrstuvwxyz0123456789'
LONG_INPUT = SHORT_INPUT * 10 ** 5
FIXED_OFFSETS = [1, 11, 15, 16, 31, 32, 33, 63, 64, 65, 1023, 1025]
COMBOS = [(linked, checksum, level) for linked in (True, False) for checksum in (True, False) for level in (0, 10)]
_cache = {}


def comp_data(linked, checksum, level):
    from codec.compat.lz4framed import compress
    key = (linked, checksum, level)
    if key not in _cache:
        _cache[key] = compress(LONG_INPUT, level=level, checksum=checksum, block_mode_linked=linked)
    return _cache[key]


def offsets(data, n_random, seed):
    r = random.Random(seed)
    return FIXED_OFFSETS + [r.randint(1, len(data) - 64) for _ in range(n_random)]


def first_phase(data, offset, out):
    from codec.compat.lz4framed import Decompressor, Lz4FramedNoDataError
    decomp = Decompressor(BytesIO(data[:-offset]))
    with pytest.raises(Lz4FramedNoDataError):
        for chunk in decomp:
            out += chunk
    return decomp


def test_readme_single_function():
    # README "Usage", verbatim except the import line
    import codec.compat.lz4framed as lz4framed

    compressed = lz4framed.compress(b'binary data')

    uncompressed = lz4framed.decompress(compressed)
    assert uncompressed == b'binary data'


def test_readme_iterative_examples(tmp_path):
    # README "iteratively compress" / "decompress from a file-like object" with the
    # placeholders `while (...)`, `moreData` and `...` filled in
    from codec.compat.lz4framed import Compressor, Decompressor, Lz4FramedNoDataError
    path = tmp_path / 'myFile'
    pieces = [LONG_INPUT[i:i + 100_000] for i in range(0, len(LONG_INPUT), 100_000)] + [b'']
    with open(path, 'wb') as f:
        # Context automatically finalises frame on completion, unless an exception occurs
        with Compressor(f) as c:
            try:
                for moreData in pieces:
                    c.update(moreData)
            except Lz4FramedNoDataError:
                pass
    decoded = []
    with open(path, 'rb') as f:
        try:
            for chunk in Decompressor(f):
                decoded.append(chunk)
        except Lz4FramedNoDataError:
            # Compress frame data incomplete - error case
            raise
    assert b''.join(decoded) == LONG_INPUT
    import lz4.frame
    assert lz4.frame.decompress(path.read_bytes()) == LONG_INPUT


@pytest.mark.parametrize("linked,checksum,level", COMBOS)
def test_decompressor_fp_continuation(linked, checksum, level):
    data = comp_data(linked, checksum, level)
    for offset in offsets(data, 10, 1):
        out = bytearray()
        decomp = first_phase(data, offset, out)
        decomp.setfp(BytesIO(data[-offset:]))
        for chunk in decomp:
            out += chunk
        assert len(out) == len(LONG_INPUT)
        assert out == LONG_INPUT


@pytest.mark.parametrize("linked,checksum,level", COMBOS)
def test_decompressor_fp_clone(linked, checksum, level):
    from codec.compat.lz4framed import clone_decompression_context
    data = comp_data(linked, checksum, level)
    for offset in offsets(data, 10, 2):
        out = bytearray()
        decomp = first_phase(data, offset, out)
        newctx = clone_decompression_context(decomp.ctx)
        decomp.setfp(BytesIO(data[-offset:]))
        decomp.setctx(newctx)
        for chunk in decomp:
            out += chunk
        assert out == LONG_INPUT


@pytest.mark.parametrize("linked,checksum,level", COMBOS)
def test_decompressor_fp_marshalling(linked, checksum, level):
    from codec.compat.lz4framed import (Decompressor, marshal_decompression_context,
                                        unmarshal_decompression_context)
    data = comp_data(linked, checksum, level)
    # part 1: random cuts, a brand-new Decompressor continues from the state
    for offset in offsets(data, 50 if level == 0 else 10, 3):
        out = bytearray()
        decomp = first_phase(data, offset, out)
        s = marshal_decompression_context(decomp.ctx)
        assert len(s) > 16
        newctx = unmarshal_decompression_context(s)
        decomp2 = Decompressor(BytesIO(data[-offset:]))
        decomp2.setctx(newctx)
        for chunk in decomp2:
            out += chunk
        assert out == LONG_INPUT
    # part 2: at block boundaries
    r = random.Random(4)
    for brk in [1, 2, 3, 30] + [r.randint(3, 30) for _ in range(5)]:
        out = bytearray()
        decomp = Decompressor(BytesIO(data))
        s = None
        for i, chunk in enumerate(decomp):
            out += chunk
            if i == brk:
                s = marshal_decompression_context(decomp.ctx)
                assert len(s) > 16
                if not linked:
                    assert len(s) < 256
                break
        decomp.setctx(unmarshal_decompression_context(s))
        for chunk in decomp:
            out += chunk
        assert out == LONG_INPUT


def test_decompressor_fp_and_errors():
    from codec.compat.lz4framed import (Decompressor, Lz4FramedError, Lz4FramedNoDataError,
                                        LZ4F_ERROR_contentChecksum_invalid, LZ4F_ERROR_frameType_unknown,
                                        compress, decompress, get_block_size)
    for level in (0, 10):
        data = compress(LONG_INPUT, level=level)
        assert b''.join(Decompressor(BytesIO(data))) == LONG_INPUT
        out = []
        with pytest.raises(Lz4FramedNoDataError):
            for chunk in Decompressor(BytesIO(data[:-32])):
                out.append(chunk)
        assert out
    with pytest.raises(Lz4FramedError) as e:
        decompress(b'invalidheader')
    assert e.value.args[1] == LZ4F_ERROR_frameType_unknown
    data = compress(LONG_INPUT)
    with pytest.raises(ValueError, match='frame incomplete'):
        decompress(data[:-5])
    data = compress(LONG_INPUT, checksum=True)
    bad = data[:-1] + bytes([data[-1] ^ 1])
    with pytest.raises(Lz4FramedError) as e:
        decompress(bad)
    assert e.value.args[1] == LZ4F_ERROR_contentChecksum_invalid
    with pytest.raises(Lz4FramedNoDataError):
        compress(b'')
    with pytest.raises(Lz4FramedNoDataError):
        decompress(b'')
    for size in range(1, 1025, 128):
        assert decompress(compress(LONG_INPUT), buffer_size=size) == LONG_INPUT
    # the corrected behaviour: concatenated frames all decode
    assert decompress(compress(b'one') + compress(b'two')) == b'onetwo'
    assert [get_block_size(i) for i in (0, 4, 5, 6, 7)] == [65536, 65536, 262144, 1 << 20, 1 << 22]
    with pytest.raises(ValueError):
        compress(b'x', level=99)


def test_low_level_context_api():
    from codec.compat.lz4framed import (Lz4FramedError, LZ4F_ERROR_frameHeader_incomplete, compress,
                                        create_decompression_context, decompress_update, get_frame_info)
    data = compress(LONG_INPUT, block_size_id=5, checksum=True, block_mode_linked=False)
    ctx = create_decompression_context()
    with pytest.raises(Lz4FramedError) as e:
        get_frame_info(ctx)
    assert e.value.args[1] == LZ4F_ERROR_frameHeader_incomplete
    out = decompress_update(ctx, data[:15])
    hint = out.pop()
    info = get_frame_info(ctx)
    assert info['length'] == len(LONG_INPUT) and info['block_size_id'] == 5
    assert info['checksum'] and not info['block_mode_linked']
    result = b''.join(out)
    pos = 15
    while hint:
        out = decompress_update(ctx, data[pos:pos + hint], 1 << 18)
        pos += hint
        hint = out.pop()
        result += b''.join(out)
    assert result == LONG_INPUT and pos == len(data)
    # bytes after the frame are not consumed
    ctx = create_decompression_context()
    out = decompress_update(ctx, compress(b'first') + compress(b'second'))
    assert out == [b'first', 0]
