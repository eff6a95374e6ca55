"""Memory helpers: addresses of caller buffers without copying, and output ``bytes`` objects
that C writes into directly.

Every libcodec call takes plain ``(pointer, length)`` pairs. Turning Python objects into
such pairs cheaply is what decides the speed of a ctypes binding, so this module does three
things a C extension would do:

* ``in_buffer(obj)``: the address of any C-contiguous bytes-like object (``bytes``,
  ``bytearray``, ``memoryview`` (also read-only ones), ``array``, ``mmap``...) without copying.
  ``bytes`` is addressed directly; other objects through the buffer protocol
  (``PyObject_GetBuffer``), so read-only buffers need no copy either. The returned keeper
  holds the buffer export until it is dropped.
* ``new_bytes(n)``: a fresh, unshared ``bytes`` object of ``n`` bytes whose contents C fills
  (``PyBytes_FromStringAndSize(NULL, n)``, as C extensions create their results), so results
  are not zero-filled first and not copied afterwards.
* ``resize_bytes(b, n)``: shrink or grow such an object in place (``_PyBytes_Resize``; for large
  objects realloc moves pages, not bytes).

Large results (``HUGE_MIN`` bytes and more) are also advised into transparent huge pages
(``madvise(MADV_HUGEPAGE)`` on the 2 MiB-aligned interior of the fresh object) when the Linux
kernel hands them out only on request (``/sys/kernel/mm/transparent_hugepage/enabled`` is
``madvise``). Decoding into a fresh buffer is otherwise dominated by one page fault per 4 KiB:
with huge pages an 82 MB LZ4 result is produced about twice as fast. Only memory this module
allocated is advised, never a caller's buffer. ``CODEC_HUGEPAGES=0`` in the environment turns
it off (huge-page faults may compact memory, which some latency-sensitive programs avoid).

Writing into a ``bytes`` object is only sound while nobody else can see it: the objects made
here are written to only before they are returned to the caller. On interpreters other than
CPython (no ``ctypes.pythonapi``), the module falls back to ``bytearray`` buffers and one copy.
"""
from __future__ import annotations

import ctypes
import os
import platform
import sys
from typing import Any, Optional, Tuple

CPYTHON = platform.python_implementation() == "CPython" and hasattr(ctypes, "pythonapi")


class _PyBuffer(ctypes.Structure):
    """ctypes mirror of CPython's ``Py_buffer`` (stable since 3.3)."""

    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.c_void_p),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.c_void_p),
        ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


class _Export:
    """Keeps a buffer export alive; releases it when dropped."""

    __slots__ = ("view", "obj")

    def __init__(self, obj: Any) -> None:
        self.obj = obj
        self.view = _PyBuffer()
        _GetBuffer(ctypes.py_object(obj), ctypes.byref(self.view), _PyBUF_SIMPLE)

    def __del__(self) -> None:
        view = self.view
        if view.obj:
            _ReleaseBuffer(ctypes.byref(view))


if CPYTHON:
    _api = ctypes.pythonapi
    _GetBuffer = _api.PyObject_GetBuffer
    _GetBuffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
    _GetBuffer.restype = ctypes.c_int
    _ReleaseBuffer = _api.PyBuffer_Release
    _ReleaseBuffer.argtypes = [ctypes.POINTER(_PyBuffer)]
    _ReleaseBuffer.restype = None
    _PyBUF_SIMPLE = 0

    # Result objects are handled as raw PyObject pointers while C fills them, because
    # _PyBytes_Resize replaces the object behind the pointer: a ctypes.py_object cell would
    # keep (and later release) a reference to the old one.
    _NewRaw = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_ssize_t)(
        ("PyBytes_FromStringAndSize", _api))
    _ResizeRaw = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_void_p), ctypes.c_ssize_t)(
        ("_PyBytes_Resize", _api))
    _DecRef = ctypes.PYFUNCTYPE(None, ctypes.c_void_p)(("Py_DecRef", _api))

    # The character data of a bytes object starts at a fixed offset from the object
    # (PyBytesObject.ob_sval); check it once against ctypes' own conversion.
    _OFFSET = bytes.__basicsize__ - 1
    _probe = b"libcodec probe"
    if ctypes.cast(ctypes.c_char_p(_probe), ctypes.c_void_p).value != id(_probe) + _OFFSET:  # pragma: no cover
        _OFFSET = None
    del _probe
else:  # pragma: no cover - exercised only on other interpreters
    _OFFSET = None

#: True when results are built in place (CPython); False: bytearray and one copy.
_RAW = CPYTHON and _OFFSET is not None


#: Results at least this large are advised into huge pages (when the kernel wants to be asked).
HUGE_MIN = 4 << 20
_MADV_HUGEPAGE = 14  # <linux/mman.h>, the same on every architecture


def _huge_page_advisor() -> Tuple[Optional[Any], int]:
    """``(madvise, huge page size)`` when advising helps here, else ``(None, 0)``."""
    if os.environ.get("CODEC_HUGEPAGES", "1") == "0" or not sys.platform.startswith("linux"):
        return None, 0
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            mode = f.read()
        with open("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size") as f:
            size = int(f.read())
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, ValueError, AttributeError):
        return None, 0
    # "always": every large mapping already gets huge pages; "never": asking is pointless.
    if "[madvise]" not in mode or size <= 0 or size & (size - 1):
        return None, 0
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    return madvise, size


_madvise, _HUGE = _huge_page_advisor()


