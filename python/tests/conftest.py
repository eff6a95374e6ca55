import ctypes
import os
import random

import pytest

from codec import _abi
from codec._lib import lib

# ----------------------------------------------------------------------------- format gating
# LZ4 and xz land in libcodec separately. Tests of a format that this build of the library
# does not have yet are skipped, but only when codec_encoder_new says CODEC_E_UNSUPPORTED for
# it; any other answer runs the tests. Set CODEC_REQUIRE_ALL_FORMATS=1 to make a missing
# format a failure instead (for builds that must have everything).
_FORMATS = {
    "zstd": _abi.CODEC_FORMAT_ZSTD,
    "lz4": _abi.CODEC_FORMAT_LZ4_FRAME,
    "lz4blocks": _abi.CODEC_FORMAT_LZ4_BLOCKS,
    "xz": _abi.CODEC_FORMAT_XZ,
    "lzma2": _abi.CODEC_FORMAT_LZMA2_RAW,
    "lzma": _abi.CODEC_FORMAT_LZMA_ALONE,
}
_available = {}


def format_available(name):
    """True unless codec_encoder_new(format) returns CODEC_E_UNSUPPORTED."""
    if name not in _available:
        e = ctypes.c_void_p()
        st = lib.codec_encoder_new(_FORMATS[name], ctypes.byref(e))
        lib.codec_encoder_free(e)
        _available[name] = st != _abi.CODEC_E_UNSUPPORTED
    return _available[name]


def pytest_configure(config):
    config.addinivalue_line("markers", "formats(*names): the test needs these libcodec formats")


def pytest_runtest_setup(item):
    for mark in item.iter_markers(name="formats"):
        for name in mark.args:
            if not format_available(name):
                msg = f"format {name} not in this libcodec build yet"
                if os.environ.get("CODEC_REQUIRE_ALL_FORMATS") == "1":
                    pytest.fail(msg)
                pytest.skip(msg)


def needs(*names):
    """Decorator: the test needs these formats (see format_available)."""
    return pytest.mark.formats(*names)


def param_formats(*names):
    """pytest.param values for a test parametrised over formats, each gated."""
    return [pytest.param(n, marks=pytest.mark.formats(n), id=n) for n in names]


ALL_FORMATS = ["zstd", "lz4", "lz4blocks", "xz", "lzma2", "lzma"]
FRAME_FORMATS = ["zstd", "lz4", "xz", "lzma"]  # detected by "auto"


# ----------------------------------------------------------------------------- data
@pytest.fixture
def rng():
    return random.Random(1234)


def text_data(n, seed=0):
    """Deterministic, compressible data."""
    r = random.Random(seed)
    words = [b"alpha", b"beta", b"gamma", b"delta", b"stream", b"frame", b"block", b"window"]
    out = bytearray()
    while len(out) < n:
        if r.random() < 0.1:
            out += os.urandom(4) if seed < 0 else bytes(r.getrandbits(8) for _ in range(4))
        else:
            out += r.choice(words) + b" "
    return bytes(out[:n])
