"""The harness's two plain database modules, on SQLite, run by pytester without
rendering a project: shared_session.py (the session `db_session` shares with
the app) and database_state.py (what a test changed in the test database, put
back after it).

Each inner run is a team's conftest.py wired as database.py wires these modules
(an AsyncEngine on a SQLite file in pytester's directory, `db_session` on one
connection whose transaction is rolled back after the test), and test modules
using it. The rendered project's own tests of the same behaviours, on
PostgreSQL too, are in test_isolation.py, test_database.py and
test_factories.py.
"""

from __future__ import annotations

import sys

import pytest
from plain_modules import PACKAGE, copy_plain_modules
from sqlalchemy import event
from sqlalchemy.engine import Engine

pytestmark = pytest.mark.quick

# What both inner runs' conftests start with: the engine on SQLite, as
# database.py's `_sqlite_database` makes it, and the team's items (declared
# with Column attributes, as SQLAlchemy 1.x taught: no Mapped annotations).
ENGINE_AND_ITEMS = '''\
import pytest
import pytest_asyncio
from sqlalchemy import Column, Integer, String, event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase


def sqlite_engine(path) -> AsyncEngine:
    """An engine on the SQLite file `path`: SAVEPOINTs inside the test's
    transaction (SQLAlchemy emits BEGIN, not the driver), WAL so the app's
    connections write while the test's transaction reads, foreign keys on."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _emit_begin(connection):
        connection.exec_driver_sql("BEGIN")

    return engine


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    name = Column(String, nullable=False)
'''

# ── shared_session.py ────────────────────────────────────────────────────────
SHARED_SESSION_CONFTEST = (
    ENGINE_AND_ITEMS
    + """

import time
from collections.abc import AsyncIterator

import httpx
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from harness.shared_session import JoinedSessionmaker, SharedSession, release_connection

# The driver's connection each test's db_session was on, by test name.
CONNECTIONS = {}

app = FastAPI()
Sessions = async_sessionmaker(expire_on_commit=False)  # never reached in a test


async def get_sessions() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    yield Sessions


@app.get("/items")
async def names(sessions=Depends(get_sessions)) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(select(Item.name).order_by(Item.id)))


@app.post("/items", status_code=201)
async def add(name: str, sessions=Depends(get_sessions)) -> dict[str, str]:
    async with sessions(expire_on_commit=False) as session:
        session.add(Item(name=name))
        await session.commit()
    return {"name": name}


@app.post("/items/begun", status_code=201)
async def add_begun(name: str, fail: bool = False, sessions=Depends(get_sessions)):
    async with sessions.begin() as session:
        session.add(Item(name=name))
        await session.flush()
        if fail:
            raise HTTPException(409, "refused")
    return {"name": name}


@app.post("/items/closed-by-hand", status_code=201)
async def add_closing(name: str, sessions=Depends(get_sessions)) -> dict[str, str]:
    session = sessions()
    try:
        async with session.begin():
            session.add(Item(name=name))
    finally:
        await session.close()
    return {"name": name}


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def engine(tmp_path_factory):
    engine = sqlite_engine(tmp_path_factory.mktemp("database") / "test.db")

    @event.listens_for(engine.sync_engine, "connect")
    def _pause(dbapi_connection, _record):
        # `SELECT pause(seconds)`: a query that takes that long.
        dbapi_connection.create_function("pause", 1, time.sleep)

    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


async def nothing_before_rollback(_connection):
    pass


# db_session's: bound to the test's connection, a commit releases a SAVEPOINT.
SharedSessions = async_sessionmaker(
    class_=SharedSession,
    join_transaction_mode="create_savepoint",
    expire_on_commit=False,
)


@pytest_asyncio.fixture(loop_scope="session")
async def db_session(engine, request):
    async with engine.connect() as connection:
        transaction = await connection.begin()
        session = SharedSessions(bind=connection)
        raw = await connection.get_raw_connection()
        CONNECTIONS[request.node.name] = raw.driver_connection
        app.dependency_overrides[get_sessions] = lambda: JoinedSessionmaker(session)
        try:
            yield session
        finally:
            app.dependency_overrides.clear()
            await release_connection(
                session, transaction, connection, nothing_before_rollback
            )


@pytest_asyncio.fixture(loop_scope="session")
async def client(db_session):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
"""
)

