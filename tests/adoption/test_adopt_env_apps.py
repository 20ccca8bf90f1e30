"""Adopting apps that build their engine or Redis client at import, from the
environment (`database_url_env`, `redis_url_env`).

Each layout reads its variables when imported, and its own tests/conftest.py
imports the app at its top. Adopted on real PostgreSQL, with and without
`-n 2`: the project's own suite passes as before adopting (now on the worker's
test database), the harness's smoke tests and the team's tests pass beside it,
and the database the app's DATABASE_URL names is exactly as it was. The
settings layout's Redis client runs on a real Redis (HARNESS_TEST_REDIS_URL) and on
fakeredis, and the Redis database its REDIS_URL names keeps only its sentinel.
The sessionmaker layout's dependency hands out an async_sessionmaker: its
routes' sessions are the test's `db_session` (JoinedSessionmaker).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlsplit

import copier
import pytest
import redis
from adoption import ENV_ENGINE_ANSWERS, adopt
from rendering import (
    EXISTING_APPS,
    REPO_ROOT,
    database_url_for,
    generated_suites_redis_urls,
    outcome_counts,
    postgres_server_url,
    private_redis_url,
    redis_url_for_generated_suites,
    ruff,
    run_suite,
    suite_environment,
    template_test_worker,
)
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

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
        *(
            harness_async_client.post("/items", json={"name": f"n{i}"})
            for i in range(20)
        )
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


# The shortlinks team's tests with the harness, on a real Redis and on fakeredis.
SHORTLINKS_TEAM_TESTS = """\
import pytest
from app.models import Link


@pytest.mark.asyncio(loop_scope="session")
async def test_the_cache_fixture_is_the_redis_the_app_uses(
    harness_cache, harness_async_client
):
    await harness_cache.set("link:kept", "https://example.com/kept")

    response = await harness_async_client.get("/links/kept")

    assert response.json() == {
        "target": "https://example.com/kept", "cached": True, "visits": 1
    }
    assert await harness_cache.get("visits:kept") == "1"


@pytest.mark.asyncio(loop_scope="session")
async def test_a_link_from_the_database_is_cached_in_redis(
    harness_db_session, harness_async_client
):
    harness_db_session.add(Link(code="db", target="https://example.com/db"))
    await harness_db_session.flush()

    first = (await harness_async_client.get("/links/db")).json()
    second = (await harness_async_client.get("/links/db")).json()

    assert (first["cached"], second["cached"], second["visits"]) == (False, True, 2)


def test_visits_counted_through_the_sync_client(harness_client):
    assert harness_client.post("/links/pair/visits").json() == {"visits": 1}


@pytest.mark.asyncio(loop_scope="session")
async def test_then_through_the_async_client(harness_async_client):
    # The app's one Redis client, used on TestClient's loop just before; the
    # count starts again, the test before it emptied.
    response = await harness_async_client.post("/links/pair/visits")

    assert response.json() == {"visits": 1}
"""


def on_the_test_redis(
    write: str, checks: list[str], stored: str, key: str, *fixtures: str
) -> str:
    """Team tests on a real Redis: the request `write` lands in this worker's
    test Redis, after `checks` (lines) where `stored` (a command on it) reads it
    back, and `key` is gone again for the next test. `fixtures`: any more the
    first test takes."""
    return Template("""\
import os

import pytest
from redis.asyncio import Redis


@pytest.mark.asyncio(loop_scope="session")
async def test_writes_land_in_this_workers_test_redis(
    ${fixtures}
):
    ${write}

${checks}
    direct = Redis.from_url(harness_test_redis_url, decode_responses=True)
    try:
        assert await direct.${stored}
    finally:
        await direct.aclose()


@pytest.mark.asyncio(loop_scope="session")
async def test_and_are_gone_after_it(harness_test_redis_url):
    direct = Redis.from_url(harness_test_redis_url, decode_responses=True)
    try:
        assert await direct.exists("${key}") == 0
    finally:
        await direct.aclose()
""").substitute(
        fixtures=", ".join(
            ("harness_async_client", "harness_test_redis_url", *fixtures)
        ),
        write=write,
        checks="\n".join(f"    {line}" for line in checks),
        stored=stored,
        key=key,
    )


ON_REAL_REDIS = on_the_test_redis(
    'await harness_async_client.post("/links/landed/visits")',
    ['assert os.environ["REDIS_URL"] == harness_test_redis_url'],
    'get("visits:landed") == "1"',
    "visits:landed",
)
ON_FAKEREDIS = """\
import os

