"""Fixtures shared by the template's tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from releases import GIT_IDENTITY
from rendering import copy_template


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the template as it is in the working tree, outside any git repo."""
    return copy_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session", autouse=True)
def git_identity() -> Iterator[None]:
    """Commits the tests make, and Copier's own git calls, need an identity."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in GIT_IDENTITY.items():
            patch.setenv(name, value)
        yield
