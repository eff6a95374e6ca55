#!/usr/bin/env python3
"""Tests for the codecat command-line tool (`make test-codecat`).

Usage: codecat_test.py [PATH/TO/codecat] [-k SUBSTRING]

Each test runs the real binary and compares real outputs (bytes and SHA-256 hashes), exit
codes and messages: round trips per format, interop with the zstd / lz4 / xz tools in both
directions, -o parameters, -D dictionaries, --flush-every (live through a pipe, and every
flush point in the output), stdin/stdout, errors, and kill -9 / SIGINT / truncated-input
resumption with --state.

Formats that are not in this build of libcodec are skipped, decided in exactly one place:
`format_missing()`, which asks the library whether codec_encoder_new returns
CODEC_E_UNSUPPORTED. Set CODEC_STRICT_FORMATS=1 to turn those skips into failures.
"""
import ctypes
import hashlib
import os
import pty
import queue
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
STRICT = os.environ.get("CODEC_STRICT_FORMATS") == "1"

# name -> C value, whether AUTO detects it, suffix, can it flush, can it take a dictionary,
# the xz tool's raw-format options for it (when the xz tool can read and write it).
FORMATS = {
    "zstd": dict(value=1, auto=True, suffix=".zst", flush=True, dict=True),
    "lz4": dict(value=2, auto=True, suffix=".lz4", flush=True, dict=True),
    "lz4blocks": dict(value=3, auto=False, suffix=".lz4b", flush=True, dict=True),
    "xz": dict(value=4, auto=True, suffix=".xz", flush=True, dict=False),
    "lzma2": dict(value=5, auto=False, suffix=".lzma2", flush=True, dict=True),
    "lzma": dict(value=6, auto=True, suffix=".lzma", flush=False, dict=False),
}


# ----------------------------------------------------------------------------- harness

class Skip(Exception):
    pass


_lib = None


def library():
    global _lib
    if _lib is None:
        path = os.environ.get("CODEC_LIBRARY") or os.path.join(ROOT, "build", "lib", "libcodec.so")
        _lib = ctypes.CDLL(path)
    return _lib


def format_missing(fmt):
    """The one place that decides to skip a format: a reason string when this build's
    codec_encoder_new returns CODEC_E_UNSUPPORTED for it (and CODEC_STRICT_FORMATS is not
    set), else None."""
    lib = library()
    enc = ctypes.c_void_p()
    st = lib.codec_encoder_new(ctypes.c_int32(FORMATS[fmt]["value"]), ctypes.byref(enc))
    lib.codec_encoder_free(enc)
    if st == -3 and not STRICT:  # CODEC_E_UNSUPPORTED
        return f"format {fmt} is not in this build of libcodec"
    return None


def need_format(fmt):
    why = format_missing(fmt)
    if why:
        raise Skip(why)


def need_tool(name):
    if not shutil.which(name):
        raise Skip(f"the {name} tool is not installed")


CODECAT = None
WORK = None
results = {"ok": 0, "fail": 0, "skip": 0}
failures = []


def run_test(name, fn, *args):
    if FILTER and FILTER not in name:
        return
    t0 = time.time()
    d = tempfile.mkdtemp(prefix="t-", dir=WORK)
    cwd = os.getcwd()
    os.chdir(d)
    note = None
    try:
        note = fn(*args)
    except Skip as e:
        results["skip"] += 1
        print(f"  skip  {name}: {e}")
    except Exception as e:  # noqa: BLE001 - report every failure and go on
        results["fail"] += 1
        failures.append(name)
        print(f"  FAIL  {name}: {type(e).__name__}: {e}")
    else:
        results["ok"] += 1
        print(f"  ok    {name} ({time.time() - t0:.2f} s)" + (f": {note}" if note else ""))
    finally:
        os.chdir(cwd)
        shutil.rmtree(d, ignore_errors=True)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def cc(*args, input=None, stdin=None, stdout=subprocess.PIPE, timeout=60, env=None):
    """Run codecat; returns CompletedProcess with bytes stdout/stderr."""
    return subprocess.run([CODECAT, *args], input=input, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE,
                          timeout=timeout, env=env)


def ok(*args, **kw):
    p = cc(*args, **kw)
    check(p.returncode == 0, f"codecat {' '.join(args)} exited {p.returncode}: {p.stderr.decode(errors='replace')}")
    return p


def fails(code, args, *expect, **kw):
    """codecat must exit with `code` and print every regex in `expect` on stderr."""
    p = cc(*args, **kw)
    err = p.stderr.decode(errors="replace")
    check(p.returncode == code, f"codecat {' '.join(args)}: expected exit {code}, got {p.returncode}: {err}")
    for e in expect:
        check(re.search(e, err), f"codecat {' '.join(args)}: stderr {err!r} does not match {e!r}")
    return p


def sha(b):
    return hashlib.sha256(b).hexdigest()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def text_data(n, seed=1):
    """Log-like text: compressible, but not trivially."""
    rnd = random.Random(seed)
    words = [b"alpha", b"beta", b"gamma", b"delta", b"stream", b"frame", b"flush", b"resume", b"codec"]
    out = bytearray()
    i = 0
    while len(out) < n:
        out += b"%08d %s status=%d bytes=%d\n" % (i, b" ".join(rnd.choice(words) for _ in range(rnd.randrange(3, 12))),
                                                  rnd.choice((200, 200, 200, 404, 500)), rnd.randrange(100000))
        i += 1
    return bytes(out[:n])