import pytest
import redis
from app.cache import redis as the_apps_client


@pytest.mark.asyncio(loop_scope="session")
async def test_requests_get_fakeredis_the_apps_client_used_directly_no_redis(
    harness_async_client,
):
    response = await harness_async_client.post("/links/fake/visits")

    assert response.json() == {"visits": 1}
    assert os.environ["REDIS_URL"].startswith("redis://test-redis.fastapi-harness.invalid")
    with pytest.raises(redis.ConnectionError):
        await the_apps_client.get("visits:fake")
"""

# The scoreboard team's tests with the harness: its engine built from
# POSTGRES_* parts, its Redis client on `app.state.redis`, set by its lifespan
# from REDIS_HOST, REDIS_PORT and REDIS_DB.
SCOREBOARD_TEAM_TESTS = """\
import asyncio

import pytest
from app.db import Score
from sqlalchemy import func, select, text


@pytest.mark.asyncio(loop_scope="session")
async def test_the_cache_fixture_is_the_client_on_the_app(
    harness_cache, harness_async_client, harness_app
):
    await harness_cache.zadd("leaderboard", {"ada": 5})

    response = await harness_async_client.get("/leaderboard")

    assert response.json() == [{"player": "ada", "points": 5}]
    assert harness_app.state.redis is harness_cache
    await harness_async_client.post("/scores", json={"player": "bob", "points": 3})
    assert await harness_cache.zscore("leaderboard", "bob") == 3


@pytest.mark.asyncio(loop_scope="session")
async def test_written_through_the_api_read_in_the_session(
    harness_db_session, harness_async_client
):
    await harness_async_client.post("/scores", json={"player": "cy", "points": 4})

    assert list(await harness_db_session.scalars(select(Score.player))) == ["cy"]


@pytest.mark.asyncio(loop_scope="session")
async def test_seeded_in_the_session_read_through_the_api(
    harness_db_session, harness_async_client
):
    harness_db_session.add(Score(player="seeded", points=9))
    await harness_db_session.flush()

    response = await harness_async_client.get("/scores")

    assert response.json() == [{"player": "seeded", "points": 9}]


@pytest.mark.asyncio(loop_scope="session")
async def test_twenty_scores_at_once(harness_async_client, harness_db_engine):
    responses = await asyncio.gather(
        *(
            harness_async_client.post("/scores", json={"player": "p", "points": 1})
            for _ in range(20)
        )
    )

    assert {response.status_code for response in responses} == {201}
    async with harness_db_engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM scores")) == 20
    leaderboard = (await harness_async_client.get("/leaderboard")).json()
    assert leaderboard == [{"player": "p", "points": 20}]


def test_ranked_through_the_sync_client(harness_client):
    harness_client.post("/scores", json={"player": "sync", "points": 2})

    assert harness_client.get("/leaderboard").json() == [
        {"player": "sync", "points": 2}
    ]


@pytest.mark.asyncio(loop_scope="session")
async def test_then_through_the_async_client(harness_async_client, harness_db_engine):
    # The app's engine, used on TestClient's loop just before; the Redis
    # client on the app a new one for this lifespan; both emptied.
    await harness_async_client.post("/scores", json={"player": "async", "points": 1})

    assert (await harness_async_client.get("/leaderboard")).json() == [
        {"player": "async", "points": 1}
    ]
    async with harness_db_engine.connect() as connection:
        count = await connection.scalar(select(func.count()).select_from(Score))
    assert count == 1
"""
SCOREBOARD_ON_REAL_REDIS = on_the_test_redis(
    'await harness_async_client.post("/scores", json={"player": "real", "points": 6})',
    [
        'parts = [os.environ[f"REDIS_{part}"] for part in ("HOST", "PORT", "DB")]',
        'assert "redis://{}:{}/{}".format(*parts) == harness_test_redis_url',
        "assert isinstance(harness_app.state.redis, Redis)",
    ],
    'zscore("leaderboard", "real") == 6',
    "leaderboard",
    "harness_app",
)
SCOREBOARD_ON_FAKEREDIS = """\
import pytest
from fakeredis import FakeAsyncRedis


