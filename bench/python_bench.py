#!/usr/bin/env python3
"""Python `codec` vs the usual Python bindings, same process, same data, interleaved rounds,
best round of each. Prints markdown (run by bench/run.sh; CODEC_BENCH_DATA = directory of Silesia files,
generated data when unset; CODEC_BENCH_ROUNDS, CODEC_BENCH_LIMIT as for the Rust benches;
CODEC_BENCH_ONLY=zstd|lz4|xz runs one section).

Rows: one-shot compress and decompress per file and for all files together; zstd level 3 vs
python-zstandard and pyzstd; LZ4 frame vs lz4.frame (when this libcodec has LZ4); xz preset 6
vs stdlib lzma on the first 20 MB (when it has xz). The ratio column is ours / best peer
(> 1 = faster). The A/A column races codec against a second copy of itself in the same rounds
(decompression only for xz): both sides run the same code, so its spread is this machine's noise.
"""
import ctypes
import lzma
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import codec  # noqa: E402
from codec import _abi  # noqa: E402
from codec._lib import lib  # noqa: E402

ROUNDS = int(os.environ.get("CODEC_BENCH_ROUNDS", "5"))
LIMIT = int(os.environ.get("CODEC_BENCH_LIMIT", "0")) or None
ONLY = os.environ.get("CODEC_BENCH_ONLY", "")
if ONLY not in ("", "zstd", "lz4", "xz"):
    sys.exit(f"CODEC_BENCH_ONLY={ONLY!r}: expected zstd, lz4 or xz")


def wanted(section):
    return ONLY in ("", section)


def samples():
    d = os.environ.get("CODEC_BENCH_DATA")
    out = []
    if d and os.path.isdir(d):
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            if os.path.isfile(p) and not name.startswith("."):
                with open(p, "rb") as f:
                    out.append((name, f.read(LIMIT) if LIMIT else f.read()))
    if not out:
        r = random.Random(1)
        words = [b"alpha", b"beta", b"gamma", b"delta", b"codec", b"stream", b"frame", b"block"]
        buf = bytearray()
        while len(buf) < 16 << 20:
            x = r.random()
            buf += r.choice(words) + b" " if x < 0.7 else b"%d " % r.randrange(100000) if x < 0.9 else os.urandom(8)
        out.append(("generated", bytes(buf[:16 << 20])))
    return out


def race(fns):
    for f in fns:
        f()  # warm-up
    times = [[] for _ in fns]
    # Each round runs the contenders in a shuffled order (fixed seed: the same orders every
    # run). A call that follows another's large free gets warm heap pages from glibc, while
    # one that follows a caller which left the heap trimmed pays a page fault per 4 KiB of its
    # result. A fixed order, or one that only rotates the starting contender (each contender
    # still follows the same one), would hand that advantage to the same contender every round.
    order = list(range(len(fns)))
    shuffle = random.Random(1).shuffle
    for _ in range(ROUNDS):
        shuffle(order)
        for i in order:
            t = time.perf_counter()
            fns[i]()
            times[i].append(time.perf_counter() - t)
    # best round: the work is deterministic, interference only adds time
    return [min(t) for t in times]


