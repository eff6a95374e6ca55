import os
import random

import pytest


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
