"""DatabaseJanitor, the harness's hands on a PostgreSQL server
(postgresql_lifecycle.py), against the real server: what it creates carries
the harness's mark, it drops nothing without the mark, and its locks keep two
runs apart for exactly as long as a janitor lives.

The server is checked with asyncpg directly, never through the janitor.
"""

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from operator import methodcaller
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import asyncpg
import pytest
from rendering import (
    REPO_ROOT,
    import_harness_module,
    postgres_server_url,
    template_test_worker,
)
from sqlalchemy import URL, text

LIFECYCLE = (
    REPO_ROOT
    / "template"
    / "{{ harness_directory }}"
    / "{% if async_db == 'postgresql' %}postgresql_lifecycle.py{% endif %}"
)
T = TypeVar("T")
# The `with_janitor` fixture: runs a coroutine function on a janitor.
JanitorRun = Callable[[Callable[[Any], Awaitable[Any]]], Any]


def run(awaitable: Awaitable[T]) -> T:
    async def wrapped() -> T:
        return await awaitable

    return asyncio.run(wrapped())


@pytest.fixture
def lifecycle(tmp_path: Path) -> ModuleType:
    harness = tmp_path / "tests" / "harness"
    harness.mkdir(parents=True)
    (harness / "postgresql_lifecycle.py").write_text(LIFECYCLE.read_text())
    (harness / "_project.py").write_text(
        "SCAFFOLD = 'service'\nPACKAGE = 'shop'\nDIRECTORY = 'tests/harness'\n"
        "TEST_DATABASE_URL_VARIABLE = 'TEST_DATABASE_URL'\n"
    )
    return import_harness_module(harness / "postgresql_lifecycle.py")


@pytest.fixture
def server() -> URL:
    return postgres_server_url()


@pytest.fixture
def with_janitor(
    lifecycle: ModuleType, server: URL
) -> Callable[[Callable[[Any], Awaitable[T]]], T]:
    """Runs `work` on a DatabaseJanitor of the server that closes after it, and
    gives back what `work` returns."""

    def run_on_janitor(work: Callable[[Any], Awaitable[T]]) -> T:
        async def inside() -> T:
            async with lifecycle.DatabaseJanitor(server) as janitor:
                return await work(janitor)

        return run(inside())

    return run_on_janitor


