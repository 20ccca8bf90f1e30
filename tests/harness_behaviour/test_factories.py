"""The factories a project gets with `factories=true`: rows saved through the
test's `db_session`, seen by its requests, rolled back after it, on SQLite and
real PostgreSQL and under xdist; a binding that never outlives its test; and
the same harness adopted into an existing app, whose models it does not know.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import copier
import pytest
from rendering import (
    EXISTING_APPS,
    assert_suite_passes,
    outcome_counts,
    read_answers,
    render,
    run_suite,
    server_environment,
    suite_environment,
)

# A team's tests, in one file so that xdist's loadfile keeps them in order on
# one worker: a factory saving after a test that bound it must still fail.
MISUSE_TESTS = '''"""What a factory does outside a test that requested `factories`."""

import asyncio

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.factories import ItemFactory
from tests.harness.factories import FactoryNotBound
from tests.harness.shared_session import ConcurrentSessionUse


async def test_bound(async_client: httpx.AsyncClient, factories: None) -> None:
    item = await ItemFactory.create_async()

    assert (await async_client.get(f"/items/{item.id}")).status_code == 200


async def test_the_next_test_without_the_fixture_is_refused(
    async_client: httpx.AsyncClient,
) -> None:
    with pytest.raises(FactoryNotBound, match="request the `factories` fixture"):
        await ItemFactory.create_async()
    assert (await async_client.get("/items")).json() == []


def test_a_def_test_is_told_to_await(client: TestClient) -> None:
    with pytest.raises(FactoryNotBound, match="no synchronous session"):
        ItemFactory.create_sync()
    assert ItemFactory.build().id is None


async def test_concurrent_saves_name_the_fix(factories: None) -> None:
    with pytest.raises(ConcurrentSessionUse, match="one after another"):
        await asyncio.gather(*(ItemFactory.create_async() for _ in range(2)))


async def test_mixed_with_client(client: TestClient, factories: None) -> None:
    pass
'''


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_factories_under_xdist_and_their_binding_never_outlives_a_test(
    template: Path, tmp_path: Path, database: str
) -> None:
    answers = {"async_db": database, "factories": True}
    if database == "postgresql":
        answers["async_runner"] = "anyio"
    project = render(template, tmp_path / database, answers)
    (project / "tests/test_misuse.py").write_text(
        MISUSE_TESTS.replace("\nasync def", "\n@pytest.mark.anyio\nasync def")
        if database == "postgresql"
        else MISUSE_TESTS
    )
    env = server_environment(project, answers, f"factories_{database}")

    result = run_suite(project, "-n", "2", "--dist", "loadfile", "-v", env=env)

    output = result.stdout + result.stderr
    counts = outcome_counts(result.stdout)
    # Every test passes but the one mixing `client` with `factories`.
    assert counts.get("error") == 1, output
    assert "failed" not in counts, output
    for passed in (
        "test_item_factories.py::test_a_row_from_the_factory_is_what_the_api_returns",
        "test_item_factories.py::test_no_factory_row_outlives_its_test",
        "test_misuse.py::test_the_next_test_without_the_fixture_is_refused",
        "test_misuse.py::test_concurrent_saves_name_the_fix",
    ):
        assert f"PASSED tests/{passed}" in result.stdout, output
    flat = " ".join(output.split())
    assert (
        "uses `client` together with loop-bound `factories` (which pulls in "
        "`async_client` and `db_session`)" in flat
    ), output


LEDGER = EXISTING_APPS / "async_resources"
LEDGER_FACTORY_TESTS = '''"""The ledger team's factory, on the harness's base."""

import pytest
from polyfactory import Use
from sqlalchemy import func, select

from ledger.models import Entry
from fastapi_harness.factories import HarnessFactory

pytestmark = pytest.mark.asyncio(loop_scope="session")


class EntryFactory(HarnessFactory[Entry]):
    text = Use(HarnessFactory.__faker__.sentence)


async def test_saved_entries_are_listed(harness_async_client, harness_factories):
    entries = await EntryFactory.create_batch_async(2)

    response = await harness_async_client.get("/entries")

    assert response.json() == [entry.text for entry in entries]


async def test_none_is_left(harness_db_session):
    assert await harness_db_session.scalar(select(func.count(Entry.id))) == 0
'''
# The ledger team's own fixture of the harness's name: the default prefix
# steers the harness's clear of it.
LEDGER_OWN_FACTORIES_FIXTURE = """

@pytest.fixture
def factories():
    return "the team's"
"""


def test_an_adopted_harness_binds_the_projects_own_factories(
    template: Path, tmp_path: Path
) -> None:
    project = tmp_path / "ledger"
    shutil.copytree(LEDGER, project)
    conftest = project / "tests/conftest.py"
    conftest.write_text(conftest.read_text() + LEDGER_OWN_FACTORIES_FIXTURE)
    copier.run_copy(
        str(template),
        str(project),
        data={
            "scaffold": "adopt",
            "app_import": "ledger.main:app",
            "async_db": "sqlite",
            "db_session_dependency": "ledger.db:get_db",
            "db_metadata": "ledger.models:Model",
            "factories": True,
        },
        defaults=True,
        overwrite=True,
        unsafe=True,
        quiet=True,
    )
    (project / "tests/test_entry_factory.py").write_text(LEDGER_FACTORY_TESTS)

    result = run_suite(project, "-v", env=suite_environment(project))

    assert read_answers(project)["fixture_prefix"] == "harness_"
    assert not (project / "tests/factories.py").exists()
    assert '"polyfactory>=' in (project / "pyproject.toml").read_text()
    assert_suite_passes(result, at_least=3)
    assert "test_entry_factory.py::test_none_is_left PASSED" in result.stdout
