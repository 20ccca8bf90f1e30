"""Fixtures shared by the template's tests."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from compiled_once import compile_each_source_once
from releases import GIT_IDENTITY
from rendering import (
    copy_template,
    embedded_postgres,
    keep_library_bytecode,
    postgres_server_url,
    quick_tier,
)

# The `pytester` fixture: the harness's plain modules are tested in a pytest
# run of their own (tests/support/plain_modules.py). Here, not in a conftest
# further down: pytest reads `pytest_plugins` only from the first conftest.
pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    # The few hundred renders in this process compile each Jinja source once
    # per render, not each time Copier evaluates it (compiled_once.py).
    compile_each_source_once()


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (pyproject.toml's addopts) runs one worker more than there
    are cores: a worker spends much of its time waiting on a subprocess (a
    generated suite, Copier's git calls, a server starting), which another
    worker's work fills. On 2 cores, 3 workers ran the suite in 580 s, 2 in
    622 s."""
    # The cores this process may use (Linux); elsewhere, the machine's.
    usable = getattr(os, "sched_getaffinity", None)
    return (len(usable(0)) if usable else os.cpu_count() or 1) + 1


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


def _run_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary directory of the whole run, shared by its xdist workers."""
    run = tmp_path_factory.getbasetemp()
    return run.parent if os.environ.get("PYTEST_XDIST_WORKER") else run


@pytest.fixture(scope="session", autouse=True)
def embedded_postgres_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Where the embedded PostgreSQL (rendering.postgres_server_url) keeps its lock,
    shared by the run's xdist workers; the last one to finish stops the server.
    Nothing starts unless a test asks for a server."""
    embedded_postgres["run"] = _run_directory(tmp_path_factory)
    yield
    if "leave" in embedded_postgres:
        embedded_postgres.pop("leave")()


@pytest.fixture(scope="session", autouse=True)
def suite_bytecode_prefix(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The generated suites of the run compile the libraries they share once
    (rendering.keep_library_bytecode)."""
    keep_library_bytecode(_run_directory(tmp_path_factory))


@pytest.fixture(autouse=True)
def _quick_tier_needs_no_server(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test marked `quick` (`pytest -m quick`, the tier to run while working)
    fails if it reaches for PostgreSQL or Redis, in every run: the mark stays
    true as tests change."""
    if request.node.get_closest_marker("quick") is None:
        yield
        return
    quick_tier["test"] = request.node.nodeid
    try:
        yield
    finally:
        quick_tier.clear()


@pytest.fixture
def postgres_server() -> None:
    """The machine's server, or an embedded one started for the run."""
    postgres_server_url()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Keep `xdist_group` tests on one worker under pytest 9.2.

    pytest-xdist 3.8 groups them (--dist loadgroup) by suffixing the item's
    `_nodeid`, which pytest 9.2 no longer reads: every group was split across
    workers, and test_adopt.py adopted each layout once per worker. This sets
    the suffix where pytest reads the node id now, when xdist's did not take.
    """
    if not config.getoption("loadgroup", default=False):
        return
    for item in items:
        groups = {
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        }
        if groups and "@" not in item.nodeid:
            node_id = getattr(item, "_id", None)
            if node_id is not None:
                item._id = type(node_id).parse(  # type: ignore[attr-defined]
                    f"{item.nodeid}@{'_'.join(sorted(groups))}"
                )
