"""Large results are advised into transparent huge pages (codec._mem.advise_huge)."""
import os
import random
import subprocess
import sys

import pytest

import codec
from codec import _mem
from conftest import param_formats

# Big enough for several 2 MiB pages, compressible, and not periodic (so the data means something).
_r = random.Random(7)
BIG = b"".join(b"record %08d %s\n" % (i, _r.choice([b"alpha", b"beta", b"gamma"]) * _r.randrange(1, 9))
               for i in range(300_000))


def _thp_mode():
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return f.read()
    except OSError:
        return ""


def test_small_areas_are_never_advised():
    out = _mem.OutBytes(_mem.HUGE_MIN - 1)
    assert _mem.advise_huge(out.base, out.cap) is False
    out.used = 0
    assert out.take() == b""


@pytest.mark.skipif("[madvise]" not in _thp_mode(), reason="the kernel does not hand out huge pages on request")
def test_large_areas_are_advised_when_the_kernel_wants_to_be_asked():
    out = _mem.OutBytes(_mem.HUGE_MIN * 2)
    assert _mem.advise_huge(out.base, out.cap) is True


@pytest.mark.parametrize("fmt", param_formats("zstd", "lz4", "xz"))
def test_large_results_are_advised_and_correct(fmt, monkeypatch):
    assert len(BIG) > 2 * _mem.HUGE_MIN
    calls = []
    real = _mem.advise_huge

    def spy(addr, n):
        calls.append(n)
        return real(addr, n)

    monkeypatch.setattr(_mem, "advise_huge", spy)
    blob = codec.compress(BIG, fmt, level=1)
    assert codec.decompress(blob) == BIG
    with codec.Decoder(fmt) as d:  # streaming results grow in place and are advised too
        assert d.decompress(blob) == BIG
    assert any(n >= len(BIG) for n in calls)


def test_environment_turns_the_advice_off():
    code = "from codec import _mem; print(_mem._madvise is None, _mem.advise_huge(0, 1 << 30))"
    env = dict(os.environ, CODEC_HUGEPAGES="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]
