"""Ports of python-lz4's lz4.stream tests (tests/stream/test_stream_0,1,4.py) and the
documentation examples, on codec.compat.lz4stream."""
import os
import sys

import pytest

from conftest import needs

pytestmark = needs("lz4blocks")

HERE = os.path.dirname(os.path.abspath(__file__))
INPUT_DATA = (b"2099023098234882923049823094823094898239230982349081231290381209380981203981209381238901283098908123"
              b"109238098123") * 24


def compress(x, c_kwargs, return_block_offset=False, check_block_type=False):
    from codec.compat import lz4stream
    o = [0, ]
    c = bytearray() if c_kwargs.get('return_bytearray', False) else bytes()
    with lz4stream.LZ4StreamCompressor(**c_kwargs) as proc:
        for start in range(0, len(x), c_kwargs['buffer_size']):
            chunk = x[start:start + c_kwargs['buffer_size']]
            block = proc.compress(chunk)
            c += block
            if return_block_offset:
                o.append(len(c))
            if check_block_type:
                assert isinstance(block, c.__class__)
    return (c, o) if return_block_offset else c


def decompress(x, d_kwargs, check_chunk_type=False):
    from codec.compat import lz4stream
    d = bytearray() if d_kwargs.get('return_bytearray', False) else bytes()
    with lz4stream.LZ4StreamDecompressor(**d_kwargs) as proc:
        start = 0
        while start < len(x):
            block = proc.get_block(x[start:])
            chunk = proc.decompress(block)
            d += chunk
            start += d_kwargs['store_comp_size'] + len(block)
            if check_chunk_type:
                assert isinstance(chunk, d.__class__)
    return d


def _matrix():
    data = [b'', os.urandom(8 * 1024), bytearray((INPUT_DATA * 4)[:8552]), memoryview(b''),
            memoryview(os.urandom(8 * 1024))]
    modes = [{'mode': 'default'}, {'mode': 'fast'}, {'mode': 'high_compression'}, {}] + \
            [{'mode': 'fast', 'acceleration': a} for a in (0, 4, 8)] + \
            [{'mode': 'high_compression', 'compression_level': lvl} for lvl in (0, 4, 12, 16)]
    dicts = [None, 0, (100, 200), (0, 8192), 'random']
    for di, x in enumerate(data):
        for buffer_size in (1, 941, 65536):
            for width in (1, 2):
                for m in modes:
                    for d in dicts:
                        yield x, buffer_size, width, m, d, di


def test_1_matrix():
    rnd_dict = os.urandom(8192)
    for x, buffer_size, width, mode, d, di in _matrix():
        if buffer_size >= (1 << (8 * width)):
            continue
        if buffer_size == 1:  # one block per byte: keep it short
            x = x[:200]
        src = bytes(x)
        dictionary = None if d is None else (src[:0] if d == 0 else rnd_dict if d == 'random' else src[d[0]:d[1]])
        for return_bytearray in (False, True):
            c_kwargs = dict(strategy="double_buffer", buffer_size=buffer_size, store_comp_size=width,
                            return_bytearray=return_bytearray, **mode)
            if dictionary is not None:
                c_kwargs['dictionary'] = dictionary
            d_kwargs = {k: v for k, v in c_kwargs.items() if k not in ('mode', 'acceleration', 'compression_level')}
            c, offsets = compress(x, c_kwargs, return_block_offset=True, check_block_type=True)
            for a, b in zip(offsets, offsets[1:]):
                assert int.from_bytes(bytes(c[a:a + width]), 'little') == b - a - width
            assert decompress(c, d_kwargs, check_chunk_type=True) == src


def test_invalid_configs():
    from codec.compat import lz4stream
    with pytest.raises(NotImplementedError):
        lz4stream.LZ4StreamCompressor("ring_buffer", 1024)
    with pytest.raises(NotImplementedError):
        lz4stream.LZ4StreamDecompressor("ring_buffer", 1024)
    with pytest.raises(ValueError):
        lz4stream.LZ4StreamCompressor("foo", 1024)
    with pytest.raises(ValueError):
        lz4stream.LZ4StreamDecompressor("foo", 1024)
    for width in (1, 2):
        with pytest.raises(ValueError):
            lz4stream.LZ4StreamCompressor("double_buffer", 1024, store_comp_size=width + 5)
        with pytest.raises(ValueError):
            lz4stream.LZ4StreamDecompressor("double_buffer", 1024, store_comp_size=width + 5)
    for width in (1, 2, 4):
        size = (1 << (8 * width)) - (1 if width == 4 else 0)
        if size > lz4stream.LZ4_MAX_INPUT_SIZE:
            msg, cls = (r"^Invalid buffer_size argument: \d+. Cannot define output buffer size. "
                        r"Must be lesser or equal to 2113929216$"), ValueError
        else:
            msg, cls = (r"^Inconsistent buffer_size/store_comp_size values. Maximal compressed length \(\d+\) "
                        r"cannot fit in a \d+ byte-long integer$"), lz4stream.LZ4StreamError
        with pytest.raises(cls, match=msg):
            lz4stream.LZ4StreamCompressor("double_buffer", size, store_comp_size=width)
        lz4stream.LZ4StreamDecompressor("double_buffer", size, store_comp_size=width)
    lz4stream.LZ4StreamCompressor("double_buffer", lz4stream.LZ4_MAX_INPUT_SIZE)
    with pytest.raises(ValueError):
        lz4stream.LZ4StreamCompressor("double_buffer", lz4stream.LZ4_MAX_INPUT_SIZE + 1)
    with pytest.raises(ValueError):
        lz4stream.LZ4StreamCompressor("double_buffer", (1 << 32) - 1)
    for size in (lz4stream.LZ4_MAX_INPUT_SIZE, lz4stream.LZ4_MAX_INPUT_SIZE + 1, (1 << 32) - 1):
        lz4stream.LZ4StreamDecompressor("double_buffer", size)