def fflag(fmt):
    """-f for decompression: only the formats AUTO cannot detect need it (auto-detection is
    tested that way)."""
    return [] if FORMATS[fmt]["auto"] else ["-f", fmt]


# ----------------------------------------------------------------------------- round trips

def t_round_trip(fmt):
    need_format(fmt)
    data = text_data(1_500_000, seed=2)
    write("in.txt", data)
    ok("-f", fmt, "in.txt")                         # derived name: in.txt + suffix
    suffix = FORMATS[fmt]["suffix"]
    comp = read("in.txt" + suffix)
    check(len(comp) < len(data) // 2, f"{fmt}: compressed {len(data)} to only {len(comp)}")
    check(read("in.txt") == data, "the source must be kept by default")
    os.rename("in.txt", "orig.txt")
    ok("-d", *fflag(fmt), "in.txt" + suffix)        # derived name: suffix removed
    check(sha(read("in.txt")) == sha(data), f"{fmt}: file round trip differs")
    # stdin -> stdout both ways, and "-" names
    c2 = ok("-f", fmt, input=data).stdout
    back = ok("-d", *fflag(fmt), "-", "-", input=c2).stdout
    check(back == data, f"{fmt}: pipe round trip differs")
    # -c with a file name, and a level
    c3 = ok("-f", fmt, "-l", "1", "-c", "orig.txt").stdout
    check(ok("-dc", *fflag(fmt), input=c3).stdout == data, f"{fmt}: -c / -l 1 round trip differs")
    # empty input
    e = ok("-f", fmt, input=b"").stdout
    check(ok("-d", *fflag(fmt), input=e).stdout == b"", f"{fmt}: empty round trip")
    # --rm removes the source only after success
    ok("-f", fmt, "--rm", "orig.txt", "x" + suffix)
    check(not os.path.exists("orig.txt"), "--rm must remove the source")
    check(ok("-d", *fflag(fmt), "x" + suffix, "-").stdout == data, f"{fmt}: --rm output differs")


def t_levels_threads(fmt):
    need_format(fmt)
    data = text_data(600_000, seed=3)
    lo_hi = {"zstd": ("-1", "-19"), "lz4": ("-1", "-12"), "lz4blocks": ("-1", "-12"),
             "xz": ("-0", "-9"), "lzma2": ("-0", "-9"), "lzma": ("-0", "-9")}[fmt]
    sizes = []
    for lv in lo_hi:
        c = ok("-f", fmt, lv, input=data).stdout
        check(ok("-d", *fflag(fmt), input=c).stdout == data, f"{fmt} {lv}: round trip differs")
        sizes.append(len(c))
    check(sizes[1] < sizes[0], f"{fmt}: the highest level should compress better than the lowest ({sizes})")
    c = ok("-f", fmt, "-T", "2", input=data).stdout
    check(ok("-d", *fflag(fmt), input=c).stdout == data, f"{fmt} -T 2: round trip differs")


def t_concatenated(fmt):
    need_format(fmt)
    a, b = text_data(100_000, seed=4), text_data(70_000, seed=5)
    ca, cb = ok("-f", fmt, input=a).stdout, ok("-f", fmt, input=b).stdout
    check(ok("-d", input=ca + cb).stdout == a + b, f"{fmt}: concatenated frames")


# ----------------------------------------------------------------------------- interop

def t_interop_zstd():
    need_format("zstd")
    need_tool("zstd")
    data = text_data(800_000, seed=6)
    write("in", data)
    ok("-o", "checksum=1", "in", "a.zst")
    check(subprocess.run(["zstd", "-dc", "a.zst"], capture_output=True, check=True).stdout == data, "zstd -d of codecat")
    info = subprocess.run(["zstd", "-lv", "a.zst"], capture_output=True, text=True, check=True).stdout
    check("XXH64" in info, f"-o checksum=1 must give an XXH64 check: {info}")
    subprocess.run(["zstd", "-q", "-19", "in", "-o", "b.zst"], check=True)
    check(ok("-d", "b.zst", "-").stdout == data, "codecat -d of zstd -19")
    subprocess.run(["zstd", "-q", "--long=25", "in", "-o", "c.zst"], check=True)
    check(ok("-d", "-o", "window_log_max=25", "c.zst", "-").stdout == data, "codecat -d of zstd --long=25")


def t_interop_lz4():
    need_format("lz4")
    need_tool("lz4")
    data = text_data(800_000, seed=7)
    write("in", data)
    ok("-f", "lz4", "-o", "content_checksum=1", "-o", "block_size=262144", "in", "a.lz4")
    check(subprocess.run(["lz4", "-dc", "a.lz4"], capture_output=True, check=True).stdout == data, "lz4 -d of codecat")
    for args in (["-1"], ["-9"], ["-BD", "-BX"], ["--content-size"]):
        subprocess.run(["lz4", "-q", "-f", *args, "in", "b.lz4"], check=True)
        check(ok("-d", "b.lz4", "-").stdout == data, f"codecat -d of lz4 {args}")


def t_interop_xz():
    need_format("xz")
    need_tool("xz")
    data = text_data(800_000, seed=8)
    write("in", data)
    ok("-f", "xz", "-o", "check=sha256", "in", "a.xz")
    check(subprocess.run(["xz", "-dc", "a.xz"], capture_output=True, check=True).stdout == data, "xz -d of codecat")
    info = subprocess.run(["xz", "-lvv", "a.xz"], capture_output=True, text=True, check=True).stdout
    check("SHA-256" in info, f"-o check=sha256 must give a SHA-256 check: {info}")
    for args in (["-1"], ["-6e"], ["-C", "crc32"], ["-T2", "--block-size=100000"]):
        subprocess.run(["xz", "-q", "-c", *args, "in"], stdout=open("b.xz", "wb"), check=True)
        check(ok("-d", "b.xz", "-").stdout == data, f"codecat -d of xz {args}")


def t_interop_lzma():
    need_format("lzma")
    need_tool("xz")
    data = text_data(500_000, seed=9)
    write("in", data)
    ok("-f", "lzma", "in", "a.lzma")
    check(subprocess.run(["xz", "--format=lzma", "-dc", "a.lzma"], capture_output=True, check=True).stdout == data,
          "xz --format=lzma -d of codecat")
    subprocess.run(["xz", "--format=lzma", "-q", "-c", "-7", "in"], stdout=open("b.lzma", "wb"), check=True)
    check(ok("-d", "b.lzma", "-").stdout == data, "codecat -d of xz --format=lzma")


def t_interop_lzma2():
    need_format("lzma2")
    need_tool("xz")
    data = text_data(500_000, seed=10)
    write("in", data)
    ok("-f", "lzma2", "-o", "dict_size=1M", "in", "a.lzma2")
    check(subprocess.run(["xz", "--format=raw", "--lzma2=dict=1MiB", "-dc", "a.lzma2"], capture_output=True,
                         check=True).stdout == data, "xz --format=raw -d of codecat")
    subprocess.run(["xz", "--format=raw", "--lzma2=preset=6,dict=2MiB", "-q", "-c", "in"], stdout=open("b.lzma2", "wb"),
                   check=True)
    check(ok("-d", "-f", "lzma2", "-o", "dict_size=2M", "b.lzma2", "-").stdout == data,
          "codecat -d of xz --format=raw --lzma2")


# ----------------------------------------------------------------------------- parameters

def t_params_zstd():
    need_format("zstd")
    data = text_data(1_200_000, seed=11)
    c = ok("-o", "window_log=21", "-o", "strategy=btultra2", "-o", "checksum=1", input=data).stdout
    check(ok("-d", input=c).stdout == data, "zstd params round trip")
    # the window is really 2^21: a decoder limited to 2^20 refuses it
    fails(1, ["-d", "-o", "window_log_max=20"], r"^codecat: \(stdin\): memory limit", "CODEC_E_MEMLIMIT", input=c)
    check(ok("-d", "-o", "window_log_max=21", input=c).stdout == data, "window_log_max=21")
    # checksum=1 is effective: a damaged literal is caught
    bad = bytearray(c)
    bad[len(bad) // 2] ^= 0x55
    p = cc("-d", input=bytes(bad))
    check(p.returncode == 1 and b"CODEC_E_" in p.stderr, f"damaged data with a checksum: {p.returncode} {p.stderr}")


def t_params_format(fmt):
    """Format-specific parameters have an effect the decoder can see."""
    need_format(fmt)
    data = text_data(400_000, seed=12)
    if fmt == "lz4":
        c = ok("-f", fmt, "-o", "block_size=1048576", "-o", "linked_blocks=0", "-o", "block_checksum=1",
               input=data).stdout
        check(ok("-d", input=c).stdout == data, "lz4 params round trip")
    elif fmt == "lz4blocks":
        c = ok("-f", fmt, "-o", "prefix_width=2", "-o", "page_size=16K", "-o", "acceleration=4", input=data).stdout
        check(ok("-d", "-f", fmt, "-o", "prefix_width=2", "-o", "page_size=16K", input=c).stdout == data,
              "lz4blocks params round trip")
        p = cc("-d", "-f", fmt, input=c)  # default prefix width 4 misreads 2-byte prefixes
        check(p.returncode != 0 or p.stdout != data, "lz4blocks prefix_width must matter")
    elif fmt == "xz":
        c = ok("-f", fmt, "-o", "dict_size=64K", "-o", "check=crc32", "-o", "lc=4", "-o", "lp=0", input=data).stdout
        check(ok("-d", input=c).stdout == data, "xz params round trip")
        c2 = ok("-f", fmt, "-o", "delta_dist=4", input=data).stdout
        check(ok("-d", input=c2).stdout == data, "xz delta filter round trip")
    elif fmt == "lzma2":
        c = ok("-f", fmt, "-o", "dict_size=64K", "-o", "match_finder=hc4", input=data).stdout
        check(ok("-d", "-f", fmt, "-o", "dict_size=64K", input=c).stdout == data, "lzma2 params round trip")
    elif fmt == "lzma":
        c = ok("-f", fmt, "-o", "dict_size=256K", "-o", "mode=fast", input=data).stdout
        check(ok("-d", input=c).stdout == data, "lzma params round trip")
    elif fmt == "zstd":
        c = ok("-o", "enable_long_distance_matching=1", "-o", "window_log=24", input=data).stdout
        check(ok("-d", input=c).stdout == data, "zstd ldm round trip")


def t_param_errors():
    need_format("zstd")
    fails(2, ["-o", "nonsense=1"], r"^codecat: -o nonsense=1: unknown parameter", r"Try 'codecat --help'", input=b"x")
    fails(2, ["-o", "window_log=99"], r"out of range for zstd: \d+\.\.\d+", input=b"x")
    fails(2, ["-o", "window_log=abc"], r"not a number", input=b"x")
    fails(2, ["-o", "window_log"], r"expected NAME=VALUE", input=b"x")
    fails(2, ["-o", "dict_size=1M"], r"unknown parameter 'dict_size' for zstd", input=b"x")
    fails(2, ["-f", "xz", "-o", "window_log=20"], r"unknown parameter 'window_log' for xz", input=b"x")
    fails(2, ["-l", "99"], r"-l 99: out of range for zstd", input=b"x")
    fails(2, ["-l", "x"], r"-l x: not a number", input=b"x")
    fails(2, ["-d", "-o", "block_size=64K"], r"ambiguous", input=b"x")
    p = ok("-o", "help")
    check(b"window_log" in p.stdout and b"dict_size" in p.stdout, "-o help lists the parameters")


# ----------------------------------------------------------------------------- dictionaries

def make_samples():
    rnd = random.Random(13)
    recs = []
    for i in range(3000):
        recs.append(b'{"id":%d,"user":"user%04d","action":"%s","path":"/api/v2/items/%d","ok":%s}' % (
            i, rnd.randrange(500), rnd.choice([b"view", b"edit", b"delete", b"share"]), rnd.randrange(10000),
            rnd.choice([b"true", b"false"])))
    return recs


def trained_dict():
    """Writes ./dict: a zstd dictionary (zstd --train, trained once per run) when the tool
    exists, else raw content. Returns the sample records."""
    recs = make_samples()
    cache = os.path.join(WORK, "trained.dict")
    if not os.path.exists(cache):
        if shutil.which("zstd"):
            d = tempfile.mkdtemp(dir=WORK)
            for i, r in enumerate(recs):
                write(os.path.join(d, str(i)), r)
            subprocess.run(["zstd", "-q", "--train", "-r", d, "--maxdict=8192", "-o", cache], check=True)
            shutil.rmtree(d)
        else:
            write(cache, b"".join(recs[:200]))
    shutil.copy(cache, "dict")
    return recs


def t_dict(fmt):
    need_format(fmt)
    recs = trained_dict()
    msg = recs[-1] + b"\n" + recs[-2]
    with_d = ok("-f", fmt, "-D", "dict", input=msg).stdout
    without = ok("-f", fmt, input=msg).stdout
    check(len(with_d) < len(without), f"{fmt}: the dictionary should help ({len(with_d)} vs {len(without)})")
    check(ok("-d", *fflag(fmt), "-D", "dict", input=with_d).stdout == msg, f"{fmt}: dictionary round trip")
    p = cc("-d", *fflag(fmt), input=with_d)  # without the dictionary: an error, never silent garbage
    check(p.returncode == 1 or p.stdout != msg, f"{fmt}: decoding without the dictionary must not succeed")
    if fmt == "zstd":
        check(p.returncode == 1 and b"CODEC_E_DICT" in p.stderr and p.stderr.startswith(b"codecat: (stdin): "),
              f"missing dictionary message: {p.stderr}")


def t_dict_interop():
    need_format("zstd")
    need_tool("zstd")
    recs = trained_dict()
    msg = b"\n".join(recs[-5:])
    write("m", msg)
    ok("-D", "dict", "m", "m.zst")
    check(subprocess.run(["zstd", "-q", "-dc", "-D", "dict", "m.zst"], capture_output=True, check=True).stdout == msg,
          "zstd -D decodes codecat -D")
    subprocess.run(["zstd", "-q", "-f", "-D", "dict", "m", "-o", "z.zst"], check=True)
    check(ok("-d", "-D", "dict", "z.zst", "-").stdout == msg, "codecat -D decodes zstd -D")
    fails(1, ["-d", "z.zst", "-"], r"^codecat: z\.zst: dictionary", "CODEC_E_DICT")
    write("other", b"not the same dictionary content " * 100)
    fails(1, ["-d", "-D", "other", "z.zst", "-"], r"^codecat: z\.zst: ", "CODEC_E_")


def t_dict_interop_lz4():
    need_format("lz4")
    need_tool("lz4")
    # lz4 -D uses the last 64 KiB of the file; so does libcodec for raw content >= 64 KiB
    d = text_data(100_000, seed=14)
    write("dict", d)
    msg = text_data(100_000, seed=14)[50_000:52_000] + b"tail"
    write("m", msg)
    ok("-f", "lz4", "-D", "dict", "m", "m.lz4")
    check(subprocess.run(["lz4", "-q", "-dc", "-D", "dict", "m.lz4"], capture_output=True, check=True).stdout == msg,
          "lz4 -D decodes codecat -D")
    subprocess.run(["lz4", "-q", "-f", "-D", "dict", "m", "z.lz4"], check=True)
    check(ok("-d", "-D", "dict", "z.lz4", "-").stdout == msg, "codecat -D decodes lz4 -D")


def t_dict_errors():
    need_format("zstd")
    fails(1, ["-D", "/nonexistent/dict"], r"^codecat: /nonexistent/dict: No such file", input=b"x")
    write("bad", b"\x37\xa4\x30\xec" + b"\x00" * 20)  # zstd dictionary magic, broken content
    fails(1, ["-D", "bad"], r"^codecat: bad: not a usable dictionary", "CODEC_E_", input=b"x")
    need_format("xz")
    write("d", b"x" * 1000)
    fails(1, ["-f", "xz", "-D", "d"], r"cannot use this dictionary", input=b"x")


# ----------------------------------------------------------------------------- flush

def t_flush_live(fmt):
    """codecat --flush-every N | codecat -d: after every N input bytes, exactly the input so
    far comes out of the decoder, while the compressor's stdin stays open."""
    need_format(fmt)
    n, rounds = 1000, 15
    data = text_data(n * rounds, seed=15)
    enc = subprocess.Popen([CODECAT, "-f", fmt, "--flush-every", str(n), "-c"], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dec = subprocess.Popen([CODECAT, "-d", *fflag(fmt)], stdin=enc.stdout, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    enc.stdout.close()
    got = bytearray()
    try:
        for k in range(1, rounds + 1):
            enc.stdin.write(data[(k - 1) * n:k * n])
            enc.stdin.flush()
            deadline = time.time() + 10
            while len(got) < k * n:
                left = deadline - time.time()
                check(left > 0, f"{fmt}: after {k * n} input bytes only {len(got)} decoded (flush did not arrive)")
                r, _, _ = select.select([dec.stdout], [], [], left)
                if r:
                    chunk = os.read(dec.stdout.fileno(), 65536)
                    if not chunk:
                        raise AssertionError(f"{fmt}: the decoder ended early: {dec.stderr.read()!r}")
                    got += chunk
            check(len(got) == k * n and bytes(got) == data[:k * n], f"{fmt}: round {k}: decoded data differs")
        enc.stdin.close()
        got += dec.stdout.read()
        check(enc.wait(10) == 0 and dec.wait(10) == 0, f"{fmt}: exit codes {enc.returncode} {dec.returncode}")
        check(bytes(got) == data, f"{fmt}: final data differs")
    finally:
        for p in (enc, dec):
            if p.poll() is None:
                p.kill()
                p.wait()


def t_flush_prefixes(fmt):
    """Every flush point is in the file: feeding the compressed output to a decoder one byte
    at a time, some prefix decodes to exactly the input up to each flush."""
    need_format(fmt)
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import codec  # the repository's Python package, over the same library
    n = 3000
    data = text_data(n * 12 + 1234, seed=16)
    comp = ok("-f", fmt, "--flush-every", str(n), input=data).stdout
    d = codec.Decoder(fmt if not FORMATS[fmt]["auto"] else "auto")
    produced, seen = 0, {0}
    out = bytearray()
    for i in range(len(comp)):
        piece = d.decompress(comp[i:i + 1])
        out += piece
        seen.add(len(out))
    check(bytes(out) == data, f"{fmt}: byte-at-a-time decode differs")
    missing = [k * n for k in range(1, len(data) // n + 1) if k * n not in seen]
    check(not missing, f"{fmt}: no prefix of the output decodes to exactly {missing[:5]} bytes")
    del produced


def t_flush_lzma():
    fails(2, ["-f", "lzma", "--flush-every", "1000"], r"cannot flush", input=b"x")
    fails(2, ["-d", "--flush-every", "1000"], r"--flush-every is for compression", input=b"x")
    fails(2, ["--flush-every", "0"], r"expected a size > 0", input=b"x")


# ----------------------------------------------------------------------------- files, errors

def t_files_and_errors():
    need_format("zstd")
    data = text_data(300_000, seed=17)
    write("in", data)
    ok("in")
    fails(1, ["in"], r"^codecat: in\.zst: already exists; use --force")
    ok("--force", "-l", "5", "in")
    check(ok("-d", "in.zst", "-").stdout == data, "--force output")
    fails(1, ["-d", "in.zst"], r"^codecat: in: already exists")
    fails(1, ["missing"], r"^codecat: missing: No such file or directory")
    fails(1, ["in.zst"], r"already has the \.zst suffix")
    fails(1, ["-d", "in"], r"^codecat: in: unknown suffix")
    fails(1, ["-d", "in", "-"], r"^codecat: in: unknown format", r"need -f")
    fails(1, ["in", "in"], r"input and output are the same file", )
    check(read("in") == data, "the input must survive 'codecat in in'")
    fails(2, ["--bogus"], r"^codecat: unknown option '--bogus'", r"Try 'codecat --help'")
    fails(2, ["-Z"], r"^codecat: unknown option '-Z'")
    fails(2, ["-f", "gzip"], r"-f gzip: unknown format")
    fails(2, ["a", "b", "c"], r"too many file names")
    fails(2, ["-c", "a", "b"], r"exclude each other")
    fails(2, ["-f"], r"option -f needs an argument")
    fails(2, ["--state", "s"], r"--state is for decompression")
    fails(2, ["-d", "--state", "s"], r"--state needs an OUT file", input=b"")
    p = ok("--help")
    check(p.stdout.startswith(b"Usage: codecat") and b"--flush-every" in p.stdout, "--help")
    # truncated input: an error, the partial output file is removed
    comp = read("in.zst")
    write("t.zst", comp[:len(comp) // 2])
    fails(1, ["-d", "t.zst"], r"^codecat: t\.zst: truncated input: it ends inside a frame after \d+ bytes")
    check(not os.path.exists("t"), "a failed decompression must remove its partial output")
    # corrupt input: the message names the file, libcodec's text with the byte offset, the status
    bad = bytearray(comp)
    bad[4:8] = b"\xff\xff\xff\xff"  # frame header descriptor
    write("bad.zst", bytes(bad))
    fails(1, ["-d", "bad.zst", "-"], r"^codecat: bad\.zst: corrupt input: .*at input byte \d+.*\(CODEC_E_CORRUPT\)")
    bad = bytearray(comp)
    for i in range(1000, len(bad), 997):
        bad[i] ^= 0xA5
    write("bad2.zst", bytes(bad))
    fails(1, ["-d", "bad2.zst", "-"], r"^codecat: bad2\.zst: .*\(CODEC_E_[A-Z]+\)")
    fails(1, ["-d", "-"], r"not compressed data, or too short", input=b"hi\n")
    # -q silences notices and progress, -qq also errors; -v reports
    check(ok("-q", "-c", "in").stderr == b"", "-q")
    check(cc("-qq", "-d", "bad.zst", "-").stderr == b"", "-qq")
    p = ok("-v", "-c", "in")
    check(re.search(rb"^codecat: in: [\d.]+ KiB -> [\d.]+ KiB \([\d.]+% of the original, ratio [\d.]+\), [\d.]+ s, ",
                    p.stderr), f"-v report: {p.stderr}")
    p = ok("-v", "-d", "-c", "in.zst")
    check(b"zstd data" in p.stderr and b"ratio" in p.stderr, f"-v -d report: {p.stderr}")
    # an unreadable input
    os.mkdir("dir")
    fails(1, ["dir", "-"], r"^codecat: dir: is a directory")


def t_terminal():
    """Compressed data is never written to (or read from) a terminal; --force overrides."""
    need_format("zstd")
    m, s = pty.openpty()
    try:
        p = subprocess.run([CODECAT], input=b"data", stdout=s, stderr=subprocess.PIPE, timeout=20)
        check(p.returncode == 1 and b"terminal" in p.stderr, f"compressed data to a terminal: {p.returncode} {p.stderr}")
        p = subprocess.run([CODECAT, "-d"], stdin=s, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
        check(p.returncode == 1 and b"terminal" in p.stderr, f"compressed data from a terminal: {p.stderr}")
    finally:
        os.close(m)
        os.close(s)


def t_progress():
    """On a terminal, a long run shows a progress line (at most a few per second) and clears it."""
    need_format("zstd")
    data = text_data(400_000, seed=18)
    m, s = pty.openpty()
    try:
        p = subprocess.Popen([CODECAT, "-c"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=s)
        t0 = time.time()
        for i in range(0, len(data), 20_000):  # ~1.6 s of slow input
            p.stdin.write(data[i:i + 20_000])
            p.stdin.flush()
            time.sleep(0.08)
        p.stdin.close()
        check(p.wait(20) == 0, "progress run failed")
        os.close(s)
        s = -1
        out = b""
        while True:
            try:
                r, _, _ = select.select([m], [], [], 1)
                if not r:
                    break
                chunk = os.read(m, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        lines = out.count(b"\rcodecat: (stdin): ")
        check(lines >= 2, f"expected progress lines, got {out!r}")
        check(lines <= 4 * (time.time() - t0) + 2, f"too many progress updates: {lines}")
        check(re.search(rb"\r {20,}\r$", out), f"the progress line must be cleared at the end: {out[-100:]!r}")
    finally:
        os.close(m)
        if s >= 0:
            os.close(s)
    m, s = pty.openpty()  # -q: nothing
    try:
        p = subprocess.run([CODECAT, "-q", "-c"], input=data, stdout=subprocess.DEVNULL, stderr=s, timeout=20)
        check(p.returncode == 0, "-q run")
    finally:
        os.close(s)
        try:
            r, _, _ = select.select([m], [], [], 0.2)
            check(not r or not os.read(m, 100), "-q must print nothing")
        except OSError:
            pass
        os.close(m)


# ----------------------------------------------------------------------------- resume

def big_input(fmt, n=6_000_000, seed=19):
    data = text_data(n, seed=seed)
    comp = ok("-f", fmt, "-l", "1" if fmt in ("zstd", "lz4", "lz4blocks") else "0", input=data).stdout
    return data, comp


class StderrReader:
    """Collects a child's stderr lines in a thread."""

    def __init__(self, stream):
        self.q, self.lines = queue.Queue(), []
        self.t = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self.t.start()

    def _run(self, stream):
        for line in iter(stream.readline, b""):
            self.q.put(line)
        self.q.put(None)

    def first(self, timeout):
        try:
            line = self.q.get(timeout=timeout)
        except queue.Empty:
            return None
        if line is not None:
            self.lines.append(line)
        return line

    def rest(self):
        self.t.join(10)
        while not self.q.empty():
            line = self.q.get()
            if line is not None:
                self.lines.append(line)
        return b"".join(self.lines)


RESUME_RE = re.compile(rb"resuming from \S+ at input byte (\d+), output byte (\d+)")


def t_resume_pipe(fmt):
    """kill -9 a decompression fed slowly through a pipe, several times at random moments;
    restart it with the same --state and the whole input again (codecat skips what the state
    consumed by reading); the final output hash equals the original's."""
    need_format(fmt)
    rnd = random.Random(os.getpid())
    data, comp = big_input(fmt)
    piece = 16384
    pause = 1.5 / (len(comp) / piece)  # the whole input takes ~1.5 s
    kills, resumes, truncated = 0, 0, 0
    args = [CODECAT, "-d", *fflag(fmt), "--state", "st", "--state-every", "32K", "-", "out"]
    for attempt in range(12):
        resuming = os.path.exists("st")
        size_before = os.path.getsize("out") if os.path.exists("out") else 0
        p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err = StderrReader(p.stderr)
        fast_until = 0
        if resuming:
            line = err.first(10) or b""
            m = RESUME_RE.search(line)
            check(m, f"{fmt}: expected a resume notice, got {line!r}")
            consumed, produced = int(m.group(1)), int(m.group(2))
            check(produced <= size_before, f"{fmt}: the state records {produced} output bytes, the file has {size_before}")
            fast_until, resumes = consumed, resumes + 1
            truncated += produced < size_before
        stop = threading.Event()

        def feed():
            try:
                i = 0
                while i < len(comp) and not stop.is_set():
                    p.stdin.write(comp[i:i + piece])
                    p.stdin.flush()
                    i += piece
                    if i > fast_until:
                        time.sleep(pause)
                p.stdin.close()
            except (BrokenPipeError, ValueError, OSError):
                pass
        t = threading.Thread(target=feed, daemon=True)
        t.start()
        if kills < 4:
            time.sleep(rnd.uniform(0.05, 0.35))
            if p.poll() is None:
                p.kill()
                kills += 1
        rc = p.wait(60)
        stop.set()
        t.join(10)
        msgs = err.rest()
        if rc == 0:
            break
        check(rc == -signal.SIGKILL, f"{fmt}: codecat exited {rc}: {msgs!r}")
    check(kills >= 4 and resumes >= 4, f"{fmt}: only {kills} kills / {resumes} resumes happened")
    check(sha(read("out")) == sha(data), f"{fmt}: resumed output differs from the original")
    check(not os.path.exists("st") and not os.path.exists("st.tmp"), "the state must be removed after success")
    return f"{kills} kills, {resumes} resumes, {truncated} of them cut output written after the last state"


def t_resume_file(fmt):
    """kill -9 at random moments a decompression of a file (the resume seeks the input)."""
    need_format(fmt)
    rnd = random.Random(os.getpid() + 1)
    data, comp = big_input(fmt, n=12_000_000, seed=20)
    write("in", comp)
    args = ["-d", *fflag(fmt), "--state", "st", "--state-every", "64K", "in", "out"]
    t0 = time.time()  # an uninterrupted run first, to time the kills
    ok(*args)
    full = time.time() - t0
    check(sha(read("out")) == sha(data) and not os.path.exists("st"), f"{fmt}: uninterrupted --state run")
    os.remove("out")
    kills, resumes, truncated = 0, 0, 0
    for attempt in range(15):
        size_before = os.path.getsize("out") if os.path.exists("out") else 0
        p = subprocess.Popen([CODECAT, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if kills < 5:
            time.sleep(rnd.uniform(0.02, 0.25) * full)
            if p.poll() is None:
                p.kill()
                kills += 1
        _, err = p.communicate(timeout=60)
        m = RESUME_RE.search(err)
        if m:
            check(int(m.group(2)) <= size_before, f"{fmt}: state claims more output than the file has")
            resumes += 1
            truncated += int(m.group(2)) < size_before
        if p.returncode == 0:
            break
        if p.returncode == 1 and b"already exists" in err and not os.path.exists("st"):
            break  # killed after removing the state at the very end: the output is complete
        check(p.returncode == -signal.SIGKILL, f"{fmt}: codecat exited {p.returncode}: {err!r}")
    check(kills >= 3, f"{fmt}: too few kills landed ({kills})")
    check(sha(read("out")) == sha(data), f"{fmt}: resumed output differs from the original")
    return f"{kills} kills, {resumes} resumes, {truncated} of them cut output written after the last state"


def t_resume_sigint():
    """SIGINT saves the state (and the process dies by the signal); the rerun finishes."""
    need_format("zstd")
    data, comp = big_input("zstd", n=3_000_000, seed=21)
    p = subprocess.Popen([CODECAT, "-d", "--state", "st", "--state-every", "100M", "-", "out"], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    p.stdin.write(comp[:len(comp) // 2])
    p.stdin.flush()
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=20)
    check(p.returncode == -signal.SIGINT, f"exit {p.returncode}: {err!r}")
    check(b"interrupted; state saved in st" in err, f"message: {err!r}")
    p = ok("-d", "--state", "st", "-", "out", input=comp)
    m = RESUME_RE.search(p.stderr)
    check(m and int(m.group(1)) > 0, f"the SIGINT state must record progress: {p.stderr!r}")
    check(sha(read("out")) == sha(data), "output after SIGINT + resume differs")


def t_resume_download(fmt):
    """The input grows like a download: each run decodes what has arrived, says the input is
    truncated, keeps the state; the last run completes byte-identical."""
    need_format(fmt)
    rnd = random.Random(22)
    data, comp = big_input(fmt, n=2_000_000, seed=23)
    cuts = sorted(rnd.sample(range(1, len(comp)), 6)) + [len(comp)]
    for i, cut in enumerate(cuts):
        write("in", comp[:cut])
        p = cc("-d", *fflag(fmt), "--state", "st", "in", "out")
        if cut < len(comp):
            check(p.returncode == 1 and b"truncated input" in p.stderr and b"state saved in st" in p.stderr,
                  f"{fmt}: cut {i}: {p.returncode} {p.stderr!r}")
            check(os.path.exists("st"), "the state must stay")
        else:
            check(p.returncode == 0, f"{fmt}: final run: {p.stderr!r}")
    check(sha(read("out")) == sha(data), f"{fmt}: downloaded output differs")


def t_resume_errors():
    need_format("zstd")
    recs = trained_dict()
    data = b"\n".join(recs) * 20
    write("in.zst", ok("-D", "dict", input=data).stdout)
    comp = read("in.zst")
    write("half.zst", comp[:len(comp) // 2])
    fails(1, ["-d", "-D", "dict", "--state", "st", "half.zst", "out"], r"truncated input")
    # the state remembers the dictionary: resuming without it (or with another) is refused
    fails(1, ["-d", "--state", "st", "in.zst", "out"], r"^codecat: st: the state needs the dictionary", "CODEC_E_DICT")
    write("other", b"some other dictionary " * 50)
    fails(1, ["-d", "-D", "other", "--state", "st", "in.zst", "out"], r"CODEC_E_DICT")
    size = os.path.getsize("out")
    # OUT shorter than the state says: refuse rather than produce a hole
    with open("out", "r+b") as f:
        f.truncate(size // 3)
    if size // 3 < size:
        fails(1, ["-d", "-D", "dict", "--state", "st", "in.zst", "out"], r"is shorter .* cannot resume")
    # a damaged state file
    st = bytearray(read("st"))
    st[len(st) // 2] ^= 1
    write("st", bytes(st))
    fails(1, ["-d", "-D", "dict", "--state", "st", "in.zst", "out"], r"^codecat: st: not a usable decoder state",
          "CODEC_E_STATE")
    write("st", b"garbage")
    fails(1, ["-d", "-D", "dict", "--state", "st", "in.zst", "out"], r"CODEC_E_STATE")
    # a fresh --state run refuses to clobber an existing OUT (and leaves no state behind)
    os.remove("st")
    write("exists", b"keep me")
    fails(1, ["-d", "-D", "dict", "--state", "st2", "in.zst", "exists"], r"already exists")
    check(read("exists") == b"keep me" and not os.path.exists("st2"), "existing OUT must be untouched")
    ok("-d", "-D", "dict", "--state", "st2", "--force", "in.zst", "exists")
    check(read("exists") == data and not os.path.exists("st2"), "--force with --state")


def t_valgrind():
    """codecat under valgrind: compression, decompression, a resume and an error path."""
    need_format("zstd")
    need_tool("valgrind")
    vg = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite"]
    data = text_data(200_000, seed=24)
    write("in", data)

    def run(*args, code=0):
        p = subprocess.run([*vg, CODECAT, *args], capture_output=True, timeout=120)
        check(p.returncode == code, f"valgrind codecat {args}: exit {p.returncode}: {p.stderr.decode(errors='replace')}")
    run("-o", "checksum=1", "--flush-every", "10000", "in", "in.zst")
    comp = read("in.zst")
    write("half.zst", comp[:len(comp) // 2])
    run("-d", "--state", "st", "half.zst", "out", code=1)
    run("-d", "--state", "st", "in.zst", "out")
    check(read("out") == data, "valgrind resume output")
    run("-d", "half.zst", "-", code=1)
    run("-o", "window_log=99", "in", code=2)


# ----------------------------------------------------------------------------- main

def main():
    global CODECAT, WORK, FILTER
    args = sys.argv[1:]
    FILTER = None
    if "-k" in args:
        i = args.index("-k")
        FILTER = args[i + 1]
        del args[i:i + 2]
    CODECAT = os.path.abspath(args[0] if args else os.path.join(ROOT, "build", "bin", "codecat"))
    WORK = tempfile.mkdtemp(prefix="codecat-test-")
    t0 = time.time()
    print(f"codecat tests ({CODECAT})")
    try:
        for fmt in FORMATS:
            run_test(f"round trip {fmt}", t_round_trip, fmt)
            run_test(f"levels and threads {fmt}", t_levels_threads, fmt)
            run_test(f"parameters {fmt}", t_params_format, fmt)
            if fmt != "lzma":
                if FORMATS[fmt]["auto"]:
                    run_test(f"concatenated frames {fmt}", t_concatenated, fmt)
                run_test(f"flush live through a pipe {fmt}", t_flush_live, fmt)
                run_test(f"flush points in the output {fmt}", t_flush_prefixes, fmt)
            if FORMATS[fmt]["dict"]:
                run_test(f"dictionary {fmt}", t_dict, fmt)
        run_test("interop zstd", t_interop_zstd)
        run_test("interop lz4", t_interop_lz4)
        run_test("interop xz", t_interop_xz)
        run_test("interop lzma (.lzma)", t_interop_lzma)
        run_test("interop lzma2 (raw)", t_interop_lzma2)
        run_test("zstd parameters take effect", t_params_zstd)
        run_test("parameter errors", t_param_errors)
        run_test("dictionary interop zstd", t_dict_interop)
        run_test("dictionary interop lz4", t_dict_interop_lz4)
        run_test("dictionary errors", t_dict_errors)
        run_test("flush errors", t_flush_lzma)
        run_test("files, messages and exit codes", t_files_and_errors)
        run_test("terminals", t_terminal)
        run_test("progress line", t_progress)
        for fmt in FORMATS:
            run_test(f"kill -9 and resume, pipe {fmt}", t_resume_pipe, fmt)
            run_test(f"kill -9 and resume, file {fmt}", t_resume_file, fmt)
            run_test(f"growing input resume {fmt}", t_resume_download, fmt)
        run_test("SIGINT saves the state", t_resume_sigint)
        run_test("state errors", t_resume_errors)
        run_test("valgrind", t_valgrind)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    print(f"codecat: {results['ok']} passed, {results['fail']} failed, {results['skip']} skipped "
          f"in {time.time() - t0:.1f} s")
    if failures:
        print("failed: " + ", ".join(failures))
    return 1 if failures else 0


FILTER = None
if __name__ == "__main__":
    sys.exit(main())
