"""The package's version is the crate's: pyproject.toml, mst.__version__ and Cargo.toml agree."""
import pathlib
import re

import mst

ROOT = pathlib.Path(__file__).resolve().parents[2]


def version_in(path, table):
    """The `version = "..."` of `[table]` in a TOML file (read by hand: Python 3.9 has no
    tomllib)."""
    current = None
    for line in path.read_text().splitlines():
        header = re.match(r"^\[([^\]]+)\]\s*$", line)
        if header:
            current = header.group(1)
        elif current == table:
            m = re.match(r'^version\s*=\s*"([^"]+)"', line)
            if m:
                return m.group(1)
    raise AssertionError(f"no version in [{table}] of {path}")


def test_the_package_version_is_the_crates():
    cargo = version_in(ROOT / "Cargo.toml", "package")
    assert version_in(ROOT / "python" / "pyproject.toml", "project") == cargo
    assert mst.__version__ == cargo