SHARED_SESSION_TESTS = """\
import asyncio

import pytest
from sqlalchemy import func, select, text

from conftest import CONNECTIONS, Item
from harness.shared_session import CONCURRENT_USE, ConcurrentSessionUse

pytestmark = pytest.mark.asyncio(loop_scope="session")

# A query that keeps SQLite busy for a moment (`pause`: conftest.py).
SLOW = text("SELECT pause(0.2)")
LEFT_RUNNING = []


async def count(db_session):
    return await db_session.scalar(select(func.count()).select_from(Item))


async def save(db_session, name):
    db_session.add(Item(name=name))
    await db_session.flush()


def same_connection(test, earlier_test):
    return CONNECTIONS[test] is CONNECTIONS[earlier_test]


async def test_routes_get_the_tests_session_lent(db_session, client):
    added = Item(name="by the test")
    db_session.add(added)
    # A route's `async with factory() as session` is the test's session: it
    # reads the row the test added (its query flushes it), and what the route
    # commits is the test's to read.
    assert (await client.get("/items")).json() == ["by the test"]
    assert (await client.post("/items", params={"name": "route"})).status_code == 201
    # factory.begin() while the test has a transaction open: a SAVEPOINT, kept
    # on leaving the block, rolled back alone on an error.
    added.name = "renamed by the test"
    await db_session.flush()
    refused = await client.post("/items/begun", params={"name": "no", "fail": True})
    assert refused.status_code == 409
    begun = await client.post("/items/begun", params={"name": "begun"})
    assert begun.status_code == 201
    closed = await client.post("/items/closed-by-hand", params={"name": "closed"})
    assert closed.status_code == 201
    # Never closed by a route: the test's object is still in its session.
    assert added in db_session
    names = await db_session.scalars(select(Item.name).order_by(Item.id))
    assert list(names) == ["renamed by the test", "route", "begun", "closed"]


async def test_then_nothing_is_left_and_the_connection_is_reused(db_session, client):
    assert await count(db_session) == 0
    assert (await client.get("/items")).json() == []
    assert same_connection(
        "test_then_nothing_is_left_and_the_connection_is_reused",
        "test_routes_get_the_tests_session_lent",
    )


async def test_gathers_flushes_on_db_session(db_session):
    await asyncio.gather(save(db_session, "first"), save(db_session, "second"))


async def test_after_gathering_a_fresh_connection_and_nothing_left(db_session, client):
    assert not same_connection(
        "test_after_gathering_a_fresh_connection_and_nothing_left",
        "test_gathers_flushes_on_db_session",
    )
    assert await count(db_session) == 0
    assert (await client.post("/items", params={"name": "after"})).status_code == 201
    assert await count(db_session) == 1


async def test_a_second_task_is_refused_while_the_first_is_inside(db_session):
    first = asyncio.create_task(save(db_session, "first"))
    await asyncio.sleep(0)  # the first task is inside its flush
    with pytest.raises(ConcurrentSessionUse) as refused:
        await save(db_session, "second")
    await first
    assert str(refused.value) == CONCURRENT_USE


async def test_after_a_refusal_a_fresh_connection_and_nothing_left(db_session):
    # The refused test's tasks both ended, yet its connection is not reused.
    assert not same_connection(
        "test_after_a_refusal_a_fresh_connection_and_nothing_left",
        "test_a_second_task_is_refused_while_the_first_is_inside",
    )
    assert await count(db_session) == 0


async def test_leaves_a_query_running_in_db_session(db_session):
    LEFT_RUNNING.append(asyncio.get_running_loop().create_task(db_session.execute(SLOW)))
    await asyncio.sleep(0.02)
    assert not LEFT_RUNNING[0].done()


async def test_after_a_task_left_running_it_was_stopped(db_session):
    assert LEFT_RUNNING[0].cancelled()
    assert not same_connection(
        "test_after_a_task_left_running_it_was_stopped",
        "test_leaves_a_query_running_in_db_session",
    )
    assert await count(db_session) == 0
"""


def test_shared_session(pytester: pytest.Pytester) -> None:
    copy_plain_modules(pytester, "shared_session.py")
    pytester.makeconftest(SHARED_SESSION_CONFTEST)
    pytester.makepyfile(test_shared_session=SHARED_SESSION_TESTS)

    result = pytester.runpytest_inprocess("-v")

    result.assert_outcomes(passed=7, failed=1)
    result.stdout.fnmatch_lines(["*::test_gathers_flushes_on_db_session FAILED*"])
    # It fails where the second task used the session, naming the fix.
    result.stdout.fnmatch_lines(
        [
            "*ConcurrentSessionUse: db_session was used by two tasks at once (e.g. "
            "asyncio.gather of requests that all get db_session)*Await the "
            "operations one after another, or fire concurrent requests in a test "
            "without db_session*",
        ]
    )
    output = result.stdout.str()
    assert "InvalidRequestError" not in output
    assert "IllegalStateChangeError" not in output


