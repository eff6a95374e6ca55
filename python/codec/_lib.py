"""Finding and binding libcodec.

The shared library is looked up in this order:
1. the path in the environment variable ``CODEC_LIBRARY``;
2. the package's own copy (``codec/_lib/libcodec.so*``, put there by ``pip install``);
3. the repository's build output (``build/lib/`` next to ``python/``, made by ``make``);
4. the system (``ctypes.util.find_library("codec")``).

Every function gets explicit ``argtypes``/``restype`` from ``_abi.FUNCTIONS``, which is
generated from include/codec.h, so a signature can never silently disagree with the header.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os

from . import _abi

_HERE = os.path.dirname(os.path.abspath(__file__))


class FrameHeader(ctypes.Structure):
    """ctypes mirror of ``codec_frame_header``."""


class TrainParams(ctypes.Structure):
    """ctypes mirror of ``codec_train_params``."""


_SCALARS = {
    "codec_status": ctypes.c_int32,
    "codec_format": ctypes.c_int32,
    "codec_param": ctypes.c_int32,
    "codec_action": ctypes.c_int32,
    "codec_check": ctypes.c_int32,
    "codec_train_algorithm": ctypes.c_int32,
    "int32_t": ctypes.c_int32,
    "int": ctypes.c_int,
    "uint32_t": ctypes.c_uint32,
    "int64_t": ctypes.c_int64,
    "uint64_t": ctypes.c_uint64,
    "size_t": ctypes.c_size_t,
    "bool": ctypes.c_bool,
}

FrameHeader._fields_ = [(name, _SCALARS[ctype]) for name, ctype in _abi.FRAME_HEADER_FIELDS]
TrainParams._fields_ = [(name, _SCALARS[ctype]) for name, ctype in _abi.TRAIN_PARAMS_FIELDS]


def ctype_of(c: str):
    """The ctypes type for a C type string from the header."""
    c = c.replace("const ", "").strip()
    if c == "void":
        return None
    if c in _SCALARS:
        return _SCALARS[c]
    if c == "char *":
        return ctypes.c_char_p
    if c in ("uint8_t *", "void *") or (c.startswith("struct codec_") and c.endswith(" *") and not c.endswith("**")):
        if c == "struct codec_frame_header *":
            return ctypes.POINTER(FrameHeader)
        return ctypes.c_void_p
    if c.startswith("struct codec_") and c.endswith(" **"):
        return ctypes.POINTER(ctypes.c_void_p)
    if c.endswith(" *") and c[:-2] in _SCALARS:
        return ctypes.POINTER(_SCALARS[c[:-2]])
    raise TypeError(f"libcodec binding: no ctypes mapping for C type {c!r}")


def _candidates():
    env = os.environ.get("CODEC_LIBRARY")
    if env:
        yield env
    yield from sorted(glob.glob(os.path.join(_HERE, "_lib", "libcodec.so*")), key=len)
    repo_build = os.path.normpath(os.path.join(_HERE, "..", "..", "build", "lib"))
    yield from sorted(glob.glob(os.path.join(repo_build, "libcodec.so*")), key=len)
    found = ctypes.util.find_library("codec")
    if found:
        yield found


def _load():
    tried = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append(f"{path}: {e}")
    raise ImportError(
        "libcodec shared library not found. Set CODEC_LIBRARY to its path, run `make` in the "
        "repository, or `pip install` the package. Tried: " + ("; ".join(tried) or "nothing found")
    )


lib, path = _load()

for _name, (_ret, _args) in _abi.FUNCTIONS.items():
    _f = getattr(lib, _name)
    _f.restype = ctype_of(_ret)
    _f.argtypes = [ctype_of(t) for t, _ in _args]

if lib.codec_version_number() != _abi.CODEC_VERSION_NUMBER:
    raise ImportError(
        f"libcodec at {path} is version {lib.codec_version_number()}, "
        f"but this package was generated for {_abi.CODEC_VERSION_NUMBER}"
    )
