"""Fixtures shared by the template's tests."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from releases import GIT_IDENTITY
from rendering import copy_template, embedded_postgres


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


@pytest.fixture(scope="session", autouse=True)
def embedded_postgres_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Where the embedded PostgreSQL (rendering.postgres_server_url) keeps its lock,
    shared by the run's xdist workers; the last one to finish stops the server.
    Nothing starts unless a test asks for a server."""
    run = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run = run.parent
    embedded_postgres["run"] = run
    yield
    if "leave" in embedded_postgres:
        embedded_postgres.pop("leave")()
