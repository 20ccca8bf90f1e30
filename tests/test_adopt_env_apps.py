"""Adopting apps that build their engine or Redis client at import, from the
environment (`database_url_env`, `redis_url_env`).

Each layout reads its variables when imported, and its own tests/conftest.py
imports the app at its top. Adopted on real PostgreSQL, with and without
`-n 2`: the project's own suite passes as before adopting (now on the worker's
test database), the harness's smoke tests and the team's tests pass beside it,
and the database the app's DATABASE_URL names is exactly as it was.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import copier
import pytest
from rendering import (
    database_url_for,
    outcome_counts,
    postgres_server_url,
    redis_url_for_generated_suites,
    run_suite,
    suite_environment,
    template_test_worker,
)
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

EXISTING_APPS = Path(__file__).parent / "existing_apps"
SMOKE_TESTS = 2

# The stockroom team's tests with the harness (prefixed: its conftest has its
# own `client`). The pairs of tests run in order, on one worker (loadfile).
STOCKROOM_TEAM_TESTS = """\
import asyncio
import os

import pytest
from app.db import Item
from httpx_ws import aconnect_ws
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url


def test_added_through_the_sync_client(harness_client):
    harness_client.post("/items", json={"name": "via client"})

    assert harness_client.get("/items").json() == ["via client"]


@pytest.mark.asyncio(loop_scope="session")
async def test_then_through_the_async_client(harness_async_client):
    # The app's one engine, used on TestClient's loop just before.
    await harness_async_client.post("/items", json={"name": "via async client"})

    assert (await harness_async_client.get("/items")).json() == ["via async client"]


@pytest.mark.asyncio(loop_scope="session")
async def test_written_through_the_api_read_in_the_session(
    harness_db_session, harness_async_client
):
    await harness_async_client.post("/items", json={"name": "via api"})

    assert list(await harness_db_session.scalars(select(Item.name))) == ["via api"]


@pytest.mark.asyncio(loop_scope="session")
async def test_seeded_in_the_session_read_through_the_api(
    harness_db_session, harness_async_client
):
    harness_db_session.add(Item(name="seeded"))
    await harness_db_session.flush()

    assert (await harness_async_client.get("/items")).json() == ["seeded"]


@pytest.mark.asyncio(loop_scope="session")
async def test_twenty_inserts_at_once_land_in_the_test_database(
    harness_async_client, harness_db_engine, harness_test_database_url
):
    responses = await asyncio.gather(
        *(harness_async_client.post("/items", json={"name": f"n{i}"}) for i in range(20))
    )

    assert {response.status_code for response in responses} == {201}
    async with harness_db_engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM items")) == 20
    app_database = make_url(os.environ["DATABASE_URL"]).database
    assert app_database == make_url(harness_test_database_url).database


@pytest.mark.asyncio(loop_scope="session")
async def test_and_are_gone_after_it(harness_db_engine):
    async with harness_db_engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM items")) == 0


@pytest.mark.asyncio(loop_scope="session")
async def test_the_feed_adds_to_what_the_session_seeded(
    harness_db_session, harness_async_client
):
    harness_db_session.add(Item(name="seeded"))
    await harness_db_session.flush()

    async with aconnect_ws("/ws/items", harness_async_client) as feed:
        await feed.send_json({"add": "one"})
        assert await feed.receive_json() == {"count": 2}
        await feed.send_json({"add": "two"})
        assert await feed.receive_json() == {"count": 3}

    count = select(func.count()).select_from(Item)
    assert await harness_db_session.scalar(count) == 3