# ── database_state.py ────────────────────────────────────────────────────────
DATABASE_STATE_CONFTEST = (
    ENGINE_AND_ITEMS
    + """

from sqlalchemy import ForeignKey, Table, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from harness.database_state import (
    ROLLED_BACK,
    put_back,
    sequences_back_before_rollback,
    watch,
)

# The schema as the team's migrations build it, seeds included. The database
# differs from the models, as it may while a migration is being written: items
# has a column its model lacks, and the drafts table is not built yet.
SCHEMA = [
    "CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,"
    " code TEXT)",
    "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,"
    " body TEXT NOT NULL)",
    "CREATE TABLE labels (id INTEGER PRIMARY KEY,"
    " item_id INTEGER NOT NULL REFERENCES items (id), name TEXT NOT NULL)",
    "CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
    "INSERT INTO items (name, code) VALUES ('seeded-a', 'A'), ('seeded-b', 'B')",
    "INSERT INTO notes (item_id, body) VALUES (1, 'seeded note')",
    "INSERT INTO labels (item_id, name) VALUES (2, 'seeded label')",
    "INSERT INTO tags (name) VALUES ('seeded')",
]



class Note(Base):
    __tablename__ = "notes"
    id = Column(Integer, primary_key=True)
    item_id = Column(ForeignKey("items.id", ondelete="CASCADE"), nullable=False)
    body = Column(String, nullable=False)


# Tables the tests write in SQL only: their models name no more.
Table("labels", Base.metadata, Column("id", Integer, primary_key=True))
Table("tags", Base.metadata, Column("id", Integer, primary_key=True))
# A model whose migration is not written yet: no such table in the database.
Table("drafts", Base.metadata, Column("id", Integer, primary_key=True))


# The statements put_back() ran after each test, by test name.
PUT_BACK = {}


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def db_engine(tmp_path_factory):
    engine = sqlite_engine(tmp_path_factory.mktemp("database") / "test.db")
    async with engine.begin() as connection:
        for statement in SCHEMA:
            await connection.execute(text(statement))
    await watch(engine, Base.metadata)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(autouse=True, loop_scope="session")
async def _put_back_after_test(db_engine, request):
    yield
    ran = []

    def record(_connection, _cursor, statement, *_):
        ran.append(" ".join(statement.split()))

    event.listen(db_engine.sync_engine, "before_cursor_execute", record)
    try:
        await put_back(db_engine)
    finally:
        event.remove(db_engine.sync_engine, "before_cursor_execute", record)
    PUT_BACK[request.node.name] = ran


# db_session's: bound to the test's connection, a commit releases a SAVEPOINT.
RolledBackSessions = async_sessionmaker(
    join_transaction_mode="create_savepoint", expire_on_commit=False
)


@pytest_asyncio.fixture(loop_scope="session")
async def db_session(db_engine):
    async with db_engine.connect() as connection:
        await connection.execution_options(**{ROLLED_BACK: True})
        transaction = await connection.begin()
        async with RolledBackSessions(bind=connection) as session:
            yield session
        await sequences_back_before_rollback(connection)
        await transaction.rollback()
"""
)

