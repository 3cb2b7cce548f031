import pathlib

import pytest

# The source tree these tests belong to: python/tests/ -> the repository.
REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def repo():
    return REPO
