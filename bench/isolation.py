"""Isolation strategies side by side, on a generated PostgreSQL project.

A postgresql project (with `async_client`) is rendered, and the same tests are
written into it several times: each inserts 3 items through `db_session`,
commits, and reads them back through `async_client` (GET /items). They run
under:

- the harness: its `db_session` (a transaction rolled back after the test, the
  commit a SAVEPOINT release) and `async_client`;
- TRUNCATE, the peers' strategy: the app started once for the run, a plain
  session that commits, and `TRUNCATE ... RESTART IDENTITY CASCADE` of every
  table after each test;
- drop/create: a database created with the schema before each test, the app
  started on it, the database dropped afterwards;
- template clone: pytest-postgresql's way, each test's database a copy
  (`CREATE DATABASE ... TEMPLATE`) of one built with the schema once.

And a variant where the tests commit through the app's own sessions (3 POSTs,
then the GET, no `db_session`): the harness puts back what they wrote, TRUNCATE
empties every table. Every suite runs with pytest in a subprocess, taking
turns, on one embedded PostgreSQL server; the time is that of pytest's test
loop (session fixtures included), divided by the number of tests.
"""

from __future__ import annotations

import importlib
import statistics
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from bench.common import Result
from bench.project import copy_template, render, run_pytest

PACKAGE = "bench_service"
TARGET_DB_SESSION = 0.35
TARGET_APP_COMMITS = 1.0
HARNESS = "harness: `db_session` + `async_client`"
TRUNCATE = "TRUNCATE after each test, app started once"
DROP_CREATE = "drop/create a database per test"
TEMPLATE = "a database per test cloned from a template"
APP_HARNESS = "commits through the app, harness: `async_client`"
APP_TRUNCATE = "commits through the app, TRUNCATE after each test"

INSERTING = """
async def test_items_{n}(db_session, async_client) -> None:
    db_session.add_all(
        [Item(name="item-{n}-" + str(k), quantity=k) for k in range(3)]
    )
    await db_session.commit()
    response = await async_client.get("/items")
    assert response.status_code == 200
    assert sorted(item["quantity"] for item in response.json()) == [0, 1, 2]
"""
POSTING = """
async def test_items_{n}(async_client) -> None:
    for k in range(3):
        created = await async_client.post(
            "/items", json={{"name": "item-{n}-" + str(k), "quantity": k}}
        )
        assert created.status_code == 201
    response = await async_client.get("/items")
    assert sorted(item["quantity"] for item in response.json()) == [0, 1, 2]
"""
HEADER = f'''"""Generated for the benchmark."""

from {PACKAGE}.models import Item  # noqa: F401
'''
# The peers' fixtures: no harness. BENCH_STRATEGY picks how tests are isolated.
PEERS_CONFTEST = f'''"""The peers' strategies: TRUNCATE, drop/create, template clone."""

import os

import httpx
import pytest_asyncio
from asgi_lifespan import LifespanManager
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from {PACKAGE}.db import Base, create_schema
from {PACKAGE}.main import create_app
from {PACKAGE}.settings import Settings

SERVER = make_url(os.environ["BENCH_SERVER_URL"])
STRATEGY = os.environ["BENCH_STRATEGY"]
NAME = "bench_peers_" + str(os.getpid())
counter = iter(range(10**9))


async def admin(statement):
    engine = create_async_engine(
        SERVER.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
    )
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


def url(name):
    return SERVER.set(database=name).render_as_string(hide_password=False)


async def create_with_schema(name):
    await admin(f'CREATE DATABASE "{{name}}"')
    engine = create_async_engine(url(name), poolclass=NullPool)
    await create_schema(engine)
    await engine.dispose()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def database():
    """The run's database: the tests' own (TRUNCATE) or the template."""
    await create_with_schema(NAME)
    yield NAME
    await admin(f'DROP DATABASE "{{NAME}}" WITH (FORCE)')


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def app_started_once(database):
    if STRATEGY != "truncate":
        yield None
        return
    app = create_app(Settings(database_url=url(database), _env_file=None))
    async with LifespanManager(app) as manager:
        yield manager.app


@pytest_asyncio.fixture(loop_scope="session")
async def test_database(database):
    """This test's database: the run's, or a new one."""
    if STRATEGY == "truncate":
        yield database
        return
    name = f"{{NAME}}_{{next(counter)}}"
    if STRATEGY == "template":
        await admin(f'CREATE DATABASE "{{name}}" TEMPLATE "{{database}}"')
    else:
        await create_with_schema(name)
    yield name
    await admin(f'DROP DATABASE "{{name}}" WITH (FORCE)')


@pytest_asyncio.fixture(loop_scope="session")
async def async_client(app_started_once, test_database):
    if app_started_once is not None:
        app = app_started_once
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c
        return
    app = create_app(Settings(database_url=url(test_database), _env_file=None))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


@pytest_asyncio.fixture(loop_scope="session")
async def db_session(test_database):
    engine = create_async_engine(url(test_database), poolclass=NullPool)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        yield session
    await engine.dispose()


@pytest_asyncio.fixture(autouse=True, loop_scope="session")
async def _truncated(test_database):
    yield
    if STRATEGY != "truncate":
        return
    tables = ", ".join(f'"{{table.name}}"' for table in Base.metadata.sorted_tables)
    engine = create_async_engine(url(test_database), poolclass=NullPool)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {{tables}} RESTART IDENTITY CASCADE"))
    await engine.dispose()
'''
# Loaded with -p: writes how long pytest's test loop took.
TIMER = '''"""Times pytest's test loop (every test, session fixtures included)."""

import os
import time

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session):
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        with open(os.environ["BENCH_LOOP_TIME"], "w") as file:
            file.write(str(time.perf_counter() - start))
'''