DATABASE_STATE_TESTS = """\
import pytest
from sqlalchemy import insert, literal, select, text, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from conftest import PUT_BACK, Item, Note, sqlite_engine

pytestmark = pytest.mark.asyncio(loop_scope="session")

SEEDED = {
    "items": [(1, "seeded-a", "A"), (2, "seeded-b", "B")],
    "notes": [(1, 1, "seeded note")],
    "labels": [(1, 2, "seeded label")],
    "tags": [(1, "seeded")],
}
NUMBERED = "SELECT name, seq FROM sqlite_sequence"


# The committed rows are the seeds, and the next rows are numbered as after
# them (SQLite's sqlite_sequence: AUTOINCREMENT never reuses a number).
async def check_as_seeded(db_engine):
    async with db_engine.connect() as connection:
        found = {
            table: [
                tuple(row)
                for row in await connection.execute(
                    text(f"SELECT * FROM {table} ORDER BY id")
                )
            ]
            for table in SEEDED
        }
        numbered = dict((await connection.execute(text(NUMBERED))).all())
    assert found == SEEDED
    assert numbered == {"items": 2, "notes": 1}


def tables_put_back(test):
    return {
        statement.split()[2]
        for statement in PUT_BACK[test]
        if statement.startswith("DELETE FROM") and "sqlite_sequence" not in statement
    }


async def test_writes_through_db_session_only(db_engine, db_session):
    await check_as_seeded(db_engine)
    item = Item(name="rolled back")
    db_session.add(item)
    await db_session.flush()
    db_session.add(Note(item_id=item.id, body="rolled back"))
    await db_session.execute(update(Item).values(name="renamed"))
    await db_session.commit()
    assert item.id == 3


async def test_commits_rows_through_db_engine(db_engine):
    await check_as_seeded(db_engine)
    async with db_engine.begin() as connection:
        inserted = await connection.execute(
            Item.__table__.insert().returning(Item.id),
            [{"name": name} for name in ("c", "d", "e")],
        )
        assert [id for (id,) in inserted] == [3, 4, 5]
        await connection.execute(Note.__table__.insert().values(item_id=5, body="e"))


async def test_commits_through_the_apps_own_sessions(db_engine):
    await check_as_seeded(db_engine)
    async with async_sessionmaker(db_engine)() as session:
        session.add(Item(name="app"))
        await session.commit()


async def test_changes_and_deletes_seeded_rows(db_engine):
    await check_as_seeded(db_engine)
    async with db_engine.begin() as connection:
        await connection.execute(update(Item).where(Item.id == 2).values(name="x"))
        await connection.execute(text("UPDATE items SET code = NULL"))


async def test_deletes_a_seeded_item_its_notes_going_with_it(db_engine):
    await check_as_seeded(db_engine)
    async with db_engine.begin() as connection:
        # ON DELETE CASCADE deletes its note: notes are written unnamed.
        await connection.execute(text("DELETE FROM items WHERE id = 1"))
        assert (await connection.scalar(text("SELECT count(*) FROM notes"))) == 0


async def test_inserts_from_a_cte(db_engine):
    await check_as_seeded(db_engine)
    fresh = select(literal("from a CTE").label("name")).cte("fresh")
    async with db_engine.begin() as connection:
        # Its SQL starts with WITH, yet it names its table: items alone.
        await connection.execute(
            insert(Item).from_select(["name"], select(fresh.c.name))
        )


async def test_writes_in_sql_text(db_engine):
    await check_as_seeded(db_engine)
    async with db_engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO notes (item_id, body) VALUES (2, 'raw')")
        )


async def test_writes_where_no_table_is_named_first(db_engine):
    await check_as_seeded(db_engine)
    async with db_engine.begin() as connection:
        await connection.execute(
            text(
                "WITH renamed AS (SELECT 'changed')"
                " UPDATE tags SET name = (SELECT * FROM renamed)"
            )
        )


async def test_writes_naming_its_table_qualified_in_capitals(db_engine):
    await check_as_seeded(db_engine)
    async with db_engine.begin() as connection:
        # SQLite's default schema is main; unquoted names fold: the table tags.
        await connection.execute(text("UPDATE main.TAGS SET name = 'renamed'"))


async def test_only_reads(db_engine):
    await check_as_seeded(db_engine)


async def test_writes_to_another_database(db_engine, tmp_path):
    await check_as_seeded(db_engine)
    other = sqlite_engine(tmp_path / "other.db")
    try:
        async with other.begin() as connection:
            # A table of the same name, in a database not watched.
            await connection.execute(text("CREATE TABLE items (name TEXT)"))
            await connection.execute(text("INSERT INTO items VALUES ('elsewhere')"))
    finally:
        await other.dispose()


async def test_last_is_as_seeded_and_only_what_was_written_was_put_back(
    db_engine, db_session
):
    await check_as_seeded(db_engine)
    item = Item(name="numbered")
    db_session.add(item)
    await db_session.flush()
    assert item.id == 3
    # Nothing committed outside db_session: nothing put back.
    for test in (
        "test_writes_through_db_session_only",
        "test_only_reads",
        "test_writes_to_another_database",
    ):
        assert PUT_BACK[test] == [], test
    # The tables written, and those whose foreign keys point at them.
    for test in (
        "test_commits_rows_through_db_engine",
        "test_commits_through_the_apps_own_sessions",
        "test_changes_and_deletes_seeded_rows",
        "test_deletes_a_seeded_item_its_notes_going_with_it",
        "test_inserts_from_a_cte",
    ):
        assert tables_put_back(test) == {"items", "notes", "labels"}, test
    assert tables_put_back("test_writes_in_sql_text") == {"notes"}
    assert tables_put_back("test_writes_naming_its_table_qualified_in_capitals") == {
        "tags"
    }
    # A write the harness cannot attribute: every table.
    assert tables_put_back("test_writes_where_no_table_is_named_first") == {
        "items", "notes", "labels", "tags"
    }
"""


class UnwatchesOnExit:
    """database_state.py listens to every Engine of the process; run in this
    one, each inner run's copy stops listening when the run ends."""

    def pytest_unconfigure(self) -> None:
        module = sys.modules.get(f"{PACKAGE}.database_state")
        if module is not None:
            event.remove(Engine, "before_cursor_execute", module._record_write)


def test_database_state(pytester: pytest.Pytester) -> None:
    copy_plain_modules(pytester, "database_state.py")
    pytester.makeconftest(DATABASE_STATE_CONFTEST)
    pytester.makepyfile(test_database_state=DATABASE_STATE_TESTS)

    result = pytester.runpytest_inprocess("-v", plugins=[UnwatchesOnExit()])

    result.assert_outcomes(passed=12)
