"""Fixtures shared by the template's tests."""

from pathlib import Path

import pytest
from rendering import copy_template


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the template as it is in the working tree, outside any git repo."""
    return copy_template(tmp_path_factory.mktemp("template"))