@pytest.fixture
def names(server: URL) -> Iterator[list[str]]:
    """Names of databases for one test (per template-test worker), dropped
    afterwards whatever they hold."""
    created: list[str] = []
    yield created
    for name in created:
        run(sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def database_name(names: list[str], what: str) -> str:
    name = f"harness_janitor_{what}_w{template_test_worker()}_test"
    names.append(name)
    return name


async def sql(server: URL, statement: str, database: str = "postgres") -> Any:
    url = server.set(drivername="postgresql", database=database)
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        return await connection.fetch(statement)
    finally:
        await connection.close()


def comments(server: URL) -> dict[str, str | None]:
    rows = run(
        sql(
            server,
            "SELECT datname, shobj_description(oid, 'pg_database') AS comment"
            " FROM pg_database",
        )
    )
    return {row["datname"]: row["comment"] for row in rows}


def test_what_it_creates_is_marked_and_what_it_drops_is_gone(
    lifecycle: ModuleType, server: URL, names: list[str], with_janitor: JanitorRun
) -> None:
    name = database_name(names, "created")

    async def create(janitor: Any) -> int:
        await janitor.create(name)
        pid: int = await janitor.connection.scalar(text("SELECT pg_backend_pid()"))
        return pid

    backend = with_janitor(create)

    comment = comments(server)[name] or ""
    assert comment.startswith(lifecycle.MARKER)
    assert f"pid {os.getpid()} on " in comment
    # The janitor's connection ends with it.
    sessions = run(sql(server, f"SELECT 1 FROM pg_stat_activity WHERE pid = {backend}"))
    assert sessions == []

    with_janitor(methodcaller("drop", name))
    assert name not in comments(server)


def test_a_database_without_the_mark_is_never_dropped_or_replaced(
    server: URL, names: list[str], with_janitor: JanitorRun
) -> None:
    name = database_name(names, "theirs")
    run(sql(server, f'CREATE DATABASE "{name}"'))
    run(sql(server, "CREATE TABLE orders (id int)", database=name))

    for action in ("drop", "create"):
        with pytest.raises(pytest.fail.Exception) as refused:
            with_janitor(methodcaller(action, name))
        assert f"Refusing to drop database {name!r}" in str(refused.value)
        assert "TEST_DATABASE_URL" in str(refused.value)
    # Still there, with its table.
    assert run(sql(server, "SELECT to_regclass('orders') AS t", database=name))[0]["t"]


def test_a_copy_of_a_template_has_its_schema(
    lifecycle: ModuleType, server: URL, names: list[str], with_janitor: JanitorRun
) -> None:
    template = database_name(names, "tpl")
    copy = database_name(names, "copy")

    async def build(janitor: Any) -> None:
        await janitor.create(template)
        await sql(server, "CREATE TABLE suppliers (id int)", database=template)
        await janitor.mark(template, "; built")
        await janitor.create(copy, template=template)

    with_janitor(build)

    found = run(sql(server, "SELECT to_regclass('suppliers') AS t", database=copy))
    assert found[0]["t"] == "suppliers"
    assert (comments(server)[template] or "").endswith("; built")
    assert (comments(server)[copy] or "").startswith(lifecycle.MARKER)


def test_drop_closes_the_connections_left_on_the_database(
    server: URL, names: list[str], with_janitor: JanitorRun
) -> None:
    name = database_name(names, "leaked")

    async def scenario(janitor: Any) -> None:
        await janitor.create(name)
        url = server.set(drivername="postgresql", database=name)
        leaked = await asyncpg.connect(url.render_as_string(hide_password=False))
        try:
            await janitor.drop(name)
        finally:
            leaked.terminate()

    with_janitor(scenario)

    assert name not in comments(server)


def test_a_lock_keeps_another_janitor_out_while_its_holder_lives(
    lifecycle: ModuleType, server: URL, names: list[str]
) -> None:
    name = database_name(names, "locked")

    async def scenario() -> tuple[bool, str, bool]:
        async with lifecycle.DatabaseJanitor(server) as other:
            async with lifecycle.DatabaseJanitor(server) as first:
                assert await first.try_lock(name)
                taken = await other.try_lock(name)
                holder = await other.holder(name)
            # The holder's connection closed: the lock went with it.
            return taken, holder, await other.try_lock(name)

    taken, holder, after = run(scenario())

    assert not taken
    assert holder.startswith(f"fastapi-harness tests, pid {os.getpid()}")
    assert after


def test_only_stale_marked_databases_of_the_family_are_dropped(
    lifecycle: ModuleType, server: URL, names: list[str]
) -> None:
    base = database_name(names, "family")
    # A killed run's worker database; a live run's; a scratch database someone
    # made by hand; a database whose name only starts like the family's.
    killed_worker, live_worker = base + "_gw3", base + "_gw1"
    scratch_unmarked, stranger = base + "_s1", base + "_other"
    names += [killed_worker, live_worker, scratch_unmarked, stranger]

    async def scenario() -> None:
        async with lifecycle.DatabaseJanitor(server) as live_run:
            for name in (base, killed_worker, live_worker, stranger):
                await live_run.create(name)
            await sql(server, f'CREATE DATABASE "{scratch_unmarked}"')
            assert await live_run.try_lock(live_worker)
            async with lifecycle.DatabaseJanitor(server) as janitor:
                await janitor.drop_stale(base, keep=base)

    run(scenario())

    left = comments(server)
    assert killed_worker not in left
    for kept in (base, live_worker, scratch_unmarked, stranger):
        assert kept in left, kept