def table(title, note, header, rows):
    print(f"### {title}\n")
    if note:
        print(f"{note}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()


def available(fmt):
    e = ctypes.c_void_p()
    st = lib.codec_encoder_new(fmt, ctypes.byref(e))
    lib.codec_encoder_free(e)
    return st != _abi.CODEC_E_UNSUPPORTED


def mbps(n, t):
    v = n / t / 1e6
    return f"{v:.2f}" if v < 10 else f"{v:.0f}"


def run_section(title, note, inputs, ours_c, ours_d, peers, control=("compress", "decompress")):
    """peers: list of (name, compress_fn, decompress_fn). For the operations in `control`,
    codec also races a second copy of itself in the same rounds (an A/A control): the spread of
    that column over the rows is how far this machine moves a ratio with identical work on
    both sides, which is what an "ours / best" figure near 1.0 has to be read against."""
    names = [p[0] for p in peers]
    header = (["input", "MB", "op", "codec MB/s"] + [f"{n} MB/s" for n in names] +
              ["ours / best", "A/A (codec / codec)"])
    rows = []
    worst = {"compress": 9e9, "decompress": 9e9}
    spread = []
    for name, data in inputs:
        blob = ours_c(data)
        assert ours_d(blob) == data
        peer_blobs = [pc(data) for _, pc, _ in peers]
        for (pn, _, pd), pb in zip(peers, peer_blobs):
            assert pd(pb) == data, pn
            assert ours_d(pb) == data, pn  # interop both ways
            assert pd(blob) == data, pn
        c_fns = [lambda: ours_c(data)] + [lambda pc=pc: pc(data) for _, pc, _ in peers]
        d_fns = [lambda: ours_d(blob)] + [lambda pd=pd, pb=pb: pd(pb) for (_, _, pd), pb in zip(peers, peer_blobs)]
        for op, fns in (("compress", c_fns), ("decompress", d_fns)):
            controlled = op in control
            t = race(fns + [fns[0]] if controlled else fns)  # fns[0], codec, again: the A/A
            ratio = min(t[1:len(fns)]) / t[0]
            worst[op] = min(worst[op], ratio)
            aa = ""
            if controlled:
                a = t[-1] / t[0]
                spread.append(a)
                aa = f"{a:.2f}x"
            rows.append([name, f"{len(data) / 1e6:.1f}", op] + [mbps(len(data), x) for x in t[:len(fns)]] +
                        [f"{ratio:.2f}x", aa])
        rows.append([name, "", "ratio", f"{len(data) / len(blob):.3f}"] +
                    [f"{len(data) / len(pb):.3f}" for pb in peer_blobs] + ["", ""])
    control_note = (f" A/A control over the section: {min(spread):.2f}x to {max(spread):.2f}x." if spread else "")
    table(title, note + f" Worst ratio: compress {worst['compress']:.2f}x, decompress {worst['decompress']:.2f}x." +
          control_note, header, rows)


def main():
    files = samples()
    inputs = files
    if len(files) > 1 and ONLY != "xz":
        inputs = files + [("all files", b"".join(d for _, d in files))]
    print(f"Python {sys.version.split()[0]}; {codec.version()}; best of {ROUNDS} interleaved rounds, the contenders in a shuffled order each round; MB = 10^6 bytes.\n")

    if wanted("zstd"):
        zstd_section(inputs)
    if wanted("lz4"):
        lz4_section(inputs)
    if wanted("xz"):
        xz_section(files)


def zstd_section(inputs):
    import pyzstd
    import zstandard
    zc = zstandard.ZstdCompressor(level=3)
    zd = zstandard.ZstdDecompressor()
    run_section(
        "Python: zstd level 3, one-shot (codec vs python-zstandard, pyzstd)",
        f"zstandard {zstandard.__version__}, pyzstd {pyzstd.__version__}. Both peers record the content size, "
        "as codec.compress does, so every decompressor can size its output at once.",
        inputs,
        lambda d: codec.compress(d, "zstd", level=3),
        codec.decompress,
        [("zstandard", zc.compress, zd.decompress), ("pyzstd", lambda d: pyzstd.compress(d, 3), pyzstd.decompress)],
    )


def lz4_section(inputs):
    if available(_abi.CODEC_FORMAT_LZ4_FRAME):
        try:
            import lz4
            import lz4.frame
        except ImportError:
            lz4 = None
        if lz4 is not None:
            run_section(
                "Python: LZ4 frame, one-shot (codec vs lz4.frame)",
                f"python-lz4 {lz4.__version__}, default settings on both sides (level 0, 64 KiB linked blocks, "
                "content size recorded).",
                inputs,
                lambda d: codec.compress(d, "lz4"),
                codec.decompress,
                [("lz4.frame", lambda d: lz4.frame.compress(d, store_size=True), lz4.frame.decompress)],
            )
    else:
        print("### Python: LZ4 frame\n\nSkipped: LZ4 is not in this libcodec build.\n")


def system_liblzma():
    """Which liblzma the stdlib lzma module uses: the shared library's file name from
    /proc/self/maps (names carry the version, like liblzma.so.5.4.1)."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split(maxsplit=5)[-1].strip()
                if "liblzma" in os.path.basename(path):
                    path = path.removesuffix(" (deleted)")
                    return f"the shared {os.path.basename(os.path.realpath(path))}"
    except OSError:
        pass
    return "a liblzma of unknown version (not a shared library on this system?)"


def xz_section(files):
    global ROUNDS
    if available(_abi.CODEC_FORMAT_XZ):
        head = b"".join(d for _, d in files)[:20_000_000]
        # A compression call takes about 15 s: at most 5 rounds (4 minutes with the warm-up
        # and the interop checks).
        saved, ROUNDS = ROUNDS, max(1, min(ROUNDS, 5))
        bundled = re.search(r"liblzma ([\w.]+)", codec.version()).group(1)
        run_section(
            "Python: xz preset 6, one-shot, first 20 MB (codec vs stdlib lzma)",
            f"Stdlib lzma uses {system_liblzma()}; codec's encoder is its bundled "
            f"liblzma {bundled}, its xz decoder is libcodec's own. "
            f"{ROUNDS} rounds.",
            [("first 20 MB", head)],
            lambda d: codec.compress(d, "xz", level=6),
            codec.decompress,
            [("lzma", lambda d: lzma.compress(d, preset=6), lzma.decompress)],
            control=("decompress",),  # a second 15-second compression per round is too dear
        )
        ROUNDS = saved
    else:
        print("### Python: xz\n\nSkipped: xz is not in this libcodec build.\n")


if __name__ == "__main__":
    main()