@pytest.mark.asyncio(loop_scope="session")
async def test_requests_get_a_fakeredis_on_the_app(harness_async_client, harness_app):
    response = await harness_async_client.post(
        "/scores", json={"player": "fake", "points": 1}
    )

    assert response.json() == {"player": "fake", "total": 1}
    assert isinstance(harness_app.state.redis, FakeAsyncRedis)
"""


def url_variables(database: str, redis_url: str) -> dict[str, str]:
    """The app's environment: a URL each."""
    return {"DATABASE_URL": database, "REDIS_URL": redis_url}


def part_variables(database: str, redis_url: str) -> dict[str, str]:
    """The app's environment: one variable per part, as a compose file sets it."""
    url, redis_parts = make_url(database), urlsplit(redis_url)
    return {
        # The embedded server is reached through a socket directory (?host=).
        "POSTGRES_HOST": url.host or str(url.query.get("host", "")),
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or "",
        "POSTGRES_PASSWORD": url.password or "",
        "POSTGRES_DB": url.database or "",
        "REDIS_HOST": redis_parts.hostname or "",
        "REDIS_PORT": str(redis_parts.port or 6379),
        "REDIS_DB": redis_parts.path.strip("/") or "0",
    }


# The pantry team's tests with the harness. Its dependency hands out the
# app's async_sessionmaker (`request.app.state.sessionmaker`, built at import
# from DATABASE_URL); routes open `async with factory() as session:` and
# `async with factory.begin() as session:`. No prefix (its own fixture is
# `api`), no markers (adopting gave it session loop scopes). The last tests
# take the joined factory on its own.
PANTRY_TEAM_TESTS = """\
import asyncio
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, Request
from pantry import db
from pantry.db import Jar
from pantry.main import get_sessionmaker
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import sessionmaker

from fastapi_harness.database import hands_out_a_sessionmaker
from fastapi_harness.shared_session import JoinedSessionmaker

# SQLAlchemy 1.4's async idiom, which many apps still build; and a factory of
# synchronous sessions, which db_session cannot stand in for.
LegacySessions = sessionmaker(db.engine, class_=AsyncSession, expire_on_commit=False)
SyncSessions = sessionmaker()


async def test_stocked_through_the_api_read_in_the_session(db_session, async_client):
    response = await async_client.post("/jars", json={"name": "rice", "count": 2})

    assert response.status_code == 201
    assert list(await db_session.scalars(select(Jar.name))) == ["rice"]


async def test_seeded_in_the_session_read_through_the_api(db_session, async_client):
    jar = Jar(name="beans", count=3)
    db_session.add(jar)
    await db_session.flush()

    shelf = (await async_client.get("/jars")).json()
    # Through get_session, a dependency of the app's built on get_sessionmaker.
    one = (await async_client.get(f"/jars/{jar.id}")).json()
    taken = (await async_client.post(f"/jars/{jar.id}/take")).json()

    assert shelf == [one] == [{"id": jar.id, "name": "beans", "count": 3}]
    assert taken["count"] == 2
    # Leaving `async with factory()` left the test's session open, its row in it.
    assert jar in db_session
    assert await db_session.scalar(select(Jar.count)) == 2


async def jars_in(db_engine):
    async with db_engine.connect() as connection:
        return sorted(await connection.scalars(select(Jar.name)))


@pytest.mark.parametrize("run", ["first", "second"])
async def test_twenty_jars_stocked_at_once_all_land(db_engine, async_client, run):
    assert await jars_in(db_engine) == []
    names = [f"{run} {n:02}" for n in range(20)]

    responses = await asyncio.gather(
        *(async_client.post("/jars", json={"name": name}) for name in names)
    )

    assert [r.status_code for r in responses] == [201] * 20
    assert await jars_in(db_engine) == names


async def test_a_routes_commit_stays_in_the_tests_transaction(
    db_session, db_engine, async_client
):
    jar = (await async_client.post("/jars", json={"name": "salt", "count": 1})).json()

    # Committed inside the route's `async with factory()`: a SAVEPOINT released.
    taken = await async_client.post(f"/jars/{jar['id']}/take")

    assert taken.json()["count"] == 0
    assert await db_session.scalar(select(Jar.count)) == 0
    # Nothing reached the database for real: the test's rollback undoes it all.
    async with db_engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM jars")) == 0


async def test_a_failed_begin_block_rolls_back_only_its_own_work(
    db_session, async_client
):
    rice = Jar(name="rice", count=1)
    db_session.add(rice)
    await db_session.flush()  # the session's transaction is open: begin() nests

    restocked = await async_client.post("/restock", json=[{"id": rice.id, "add": 2}])
    failed = await async_client.post(
        "/restock", json=[{"id": rice.id, "add": 5}, {"id": 0, "add": 1}]
    )

    assert (restocked.status_code, failed.status_code) == (200, 404)
    # One session: the route loaded the test's own `rice`, and its rollback
    # expired it. Read it again.
    await db_session.refresh(rice)
    assert rice.count == 3


async def test_the_joined_factory_lends_the_tests_session(app, db_session):
    factory = await app.dependency_overrides[get_sessionmaker]()
    assert isinstance(factory, JoinedSessionmaker)

    async with factory(expire_on_commit=False) as session:
        assert session is db_session
        session.add(Jar(name="a"))
        await session.flush()
    async with factory.begin() as session:  # nested: a transaction is open
        session.add(Jar(name="b"))
    with pytest.raises(LookupError):
        async with factory.begin() as session:
            session.add(Jar(name="c"))
            await session.flush()
            raise LookupError

    assert sorted(await db_session.scalars(select(Jar.name))) == ["a", "b"]
    async with factory.begin():
        pass
    await db_session.commit()  # outside any begin(): a fresh transaction
    async with factory.begin() as session:
        session.add(Jar(name="d"))
    assert not db_session.in_transaction()
    assert sorted(await db_session.scalars(select(Jar.name))) == ["a", "b", "d"]


def test_the_harness_tells_a_sessionmaker_from_a_session(app):
    async def annotated() -> async_sessionmaker[AsyncSession]:
        return db.Sessions

    def the_modules():
        return db.Sessions

    async def from_the_state(request: Request):
        yield request.app.state.db

    async def a_session():
        async with db.Sessions() as session:
            yield session

    typed_routes = FastAPI()

    @typed_routes.get("/")
    async def route(
        factory: Annotated[async_sessionmaker[AsyncSession], Depends(from_the_state)],
        session: Annotated[AsyncSession, Depends(a_session)],
    ):
        return {}

    assert hands_out_a_sessionmaker(get_sessionmaker, app)
    assert hands_out_a_sessionmaker(annotated, app)
    assert hands_out_a_sessionmaker(the_modules, app)
    # Nothing in its code says so; the route's parameter does.
    assert hands_out_a_sessionmaker(from_the_state, typed_routes)
    assert not hands_out_a_sessionmaker(from_the_state, app)
    assert not hands_out_a_sessionmaker(a_session, typed_routes)


def test_a_sessionmaker_of_async_sessions_is_one_too(app):
    async def the_legacy_idiom():
        yield LegacySessions

    def a_sync_factory():
        return SyncSessions

    assert hands_out_a_sessionmaker(the_legacy_idiom, app)
    assert not hands_out_a_sessionmaker(a_sync_factory, app)
"""


