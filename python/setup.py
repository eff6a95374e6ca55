"""Build hook: put a copy of libcodec.so inside the package (codec/_lib/).

`pip install ./python` runs this. The library comes from the repository this directory
belongs to: `cargo build --release --lib` runs in the repository root when
target/release/libcodec.so is missing or older than the Rust/C sources (src/, csrc/,
Cargo.toml, Cargo.lock, build.rs, .cargo/config.toml); `CODEC_LIBRARY=/path/to/libcodec.so`
uses a prebuilt one instead. All metadata is in pyproject.toml.
"""
import os
import shutil
import subprocess

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LIB = os.path.join(ROOT, "target", "release", "libcodec.so")


def _newest_source():
    newest = 0.0
    for top in ("src", "csrc"):
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                newest = max(newest, os.path.getmtime(os.path.join(d, f)))
    for f in ("Cargo.toml", "Cargo.lock", "build.rs", os.path.join(".cargo", "config.toml")):
        p = os.path.join(ROOT, f)
        if os.path.exists(p):
            newest = max(newest, os.path.getmtime(p))
    return newest


def library():
    """Path of the libcodec.so to package, building it first when needed."""
    env = os.environ.get("CODEC_LIBRARY")
    if env:
        return env
    if not os.path.exists(os.path.join(ROOT, "Cargo.toml")):
        raise RuntimeError("libcodec: not inside the repository and CODEC_LIBRARY is not set")
    if not os.path.exists(LIB) or os.path.getmtime(LIB) < _newest_source():
        print("libcodec: cargo build --release --lib in", ROOT)
        subprocess.run(["cargo", "build", "--release", "--lib"], cwd=ROOT, check=True)
    return LIB


class BuildPyWithLibrary(build_py):
    def run(self):
        super().run()
        dest = os.path.join(self.build_lib, "codec", "_lib")
        os.makedirs(dest, exist_ok=True)
        shutil.copy2(library(), os.path.join(dest, "libcodec.so"))


class BinaryDistribution(Distribution):
    """The wheel carries a shared library: make it platform-specific."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildPyWithLibrary}, distclass=BinaryDistribution)