KW = {'strategy': "double_buffer", 'buffer_size': 128, 'store_comp_size': 4}
FAILED = r"^Decompression failed. error: \d+$"
REQUESTED = r"^Requested input size \(\d+\) larger than source size \(\d+\)$"
TOO_SMALL = "^Invalid source, too small for holding any block$"


def _le(n):
    return n.to_bytes(4, 'little')


def test_decompress_corrupted_input():
    from codec.compat.lz4stream import LZ4StreamError
    data = compress(b'A' * 512, KW)
    assert decompress(data, KW) == b'A' * 512
    with pytest.raises(LZ4StreamError, match=REQUESTED):
        decompress(data[4:], KW)
    first = int.from_bytes(data[:4], 'little')
    for delta in (1, -2):
        with pytest.raises(LZ4StreamError, match=FAILED):
            decompress(_le(first + delta) + data[4:], KW)
    off = 4 + first
    mid = int.from_bytes(data[off:off + 4], 'little')
    for delta in (1, -2):
        with pytest.raises(LZ4StreamError, match=FAILED):
            decompress(data[:off] + _le(mid + delta) + data[off + 4:], KW)
    data = compress(b'A' * 256, KW)
    off = 4 + int.from_bytes(data[:4], 'little')
    last = int.from_bytes(data[off:off + 4], 'little')
    with pytest.raises(LZ4StreamError, match=REQUESTED):
        decompress(data[:off] + _le(last + 1) + data[off + 4:], KW)
    with pytest.raises(LZ4StreamError, match=FAILED):
        decompress(data[:off] + _le(last - 2) + data[off + 4:], KW)


def test_decompress_truncated():
    from codec.compat.lz4stream import LZ4StreamError
    compressed, block_offsets = compress(INPUT_DATA, KW, return_block_offset=True)
    last = 0
    for n in range(len(compressed)):
        if n in block_offsets:
            last = n
            decompress(compressed[:n], KW)
        else:
            msg = TOO_SMALL if n - last < 4 else REQUESTED
            with pytest.raises(LZ4StreamError, match=msg):
                decompress(compressed[:n], KW)


def test_decompress_with_trailer():
    from codec.compat.lz4stream import LZ4StreamError
    comp = compress(b'A' * 64, KW)
    with pytest.raises(LZ4StreamError, match=TOO_SMALL):
        decompress(comp + b'A', KW)
    with pytest.raises(LZ4StreamError, match=REQUESTED):
        decompress(comp + b'A' * 10, KW)
    for n in range(1, 10):
        with pytest.raises(LZ4StreamError, match=TOO_SMALL if n < 4 else FAILED):
            decompress(comp + b'\x00' * n, KW)


def test_unicode_return_bytearray_memoryview():
    with pytest.raises(TypeError):
        compress(b'x'.decode('latin1'), KW)
    data = os.urandom(128 * 1024)
    compressed = compress(data, KW, check_block_type=True)
    b = compress(data, dict(KW, return_bytearray=True), check_block_type=True)
    assert isinstance(b, bytearray) and bytes(b) == compressed
    b = decompress(compressed, dict(KW, return_bytearray=True), check_chunk_type=True)
    assert isinstance(b, bytearray) and bytes(b) == data
    assert compress(memoryview(data), KW) == compressed
    assert decompress(memoryview(compressed), KW) == data