@dataclass(frozen=True)
class EnvLayout:
    answers: dict[str, Any]
    # The app's database: its schema, and a row that must survive every run.
    schema: str
    kept_row: str
    team_tests: dict[str, str]
    team_test_count: int
    # Team tests that hold on one kind of Redis only ("real", "fake"): their
    # file, source and count.
    redis_team_tests: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    # The app's variables, from its database's and its Redis's URL.
    variables: Callable[[str, str], dict[str, str]] = url_variables


def on_either_redis(
    real: tuple[str, int], fake: tuple[str, int]
) -> dict[str, tuple[str, str, int]]:
    """EnvLayout.redis_team_tests: the team tests (source, count) that hold on
    a real Redis and those that hold on fakeredis, each in its file."""
    return {
        "real": ("tests/test_on_the_test_redis.py", *real),
        "fake": ("tests/test_on_fakeredis.py", *fake),
    }


def reading_database_url(package: str, dependency: str, **more: Any) -> dict[str, Any]:
    """The answers for `<package>.main:app` on PostgreSQL, its engine built from
    DATABASE_URL, its sessions from `dependency`, its models' Base in
    `<package>.db`; and `more`."""
    return {
        "app_import": f"{package}.main:app",
        "async_db": "postgresql",
        "db_session_dependency": dependency,
        "db_metadata": f"{package}.db:Base",
        "database_url_env": "DATABASE_URL",
        "concurrency": True,
        **more,
    }


