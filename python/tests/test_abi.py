"""The ctypes layer matches include/codec.h exactly."""
import ctypes
import os
import sys

import codec
from codec import _abi, _lib

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "python", "tools"))
import gen_abi  # noqa: E402


def test_generated_abi_is_current():
    with open(os.path.join(ROOT, "include", "codec.h")) as f:
        fresh = gen_abi.generate(f.read())
    with open(os.path.join(ROOT, "python", "codec", "_abi.py")) as f:
        committed = f.read()
    assert committed == fresh, "python/codec/_abi.py is stale: run python3 python/tools/gen_abi.py"


def test_every_function_is_bound_with_header_types():
    assert len(_abi.FUNCTIONS) >= 30
    for name, (ret, args) in _abi.FUNCTIONS.items():
        f = getattr(_lib.lib, name)
        assert f.restype == _lib.ctype_of(ret), name
        assert f.argtypes == [_lib.ctype_of(t) for t, _ in args], name


def test_frame_header_layout():
    # 4 + 4 + 8*3 + 4*3 = 44, padded to 48 by the u64 alignment, as in C
    assert ctypes.sizeof(_lib.FrameHeader) == 48
    assert [f[0] for f in _lib.FrameHeader._fields_] == [n for n, _ in _abi.FRAME_HEADER_FIELDS]


def test_version_and_status_names():
    assert _lib.lib.codec_version_number() == _abi.CODEC_VERSION_NUMBER
    assert "zstd 1.5.7" in codec.version()
    for name, value in vars(_abi).items():
        if name.startswith("CODEC_E_") or name in ("CODEC_OK", "CODEC_MORE_OUTPUT", "CODEC_FRAME_END"):
            assert _lib.lib.codec_status_name(value).decode() == name
    assert _lib.lib.codec_status_name(777).decode() == "CODEC_UNKNOWN_STATUS"


def test_format_enum_matches_header():
    assert codec.Format.ZSTD == _abi.CODEC_FORMAT_ZSTD
    assert codec.Format.LZMA == _abi.CODEC_FORMAT_LZMA_ALONE
    assert len(codec.Format) == 7
