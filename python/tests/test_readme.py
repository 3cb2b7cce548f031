"""The README's Python example runs as written (so the README cannot show code that fails)."""
import pathlib
import re


def test_readme_python_example_runs():
    readme = pathlib.Path(__file__).resolve().parents[2] / "README.md"
    blocks = re.findall(r"^```python\n(.*?)^```$", readme.read_text(), re.M | re.S)
    assert blocks, "README.md has no ```python block"
    exec(compile(blocks[0], "README.md python example", "exec"), {})