def advise_huge(addr: int, n: int) -> bool:
    """Ask for huge pages over the whole huge pages inside ``[addr, addr + n)``, memory that
    this module owns. Returns whether advice was given; failures are ignored (it is a hint)."""
    if _madvise is None or n < HUGE_MIN:
        return False
    start = (addr + _HUGE - 1) & ~(_HUGE - 1)
    end = (addr + n) & ~(_HUGE - 1)
    if end <= start:
        return False
    return _madvise(start, end - start, _MADV_HUGEPAGE) == 0


def bytes_address(b: bytes) -> int:
    """Address of the first byte of a ``bytes`` object (valid while it lives)."""
    if _OFFSET is not None:
        return id(b) + _OFFSET
    return ctypes.cast(ctypes.c_char_p(b), ctypes.c_void_p).value or 0


def in_buffer(data: Any) -> Tuple[Any, int, int]:
    """``(keeper, address, length)`` of a bytes-like object, without copying it.

    The address stays valid while ``keeper`` is referenced. Raises ``TypeError`` for objects
    without the buffer protocol (``str`` included). Non-contiguous buffers are copied once.
    """
    if type(data) is bytes:
        return data, bytes_address(data), len(data)
    mv = data if type(data) is memoryview else memoryview(data)
    if not mv.c_contiguous:
        b = mv.tobytes()
        return b, bytes_address(b), len(b)
    n = mv.nbytes
    if n == 0:
        return mv, 0, 0
    if CPYTHON:
        ex = _Export(mv)
        return ex, ex.view.buf, n
    if mv.readonly:  # pragma: no cover
        b = mv.tobytes()
        return b, bytes_address(b), n
    arr = (ctypes.c_char * n).from_buffer(mv.cast("B"))  # pragma: no cover
    return arr, ctypes.addressof(arr), n  # pragma: no cover


def out_buffer(buf: Any) -> Tuple[Any, int, int]:
    """``(keeper, address, length)`` of a writable bytes-like object (a caller's buffer)."""
    mv = buf if type(buf) is memoryview else memoryview(buf)
    if mv.readonly:
        raise TypeError("the output buffer must be writable (bytearray, memoryview of one, array, mmap...)")
    if not mv.c_contiguous:
        raise ValueError("the output buffer must be C-contiguous")
    n = mv.nbytes
    if n == 0:
        return mv, 0, 0
    if CPYTHON:
        ex = _Export(mv)
        return ex, ex.view.buf, n
    arr = (ctypes.c_char * n).from_buffer(mv.cast("B"))  # pragma: no cover
    return arr, ctypes.addressof(arr), n  # pragma: no cover


class OutBytes:
    """An output area that C writes into and that becomes the result without a copy.

    ``addr`` is where the next byte goes, ``room`` how many bytes fit, ``used`` how many
    were written (callers add to it). ``grow(n)`` makes room for at least ``n`` more bytes;
    ``take()`` returns the result (``bytes``) and empties the object.
    """

    __slots__ = ("ptr", "used", "cap", "base", "ba")

    def __init__(self, cap: int) -> None:
        self.ptr = 0      # PyObject* of the bytes object being filled (a reference we own)
        self.ba: Any = None  # fallback storage (interpreters without the C API)
        self.used = 0
        self.cap = 0
        self.base = 0
        if cap > 0:
            self._alloc(cap)

    def _alloc(self, cap: int) -> None:
        if _RAW:
            if not self.ptr:
                p = _NewRaw(None, cap)
            else:
                cell = ctypes.c_void_p(self.ptr)
                self.ptr = 0
                _ResizeRaw(ctypes.byref(cell), cap)  # frees the object and raises on failure
                p = cell.value
            self.ptr = p
            self.base = p + _OFFSET
            advise_huge(self.base, cap)
        else:  # pragma: no cover
            if self.ba is None:
                self.ba = bytearray(cap)
            else:
                self.ba.extend(bytes(cap - self.cap))
            self.base = ctypes.addressof((ctypes.c_char * cap).from_buffer(self.ba))
        self.cap = cap

    @property
    def addr(self) -> int:
        return self.base + self.used

    @property
    def room(self) -> int:
        return self.cap - self.used

    def grow(self, more: int) -> None:
        """Make room for at least `more` further bytes (doubling, so growth stays linear)."""
        if self.cap - self.used >= more:
            return
        self._alloc(max(self.used + more, self.cap * 2, 1 << 16))

    def take(self) -> bytes:
        """The bytes written so far, as a ``bytes`` object (no copy when possible)."""
        p, used, cap, ba = self.ptr, self.used, self.cap, self.ba
        self.ptr, self.used, self.cap, self.base, self.ba = 0, 0, 0, 0, None
        if not _RAW:  # pragma: no cover
            return bytes(memoryview(ba)[:used]) if used else b""
        if not p:
            return b""
        if used == 0 or (used != cap and used < cap // 2 and used <= (1 << 16)):
            # small results: a copy is cheaper than keeping (or moving) a big block
            out = ctypes.string_at(p + _OFFSET, used) if used else b""
            _DecRef(p)
            return out
        if used != cap:
            cell = ctypes.c_void_p(p)
            _ResizeRaw(ctypes.byref(cell), used)
            p = cell.value
        out = ctypes.cast(p, ctypes.py_object).value  # a new reference...
        _DecRef(p)  # ...so drop ours
        return out

    def __del__(self) -> None:
        if self.ptr:
            _DecRef(self.ptr)
            self.ptr = 0