LAYOUTS = {
    "env_engine": EnvLayout(
        answers=ENV_ENGINE_ANSWERS,
        schema="CREATE TABLE items (id serial PRIMARY KEY, name varchar NOT NULL)",
        kept_row="INSERT INTO items (name) VALUES ('kept by the app')",
        team_tests={"tests/test_with_the_harness.py": STOCKROOM_TEAM_TESTS},
        team_test_count=7,
    ),
    # pydantic-settings read through an @lru_cache get_settings(); the models
    # in app.models, apart from their Base (app.db: the answer); get_db
    # commits when the route returns, rolls back when it raises.
    "env_settings": EnvLayout(
        answers=reading_database_url(
            "app",
            "app.db:get_db",
            cache="redis",
            cache_dependency="app.cache:get_redis",
            redis_url_env="REDIS_URL",
        ),
        schema="CREATE TABLE links (code varchar PRIMARY KEY, target varchar NOT NULL)",
        kept_row="INSERT INTO links VALUES ('kept', 'https://example.com/app')",
        team_tests={"tests/test_with_the_harness.py": SHORTLINKS_TEAM_TESTS},
        team_test_count=4,
        redis_team_tests=on_either_redis((ON_REAL_REDIS, 2), (ON_FAKEREDIS, 1)),
    ),
    # A dependency handing out the app's async_sessionmaker: db_session
    # overrides it with a factory whose sessions are the test's.
    "env_sessionmaker": EnvLayout(
        answers=reading_database_url("pantry", "pantry.main:get_sessionmaker"),
        schema=(
            "CREATE TABLE jars (id serial PRIMARY KEY, name varchar NOT NULL,"
            " count integer NOT NULL DEFAULT 0)"
        ),
        kept_row="INSERT INTO jars (name, count) VALUES ('kept by the app', 1)",
        team_tests={"tests/test_with_the_harness.py": PANTRY_TEAM_TESTS},
        team_test_count=9,
    ),
    # The engine built at import from POSTGRES_* parts (pydantic-settings), its
    # sessions from SQLAlchemy 1.4's sessionmaker(class_=AsyncSession); the
    # Redis client on `app.state.redis`, set by the lifespan from REDIS_HOST,
    # REDIS_PORT and REDIS_DB and read by the routes from the request's app.
    "env_parts": EnvLayout(
        answers={
            "app_import": "app.main:app",
            "async_db": "postgresql",
            "db_session_dependency": "app.db:get_session",
            "db_metadata": "app.db:Base",
            "database_env_parts": (
                "host=POSTGRES_HOST,port=POSTGRES_PORT,user=POSTGRES_USER,"
                "password=POSTGRES_PASSWORD,database=POSTGRES_DB"
            ),
            "cache": "redis",
            "cache_attribute": "state.redis",
            "redis_env_parts": "host=REDIS_HOST,port=REDIS_PORT,db=REDIS_DB",
            "concurrency": True,
        },
        schema=(
            "CREATE TABLE scores (id serial PRIMARY KEY, player varchar NOT NULL,"
            " points bigint NOT NULL)"
        ),
        kept_row="INSERT INTO scores (player, points) VALUES ('kept by the app', 1)",
        team_tests={"tests/test_with_the_harness.py": SCOREBOARD_TEAM_TESTS},
        team_test_count=6,
        redis_team_tests=on_either_redis(
            (SCOREBOARD_ON_REAL_REDIS, 2), (SCOREBOARD_ON_FAKEREDIS, 1)
        ),
        variables=part_variables,
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
            [
                f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                f'CREATE DATABASE "{name}"',
            ]
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


def app_redis() -> str:
    """The Redis database the app's REDIS_URL names (never a test database):
    the last of this worker's, which a suite run on 2 workers leaves alone."""
    return generated_suites_redis_urls()[3]


def redis_keys(url: str) -> set[bytes]:
    client = redis.Redis.from_url(url)
    try:
        return set(client.keys("*"))
    finally:
        client.close()


def put_sentinel(url: str) -> None:
    """The app's Redis holds one key of its own, which every run must leave (the
    database is one of this worker's, found empty: generated_suites_redis_urls)."""
    client = redis.Redis.from_url(url)
    try:
        client.set(SENTINEL, b"kept by the app")
    finally:
        client.close()


def remove_keys(url: str, keys: set[bytes]) -> None:
    """Delete `keys` from `url`'s database, and nothing else."""
    client = redis.Redis.from_url(url)
    try:
        if keys:
            client.delete(*keys)
    finally:
        client.close()


SENTINEL = b"shortlinks:sentinel"


@dataclass
class Adopted:
    name: str
    layout: EnvLayout
    project: Path
    app_url: str
    own_counts: dict[str, int]


def layout(name: str) -> Any:
    """`adopted`'s parameter: the tests of one layout share a worker, so the
    layout is adopted once."""
    return pytest.param(name, marks=pytest.mark.xdist_group(f"adopt-env-{name}"))


@pytest.fixture(scope="module")
def adopted(
    request: pytest.FixtureRequest,
    template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Any:
    """The layout's own suite run on its own database (and Redis), as its CI
    ran it, then the harness adopted."""
    name: str = request.param
    layout = LAYOUTS[name]
    project = tmp_path_factory.mktemp(name) / "project"
    shutil.copytree(EXISTING_APPS / name, project)
    app_url = app_database(name)
    create_app_database(app_url, layout)
    environment = layout.variables(app_url, app_redis())
    found = redis_keys(app_redis())
    own = run_suite(project, env=suite_environment(project, **environment))
    # What the team's own tests wrote to the app's Redis, and only that, goes.
    remove_keys(app_redis(), redis_keys(app_redis()) - found)
    assert own.returncode == 0, own.stdout + own.stderr
    adopt(template, project, layout.answers)
    for path, source in layout.team_tests.items():
        (project / path).write_text(source)
    for path, source, _count in layout.redis_team_tests.values():
        (project / path).write_text(source)
    yield Adopted(name, layout, project, app_url, outcome_counts(own.stdout))
    name = make_url(app_url).database
    asyncio.run(_on_server([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)']))


def adopted_environment(
    adopted: Adopted, label: str, test_redis: bool
) -> dict[str, str]:
    """The adopted suite's environment, as the team's CI sets it: the app's
    variables naming its own database and Redis, the harness's test services
    (without TEST_REDIS_URL: a developer without Redis, the app's URL unset)."""
    variables = adopted.layout.variables(adopted.app_url, app_redis())
    environment = suite_environment(
        adopted.project,
        **variables,
        HARNESS_TEST_DATABASE_URL=database_url_for(f"{adopted.name}_{label}"),
    )
    if test_redis:
        environment["HARNESS_TEST_REDIS_URL"] = redis_url_for_generated_suites()
        return environment
    environment.pop("HARNESS_TEST_REDIS_URL", None)
    for name in variables:
        if name.startswith("REDIS_"):
            environment.pop(name)
    if adopted.layout.variables is part_variables:
        # Unset, the parts default to redis://localhost:6379/0, which the app's
        # own tests write to: a server of this worker's, never the machine's.
        parts = part_variables(adopted.app_url, private_redis_url("the apps"))
        environment |= {k: v for k, v in parts.items() if k.startswith("REDIS_")}
    return environment


def run_adopted(
    adopted: Adopted, workers: str | None, test_redis: bool
) -> subprocess.CompletedProcess[str]:
    """The adopted project's whole suite, as the team's CI runs it, with the
    harness's test services; the layout's Redis team tests of the other kind
    left out. Fails unless every test passes, as many as before adopting plus
    the harness's and the team's."""
    environment = adopted_environment(adopted, workers or "serial", test_redis)
    args = ["-n", workers, "--dist", "loadfile"] if workers else ["-p", "no:xdist"]
    expected = (
        adopted.own_counts["passed"] + SMOKE_TESTS + adopted.layout.team_test_count
    )
    for kind, (path, _source, count) in adopted.layout.redis_team_tests.items():
        if kind == ("real" if test_redis else "fake"):
            expected += count
        else:
            args += [f"--ignore={path}"]

    result = run_suite(adopted.project, "-v", *args, env=environment)

    assert outcome_counts(result.stdout) == {"passed": expected}, (
        result.stdout + result.stderr
    )
    return result


@pytest.mark.parametrize(
    "adopted", [layout("env_engine"), layout("env_sessionmaker")], indirect=True
)
@pytest.mark.parametrize("workers", [None, "2"], ids=["serial", "xdist-2"])
def test_requests_of_every_kind_reach_only_the_test_database(
    adopted: Adopted, workers: str | None
) -> None:
    before = asyncio.run(_rows(adopted.app_url))

    run_adopted(adopted, workers, test_redis=bool(workers))

    assert asyncio.run(_rows(adopted.app_url)) == before


# Each layout on a real Redis and on fakeredis, serially and on two workers:
# every pair of the three choices once (each layout's two runs differ in both).
REDIS_SUITES = [
    pytest.param(name, test_redis, workers, marks=marks, id=f"{name}-{kind}-{mode}")
    for name, (first, second) in {
        "env_settings": ((True, None), (False, "2")),
        "env_parts": ((True, "2"), (False, None)),
    }.items()
    for marks in [pytest.mark.xdist_group(f"adopt-env-{name}")]
    for test_redis, workers in (first, second)
    for kind in ["redis" if test_redis else "fakeredis"]
    for mode in ["xdist-2" if workers else "serial"]
]


@pytest.mark.parametrize(
    ("adopted", "test_redis", "workers"), REDIS_SUITES, indirect=["adopted"]
)
def test_settings_with_a_redis_client_built_at_import(
    adopted: Adopted, workers: str | None, test_redis: bool
) -> None:
    """A pydantic-settings app: engine and Redis client built at import from
    required fields; on a real Redis the app's client writes to the worker's
    test database, on fakeredis requests get one through the dependency."""
    before = asyncio.run(_rows(adopted.app_url))
    put_sentinel(app_redis())
    try:
        run_adopted(adopted, workers, test_redis)

        assert asyncio.run(_rows(adopted.app_url)) == before
        assert redis_keys(app_redis()) == {SENTINEL}
        assert not redis_keys(redis_url_for_generated_suites())
    finally:
        # The server outlives the run: leave the database as the run found it.
        remove_keys(app_redis(), {SENTINEL})


@pytest.mark.parametrize("adopted", [layout("env_parts")], indirect=True)
def test_an_attribute_the_lifespan_never_sets_fails_with_the_fix(
    adopted: Adopted,
) -> None:
    """cache_attribute naming an attribute the lifespan leaves unset: every
    test starting the lifespan fails with one message, no traceback."""
    project_module = adopted.project / "tests/harness/fastapi_harness/_project.py"
    answered = project_module.read_text()
    project_module.write_text(
        answered.replace(
            'CACHE_ATTRIBUTE = "state.redis"', 'CACHE_ATTRIBUTE = "state.cache"'
        )
    )
    try:
        result = run_suite(
            adopted.project,
            "-p",
            "no:xdist",
            "tests/test_harness_smoke.py",
            env=adopted_environment(adopted, "wrong_attribute", test_redis=False),
        )
    finally:
        project_module.write_text(answered)

    output = " ".join(result.stdout.split())
    assert outcome_counts(result.stdout) == {"errors": SMOKE_TESTS}, output
    assert (
        "cache_attribute=state.cache: once the app's lifespan has run, "
        "app.state.cache holds nothing, not a redis.asyncio client" in output
    )
    assert "Fix: answer cache_attribute with the attribute your lifespan sets" in output
    assert "Traceback" not in output
    assert "lifespan.py" not in output


# What generated projects are checked with (template/pyproject.toml.jinja): an
# adopted harness meets it whatever the project's own configuration.
GENERATED_RUFF = ("--no-cache", "--isolated", "--line-length=88")
GENERATED_RULES = "--select=E,W,F,I,B,UP,SIM,ASYNC,PT,RUF"


# PostgreSQL with Redis, SQLite without, Redis alone.
RUFF_ANSWERS = {
    "postgresql-redis": LAYOUTS["env_settings"].answers,
    "sqlite": {
        **LAYOUTS["env_settings"].answers,
        "async_db": "sqlite",
        "cache": "none",
    },
    "redis": {
        "app_import": "app.main:app",
        "cache": "redis",
        "cache_dependency": "app.cache:get_redis",
        "redis_url_env": "REDIS_URL",
        "concurrency": True,
    },
    # Answered on the scoreboard (env_parts), whose objects they name.
    "parts-attribute": LAYOUTS["env_parts"].answers,
}


def test_the_adopted_harness_passes_ruff(template: Path, tmp_path: Path) -> None:
    """Every harness module the environment answers add or change, the
    project's imports in isort's order (a plain statement after them broke it
    on PostgreSQL), each section's blank lines as the formatter keeps them.
    Rendered without Copier's tasks: the harness files are all there is to lint."""
    failures = []
    for name, answers in RUFF_ANSWERS.items():
        project = tmp_path / name
        source = "env_parts" if answers.get("cache_attribute") else "env_settings"
        shutil.copytree(EXISTING_APPS / source, project)
        copier.run_copy(
            str(template),
            str(project),
            data={"scaffold": "adopt", **answers},
            defaults=True,
            unsafe=True,
            quiet=True,
            skip_tasks=True,
        )
        for command in (["check", GENERATED_RULES], ["format", "--check"]):
            result = ruff(project, *command, *GENERATED_RUFF, "tests/harness")
            if result.returncode:
                failures.append(f"{name}: {result.stdout}{result.stderr}")

    assert not failures, "\n".join(failures)


def check_imports(project: Path, environment: dict[str, str]) -> str:
    """hooks/check_imports.py's report on the settings layout, as Copier runs it
    with `environment` answered, DATABASE_URL and REDIS_URL unset."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}
    }
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "hooks" / "check_imports.py"),
         "app_import=app.main:app", "cache_dependency=app.cache:get_redis",
         f"--environment={json.dumps(environment)}"],
        cwd=project, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return result.stdout if result.returncode else ""


def test_the_import_check_names_the_answers_an_app_needs() -> None:
    project = EXISTING_APPS / "env_settings"
    services = {"async_db": "postgresql", "cache": "redis"}

    unanswered = check_imports(project, services)
    database_answered = check_imports(
        project, {**services, "database_url_env": "DATABASE_URL"}
    )
    both = {
        **services,
        "database_url_env": "DATABASE_URL",
        "redis_url_env": "REDIS_URL",
    }

    assert "reads the environment variable(s) DATABASE_URL REDIS_URL" in unanswered
    assert (
        "run Copier again with -d database_url_env=DATABASE_URL "
        "-d redis_url_env=REDIS_URL" in " ".join(unanswered.split())
    )
    assert "-d redis_url_env=REDIS_URL:" in " ".join(database_answered.split())
    assert "database_url_env" not in database_answered
    assert check_imports(project, both) == ""


def test_the_import_check_names_the_parts_answer_and_the_attribute(
    tmp_path: Path,
) -> None:
    """The scoreboard's settings require POSTGRES_PASSWORD: the import check
    names the parts answer to give; a cache_dependency no route uses is
    refused naming the attribute the lifespan sets to a Redis client."""
    project = EXISTING_APPS / "env_parts"
    services = {"async_db": "postgresql", "cache": "redis"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTGRES_")}

    def probe(*answers: str, environment: dict[str, str]) -> str:
        result = subprocess.run(
            [sys.executable, str(REPO_ROOT / "hooks" / "check_imports.py"),
             "app_import=app.main:app", *answers,
             f"--environment={json.dumps(environment)}"],
            cwd=project, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        return " ".join(result.stdout.split()) if result.returncode else ""

    unanswered = probe(environment=services)
    parts = "host=POSTGRES_HOST,database=POSTGRES_DB,password=POSTGRES_PASSWORD"
    answered = {**services, "database_env_parts": parts}

    assert "-d database_env_parts=password=POSTGRES_PASSWORD,..." in unanswered
    assert "host, port, user, database" in unanswered
    assert "database_url_env" not in unanswered
    assert probe(environment=answered) == ""
    unused = probe("cache_dependency=app.config:Settings", environment=answered)
    assert "-d cache_attribute=state.redis instead of cache_dependency" in unused