def _suite(body: str, count: int) -> str:
    return HEADER + "".join(body.format(n=n) for n in range(count))


def _loop_seconds(
    project: Path, path: str, env: dict[str, str | None], timing: Path
) -> float:
    run_pytest(project, "-p", "bench_loop_timer", path, env=env)
    return float(timing.read_text())


# (tests, tests of the per-test-database strategies, repeats) for each size.
SIZES = {"quick": (5, 2, 1), "small": (200, 20, 3), "full": (200, 50, 5)}


def run(quick: bool, size: str = "full") -> list[Result]:
    tests, slow_tests, repeats = SIZES["quick" if quick else size]
    result = Result(
        "isolation",
        f"Isolation strategies: a generated project, {tests} tests "
        "(per test, pytest's test loop)",
    )
    with tempfile.TemporaryDirectory(prefix="bench-isolation-") as scratch:
        root = Path(scratch).resolve()
        template = copy_template(root / "template")
        project = render(
            template,
            root / "project",
            {
                "project_name": "Bench Service",
                "async_db": "postgresql",
                "concurrency": True,
            },
        )
        server = _server_module(project)
        run_directory = Path(tempfile.mkdtemp(dir=root))
        directory = server.server_directory(run_directory)
        lock = run_directory / "embedded-postgres.lock"
        url = server.join_server(directory, lock)
        try:
            _measure(project, root, url, (tests, slow_tests, repeats), result)
        finally:
            server.leave_server(directory, lock)
    return [result]


def _server_module(project: Path) -> ModuleType:
    """The project's tests/harness/postgres_server.py, imported under a name
    of its own (the project's `tests` is not imported)."""
    harness = ModuleType("bench_isolation_harness")
    harness.__path__ = [str(project / "tests" / "harness")]
    sys.modules[harness.__name__] = harness
    return importlib.import_module(f"{harness.__name__}.postgres_server")


