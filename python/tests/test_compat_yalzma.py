"""Ports of yalzma's tests (tests/test_yalzma.py, tests/test_readme_code.py) to codec.compat.yalzma;
everything is decoded with the stdlib lzma module."""
import lzma
from io import BytesIO
from os import urandom

import pytest

from conftest import needs

pytestmark = needs("xz")


def test_readme_usage_example():
    # yalzma README.md (v0.0.2), verbatim except the import line
    from codec.compat.yalzma import LZMAEncoder
    import lzma

    text = b'Hello, World!'
    enc = LZMAEncoder()
    xz_data = enc.run(text)
    xz_data += enc.finish()
    assert lzma.decompress(xz_data) == text

    # Demonstration of the flush functionality:

    from io import BytesIO

    enc = LZMAEncoder()
    xz_data = enc.run(b'first line\n')
    xz_data += enc.sync_flush()
    assert lzma.open(BytesIO(xz_data), mode='rb').readline() == b'first line\n'

    xz_data += enc.run(b'second line\n')
    xz_data += enc.finish()
    assert lzma.decompress(xz_data) == b'first line\nsecond line\n'


SAMPLES = [b'', b'Hello!', bytes(range(256)), urandom(10), urandom(100)]


@pytest.mark.parametrize("sample", SAMPLES, ids=["empty", "hello", "range256", "random10", "random100"])
def test_samples(sample):
    from codec.compat.yalzma import LZMAEncoder
    enc = LZMAEncoder()
    assert lzma.decompress(enc.run(sample) + enc.finish()) == sample
    for i in range(len(sample)):
        enc = LZMAEncoder()
        data = enc.run(sample[:i]) + enc.run(sample[i:]) + enc.finish()
        assert lzma.decompress(data) == sample
        enc = LZMAEncoder()
        data = enc.run(sample[:i]) + enc.sync_flush() + enc.run(sample[i:]) + enc.finish()
        assert lzma.decompress(data) == sample
        enc = LZMAEncoder()
        data = enc.run(sample[:i]) + enc.sync_flush()
        assert lzma.open(BytesIO(data)).read(i) == sample[:i]


def test_compress_larger_random_data():
    from codec.compat.yalzma import LZMAEncoder
    sample = urandom(5 * 2**20)
    enc = LZMAEncoder()
    assert lzma.decompress(enc.run(sample) + enc.finish()) == sample


def test_edge_cases_and_crc64():
    from codec.compat.yalzma import LZMAEncoder, EncoderFinishedError
    enc = LZMAEncoder()
    header = enc.sync_flush()
    assert header[:6] == b'\xfd7zXZ\x00' and header[6:8] == b'\x00\x04'  # CRC64 check
    assert enc.sync_flush() == b''
    mid = enc.run(b'hello')
    tail = enc.finish()
    assert lzma.decompress(header + mid + tail) == b'hello'
    with pytest.raises(AttributeError):  # yalzma raised AttributeError here by accident
        enc.run(b'more')
    with pytest.raises(EncoderFinishedError):
        enc.finish()
    enc = LZMAEncoder(preset=0)
    assert lzma.decompress(enc.run(bytearray(b'x' * 1000)) + enc.finish()) == b'x' * 1000
