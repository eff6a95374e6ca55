"""`pip install ./python` gives a package that carries its own libcodec.so."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.dirname(HERE)


def test_pip_install_into_a_fresh_venv_and_import_from_elsewhere(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k not in ("CODEC_LIBRARY", "PYTHONPATH")}
    # an isolated build fetches setuptools and wheel from PyPI, as a user's pip would
    cmd = [py, "-m", "pip", "install", "-q", PYDIR]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    script = (
        "import codec, os\n"
        "lib = codec.library_path\n"
        "assert lib.startswith(os.path.dirname(codec.__file__)), lib\n"
        "assert codec.decompress(codec.compress(b'x' * 1000)) == b'x' * 1000\n"
        "from codec.compat import pyzstd, yalzma, lz4framed, lz4stream\n"
        "print(lib)\n"
    )
    res = subprocess.run([py, "-c", script], env=env, capture_output=True, text=True, cwd=str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "/site-packages/codec/_lib/libcodec.so" in res.stdout