def _measure(
    project: Path,
    root: Path,
    server_url: str,
    size: tuple[int, int, int],
    result: Result,
) -> None:
    """Per-test time of each strategy on the server at `server_url`."""
    tests, slow_tests, repeats = size
    (project / "bench_loop_timer.py").write_text(TIMER)
    peers = project / "bench_peers"
    peers.mkdir()
    (peers / "conftest.py").write_text(PEERS_CONFTEST)
    files = {
        "tests/test_bench_inserting.py": _suite(INSERTING, tests),
        "tests/test_bench_posting.py": _suite(POSTING, tests),
        "bench_peers/test_inserting.py": _suite(INSERTING, tests),
        "bench_peers/test_few_inserting.py": _suite(INSERTING, slow_tests),
        "bench_peers/test_posting.py": _suite(POSTING, tests),
    }
    for path, text in files.items():
        (project / path).write_text(text)
    timing = root / "loop-time"
    base: dict[str, str | None] = {
        "BENCH_LOOP_TIME": str(timing),
        "BENCH_SERVER_URL": server_url,
        "TEST_DATABASE_URL": server_url,
    }
    cases: dict[str, tuple[str, dict[str, str | None], int]] = {
        HARNESS: ("tests/test_bench_inserting.py", {}, tests),
        TRUNCATE: (
            "bench_peers/test_inserting.py",
            {"BENCH_STRATEGY": "truncate"},
            tests,
        ),
        DROP_CREATE: (
            "bench_peers/test_few_inserting.py",
            {"BENCH_STRATEGY": "drop-create"},
            slow_tests,
        ),
        TEMPLATE: (
            "bench_peers/test_few_inserting.py",
            {"BENCH_STRATEGY": "template"},
            slow_tests,
        ),
        APP_HARNESS: ("tests/test_bench_posting.py", {}, tests),
        APP_TRUNCATE: (
            "bench_peers/test_posting.py",
            {"BENCH_STRATEGY": "truncate"},
            tests,
        ),
    }
    times: dict[str, list[float]] = {label: [] for label in cases}
    for path, extra, _ in cases.values() if repeats > 3 else ():
        # Warm-up: compiled-module caches.
        _loop_seconds(project, path, {**base, **extra}, timing)
    for _ in range(repeats):
        for label, (path, extra, count) in cases.items():
            seconds = _loop_seconds(project, path, {**base, **extra}, timing)
            times[label].append(seconds / count)
    median = {label: statistics.median(values) for label, values in times.items()}
    result.add(TRUNCATE, median[TRUNCATE])
    for label in (HARNESS, DROP_CREATE, TEMPLATE):
        result.add(label, median[label], TRUNCATE)
    result.add(APP_TRUNCATE, median[APP_TRUNCATE])
    result.add(APP_HARNESS, median[APP_HARNESS], APP_TRUNCATE)
    inserting = result.ratio(HARNESS, TRUNCATE)
    committing = result.ratio(APP_HARNESS, APP_TRUNCATE)
    result.check(
        f"`db_session` tests under the harness at most {TARGET_DB_SESSION}x the "
        f"TRUNCATE strategy per test (measured {inserting:.2f}x)",
        inserting <= TARGET_DB_SESSION,
    )
    result.check(
        "tests committing through the app's sessions under the harness at most "
        f"{TARGET_APP_COMMITS}x the TRUNCATE strategy (measured {committing:.2f}x)",
        committing <= TARGET_APP_COMMITS,
    )
    result.notes.append(
        f"per test: the harness {median[HARNESS] * 1e3:.1f} ms, TRUNCATE "
        f"{median[TRUNCATE] * 1e3:.1f} ms, drop/create "
        f"{median[DROP_CREATE] * 1e3:.1f} ms and a template clone "
        f"{median[TEMPLATE] * 1e3:.1f} ms ({result.ratio(DROP_CREATE, TRUNCATE):.1f}x "
        f"and {result.ratio(TEMPLATE, TRUNCATE):.1f}x TRUNCATE; these two ran "
        f"{slow_tests} tests, starting the app for each)"
    )
    result.notes.append(
        f"committing through the app: the harness {median[APP_HARNESS] * 1e3:.1f} ms "
        f"per test, TRUNCATE {median[APP_TRUNCATE] * 1e3:.1f} ms"
    )