"""


@dataclass(frozen=True)
class EnvLayout:
    answers: dict[str, Any]
    # The app's database: its schema, and a row that must survive every run.
    schema: str
    kept_row: str
    team_tests: dict[str, str]
    team_test_count: int
    own_environment: dict[str, str]


LAYOUTS = {
    "env_engine": EnvLayout(
        answers={
            "app_import": "app.main:app",
            "async_db": "postgresql",
            "db_session_dependency": "app.db:get_db",
            "db_metadata": "app.db:Base",
            "database_url_env": "DATABASE_URL",
            "websockets": True,
            "concurrency": True,
        },
        schema="CREATE TABLE items (id serial PRIMARY KEY, name varchar NOT NULL)",
        kept_row="INSERT INTO items (name) VALUES ('kept by the app')",
        team_tests={"tests/test_with_the_harness.py": STOCKROOM_TEAM_TESTS},
        team_test_count=7,
        own_environment={},
    ),
}


def app_database(name: str) -> str:
    """The database the app's DATABASE_URL names (never a test database)."""
    return (
        postgres_server_url()
        .set(database=f"envapps_{name}_app_w{template_test_worker()}")
        .render_as_string(hide_password=False)
    )


async def _on_server(statements: list[str]) -> None:
    server = create_async_engine(
        postgres_server_url(), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with server.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await server.dispose()


async def _rows(url: str) -> list[tuple[Any, ...]]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            tables = await connection.scalars(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " ORDER BY tablename"
                )
            )
            rows: list[tuple[Any, ...]] = []
            for table in list(tables):
                result = await connection.execute(text(f'SELECT * FROM "{table}"'))
                rows += [(table, *row) for row in result.all()]
            return rows
    finally:
        await engine.dispose()


def create_app_database(url: str, layout: EnvLayout) -> None:
    name = make_url(url).database
    asyncio.run(
        _on_server(
            [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"']
        )
    )

    async def fill() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.begin() as connection:
                await connection.execute(text(layout.schema))
                await connection.execute(text(layout.kept_row))
        finally:
            await engine.dispose()

    asyncio.run(fill())


@dataclass
class Adopted:
    name: str
    layout: EnvLayout
    project: Path
    app_url: str
    own_counts: dict[str, int]


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def adopted(
    request: pytest.FixtureRequest,
    template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Any:
    """The layout's own suite run on its own database, then the harness adopted."""
    name: str = request.param
    layout = LAYOUTS[name]
    project = tmp_path_factory.mktemp(name) / "project"
    shutil.copytree(EXISTING_APPS / name, project)
    app_url = app_database(name)
    create_app_database(app_url, layout)
    environment = {"DATABASE_URL": app_url, **layout.own_environment}
    own = run_suite(project, env=suite_environment(project, **environment))
    assert own.returncode == 0, own.stdout + own.stderr
    copier.run_copy(
        str(template),
        str(project),
        data={"scaffold": "harness", **layout.answers},
        defaults=True,
        overwrite=True,
        unsafe=True,
        quiet=True,
    )
    for path, source in layout.team_tests.items():
        (project / path).write_text(source)
    yield Adopted(name, layout, project, app_url, outcome_counts(own.stdout))
    name = make_url(app_url).database
    asyncio.run(_on_server([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)']))


@pytest.mark.parametrize("workers", [None, "2"], ids=["serial", "xdist-2"])
def test_requests_of_every_kind_reach_only_the_test_database(
    adopted: Adopted, workers: str | None
) -> None:
    before = asyncio.run(_rows(adopted.app_url))
    label = f"{adopted.name}_{workers or 'serial'}"
    environment = {
        "DATABASE_URL": adopted.app_url,
        "TEST_DATABASE_URL": database_url_for(label),
        **adopted.layout.own_environment,
    }
    if workers:
        environment["TEST_REDIS_URL"] = redis_url_for_generated_suites()
    args = ["-n", workers, "--dist", "loadfile"] if workers else ["-p", "no:xdist"]

    result = run_suite(
        adopted.project,
        "-v",
        *args,
        env=suite_environment(adopted.project, **environment),
    )

    expected = (
        adopted.own_counts["passed"] + SMOKE_TESTS + adopted.layout.team_test_count
    )
    assert outcome_counts(result.stdout) == {"passed": expected}, (
        result.stdout + result.stderr
    )
    assert asyncio.run(_rows(adopted.app_url)) == before
