"""The loop guard judges the fixtures that resolve for a test, and its message
names what the test asked for and what pulled the rest in.

A project's own fixture that shares a name with one of the harness's (its own
`client`, often an httpx.AsyncClient) is the project's: the guard never fires
on it. A test that runs on another event loop than the harness's async
fixtures stops at setup with the marker to add.
"""

import textwrap
from pathlib import Path

import pytest
from rendering import outcome_counts, render, run_suite

ANSWERS = {"cache": "redis", "async_db": "sqlite", "asyncio_mode": "strict"}

MIXES = """
import pytest


@pytest.fixture
def seeded(db_session):
    return db_session


def test_client_with_db_session(client, db_session):
    client.get("/health")


def test_client_with_a_fixture_that_needs_the_database(client, seeded):
    client.get("/health")


def test_client_with_cache_and_db_session(client, cache, db_session):
    client.get("/health")


@pytest.mark.asyncio(loop_scope="function")
async def test_on_a_loop_of_its_own(async_client):
    await async_client.get("/health")


@pytest.mark.asyncio(loop_scope="session")
async def test_on_the_sessions_loop(async_client):
    assert (await async_client.get("/health")).status_code == 200
"""

OWN_CLIENT_CONFTEST = '''
import httpx
import pytest


@pytest.fixture
def client():
    """This directory's own `client`: not the harness's TestClient."""
    return httpx.AsyncClient(base_url="http://own.invalid")
'''

OWN_CLIENT_TESTS = """
def test_own_client_with_the_harness_cache(client, cache):
    assert str(client.base_url) == "http://own.invalid"
"""


@pytest.fixture(scope="module")
def project(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = render(template, tmp_path_factory.mktemp("guard") / "svc", ANSWERS)
    (project / "tests" / "test_mixes.py").write_text(textwrap.dedent(MIXES))
    own = project / "tests" / "own"
    own.mkdir()
    (own / "__init__.py").write_text("")
    (own / "conftest.py").write_text(textwrap.dedent(OWN_CLIENT_CONFTEST))
    (own / "test_own_client.py").write_text(textwrap.dedent(OWN_CLIENT_TESTS))
    return project


def test_the_message_names_what_the_test_asked_for(project: Path) -> None:
    result = run_suite(project, "tests/test_mixes.py", "tests/own", "-p", "no:xdist")
    output = result.stdout

    assert outcome_counts(output) == {"passed": 2, "errors": 4}, output
    assert (
        "test_client_with_db_session uses `client` together with loop-bound "
        "`db_session`.\n"
    ) in output
    assert (
        "uses `client` together with loop-bound `seeded` (which pulls in "
        "`async_client` and `db_session`)."
    ) in output
    assert (
        "uses `client` together with loop-bound `cache` and `db_session`.\n"
    ) in output
    assert "so the app cannot share it, which lives on the test's event loop" in output
    assert "so the app cannot share them, which live on the test's event loop" in output
    assert "Fix: use `async_client` instead of `client`" in output
    assert "test_on_a_loop_of_its_own runs on a function-scoped event loop" in output
    assert 'mark the test @pytest.mark.asyncio(loop_scope="session")' in output
    # A fixture of the project's own named `client` is never judged.
    assert (
        "test_own_client_with_the_harness_cache PASSED"
        in run_suite(project, "tests/own", "-v", "-p", "no:xdist").stdout
    )
