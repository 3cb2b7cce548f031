"""The READMEs' Python examples run as written (so they cannot show code that fails)."""
import pathlib
import re


def test_readme_python_example_runs():
    readme = pathlib.Path(__file__).resolve().parents[2] / "README.md"
    blocks = re.findall(r"^```python\n(.*?)^```$", readme.read_text(), re.M | re.S)
    assert blocks, "README.md has no ```python block"
    exec(compile(blocks[0], "README.md python example", "exec"), {})


def test_package_readme_python_examples_run():
    """Every ```python block of python/README.md, each on its own (the device loops run no
    body on a machine without devices)."""
    readme = pathlib.Path(__file__).resolve().parents[1] / "README.md"
    blocks = re.findall(r"^```python\n(.*?)^```$", readme.read_text(), re.M | re.S)
    assert len(blocks) >= 4, "python/README.md lost its examples"
    for i, block in enumerate(blocks):
        exec(compile(block, f"python/README.md python example {i + 1}", "exec"), {})