def test_with_dict_none_and_dict():
    from codec.compat.lz4stream import LZ4StreamError
    for mode in ('default', 'high_compression'):
        for c_dict, d_dict in ((None, 'unset'), ('unset', None), (b'', 'unset'), ('unset', b''), ('', 'unset'),
                               ('unset', '')):
            c_kwargs = dict(KW, mode=mode)
            d_kwargs = dict(KW)
            if c_dict != 'unset':
                c_kwargs['dictionary'] = c_dict
            if d_dict != 'unset':
                d_kwargs['dictionary'] = d_dict
            assert decompress(compress(INPUT_DATA, c_kwargs), d_kwargs) == INPUT_DATA
    dict1, dict2 = INPUT_DATA[10:30], INPUT_DATA[20:40]
    for mode in ('default', 'high_compression'):
        compressed = compress(INPUT_DATA, dict(KW, mode=mode, dictionary=dict1))
        with pytest.raises(LZ4StreamError, match=FAILED):
            decompress(compressed, KW)
        with pytest.raises(LZ4StreamError, match=FAILED):
            decompress(compressed, dict(KW, dictionary=dict1[:2]))
        assert decompress(compressed, dict(KW, dictionary=dict2)) != INPUT_DATA
        assert decompress(compressed, dict(KW, dictionary=dict1)) == INPUT_DATA
    assert decompress(compress(INPUT_DATA, KW), dict(KW, dictionary=dict1)) == INPUT_DATA


def test_known_decompress():
    from codec.compat.lz4stream import LZ4StreamError
    with pytest.raises(LZ4StreamError, match="^Decompression failed. error: 1$"):
        decompress(b'\x00\x00\x00\x00', KW)
    assert decompress(b'\x01\x00\x00\x00\x00', KW) == b''
    assert decompress(b'\x02\x00\x00\x00\x10 ', KW) == b' '
    assert decompress(b'%\x00\x00\x00\xff\x0bLorem ipsum dolor sit amet\x1a\x006P amet', KW) == \
        b'Lorem ipsum dolor sit amet' * 4
    assert decompress(b'%\x00\x00\x00\xff\x0bLorem ipsum dolor sit amet\x1a\x00NPit am\n\x00\x00\x00\x0fh\x00hP sit '
                      b'\x05\x00\x00\x00@amet', KW) == b'Lorem ipsum dolor sit amet' * 10


def test_out_of_band_round_trip_and_invalid_usage():
    from codec.compat.lz4stream import LZ4StreamCompressor, LZ4StreamDecompressor, LZ4StreamError
    kw = {'strategy': "double_buffer", 'buffer_size': 256}
    in_band, offsets = compress(INPUT_DATA, dict(kw, store_comp_size=4), return_block_offset=True)
    with LZ4StreamCompressor(store_comp_size=0, **kw) as proc:
        blocks = [proc.compress(INPUT_DATA[i:i + 256]) for i in range(0, len(INPUT_DATA), 256)]
    assert blocks == [in_band[a + 4:b] for a, b in zip(offsets, offsets[1:])]
    with LZ4StreamDecompressor(store_comp_size=0, **kw) as proc:
        assert b''.join(proc.decompress(b) for b in blocks) == INPUT_DATA
        with pytest.raises(LZ4StreamError, match="configured for storing block size out-of-band"):
            proc.get_block(in_band)


def test_documentation_examples():
    # docs/lz4.stream.rst, verbatim except the import line (and 1 MiB instead of 10 MiB)
    from codec.compat.lz4stream import LZ4StreamCompressor, LZ4StreamDecompressor, LZ4StreamError
    import os
    block_size_length = 2 # LZ4 compressed block size stored on 2 bytes
    page_size = 8192 # LZ4 context double buffer page size
    origin_stream = 1 * 1024 * os.urandom(1024) # 10MiB
    # LZ4 stream compression of origin_stream into compressed_stream:
    compressed_stream = bytearray()
    with LZ4StreamCompressor("double_buffer", page_size, store_comp_size=block_size_length) as proc:
        offset = 0
        while offset < len(origin_stream):
            chunk = origin_stream[offset:offset + page_size]
            block = proc.compress(chunk)
            compressed_stream.extend(block)
            offset += page_size
    # LZ4 stream decompression of compressed_stream into decompressed_stream:
    decompressed_stream = bytearray()
    with LZ4StreamDecompressor("double_buffer", page_size, store_comp_size=block_size_length) as proc:
        offset = 0
        while offset < len(compressed_stream):
            block = proc.get_block(compressed_stream[offset:])
            chunk = proc.decompress(block)
            decompressed_stream.extend(chunk)
            offset += block_size_length + len(block)
    assert decompressed_stream == origin_stream

    out_of_band_block_sizes = [] # Store the block sizes
    compressed_stream = bytearray()
    with LZ4StreamCompressor("double_buffer", page_size, store_comp_size=0) as proc:
        offset = 0
        while offset < len(origin_stream):
            chunk = origin_stream[offset:offset + page_size]
            block = proc.compress(chunk)
            out_of_band_block_sizes.append(len(block))
            compressed_stream.extend(block)
            offset += page_size
    decompressed_stream = bytearray()
    with LZ4StreamDecompressor("double_buffer", page_size, store_comp_size=0) as proc:
        offset = 0
        for block_len in out_of_band_block_sizes:
            # Sanity check:
            if offset >= len(compressed_stream):
                raise LZ4StreamError("Truncated stream")
            block = compressed_stream[offset:offset + block_len]
            chunk = proc.decompress(block)
            decompressed_stream.extend(chunk)
            offset += block_len
    assert decompressed_stream == origin_stream
