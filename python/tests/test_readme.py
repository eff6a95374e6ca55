"""The README's Python example runs as written."""
import os
import re


def test_readme_python_example(capsys):
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")) as f:
        block = re.search(r"```python\n(.*?)```", f.read(), re.S).group(1)
    exec(compile(block, "README.md", "exec"), {})
    assert "first record" in capsys.readouterr().out
