"""Isolating tests that share a real PostgreSQL database: three ways compared.

- rollback: each test runs inside a transaction that is rolled back afterwards;
  the test's own commits only release SAVEPOINTs (SQLAlchemy's
  join_transaction_mode="create_savepoint"), as the harness's `db_session` does;
- drop/create: the schema is dropped and created again before each test;
- truncate: each test commits, then every table is truncated.

Every test does the same small body (insert an author, two books and a review,
commit, count) on SQLAlchemy async + asyncpg. The benchmark creates its own
database and drops it at the end.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable

import asyncpg
from sqlalchemy import ForeignKey, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bench.common import Result

TARGET_SPEEDUP = 10
TARGET_PER_TEST_SECONDS = 0.002
# Where to find the server: an admin DSN, or these users in turn (trust auth).
ADMIN_URL_VARIABLE = "BENCH_POSTGRES_URL"
DEFAULT_ADMIN_URLS = (
    "postgresql://postgres@127.0.0.1:5432/postgres",
    "postgresql://root@127.0.0.1:5432/postgres",
)


class Base(DeclarativeBase):
    # Every table's key, its first column: an integer the database assigns.
    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)


class Author(Base):
    __tablename__ = "authors"
    name: Mapped[str]


class Book(Base):
    __tablename__ = "books"
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    title: Mapped[str]


class Review(Base):
    __tablename__ = "reviews"
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"))
    stars: Mapped[int]


async def _test_body(session: AsyncSession) -> None:
    author = Author(name="Ada")
    session.add(author)
    await session.flush()
    books = [Book(author_id=author.id, title=f"Notes {n}") for n in range(2)]
    session.add_all(books)
    await session.flush()
    session.add(Review(book_id=books[0].id, stars=5))
    await session.commit()
    count = await session.scalar(
        select(func.count()).select_from(Book).where(Book.author_id == author.id)
    )
    assert count == 2


async def _empty_body(session: AsyncSession) -> None:
    """A test that touches no table: what is left is the isolation's own cost."""


Body = Callable[[AsyncSession], Awaitable[None]]


async def _rolled_back_test(engine: AsyncEngine, body: Body) -> None:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
        )
        try:
            await body(session)
        finally:
            await session.close()
            await transaction.rollback()


async def _fresh_schema_test(engine: AsyncEngine, body: Body) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.run_sync(Base.metadata.create_all)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        await body(session)


async def _truncated_test(engine: AsyncEngine, body: Body) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        await body(session)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


async def _unisolated_test(engine: AsyncEngine, body: Body) -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        await body(session)


Strategy = Callable[[AsyncEngine, Body], Awaitable[None]]


async def _connect_admin() -> tuple[asyncpg.Connection, str]:
    configured = os.environ.get(ADMIN_URL_VARIABLE)
    urls = (configured,) if configured else DEFAULT_ADMIN_URLS
    errors = []
    for url in urls:
        try:
            return await asyncpg.connect(url, timeout=5), url
        except (OSError, asyncpg.PostgresError) as error:
            errors.append(f"{url}: {error}")
    raise ConnectionError("; ".join(errors))


async def _measure(quick: bool) -> Result:
    result = Result("database", "Database isolation on PostgreSQL: cost of one test")
    try:
        admin, admin_url = await _connect_admin()
    except ConnectionError as error:
        if os.environ.get("CI"):
            raise
        result.notes.append(
            f"skipped: no PostgreSQL reachable ({error}); set {ADMIN_URL_VARIABLE}"
        )
        return result
    database = f"bench_isolation_{os.getpid()}"
    await admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
    await admin.execute(f'CREATE DATABASE "{database}"')
    url = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    engine = create_async_engine(f"{url}/{database}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        strategies: dict[str, tuple[Strategy, int]] = {
            "rollback": (_rolled_back_test, 200),
            "truncate": (_truncated_test, 50),
            "drop/create": (_fresh_schema_test, 20),
        }
        bodies = {"empty test": _empty_body, "test writing 4 rows": _test_body}
        cases: dict[str, tuple[Strategy, Body, int]] = {
            f"{body_name}: {strategy}": (one_test, body, tests)
            for body_name, body in bodies.items()
            for strategy, (one_test, tests) in strategies.items()
        }
        cases["test writing 4 rows: no isolation, it commits"] = (
            _unisolated_test,
            _test_body,
            200,
        )
        medians = await _median_per_test(engine, cases, quick)
        for label, seconds in medians.items():
            if label.endswith(": rollback") or "no isolation" in label:
                reference = label
                result.add(label, seconds)
            else:
                result.add(label, seconds, reference)
    finally:
        await engine.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
        await admin.close()

    rollback = result.seconds("empty test: rollback")
    drop_create = result.seconds("empty test: drop/create")
    result.check(
        f"rollback's own cost at least {TARGET_SPEEDUP}x faster than drop/create "
        f"(measured {drop_create / rollback:.1f}x)",
        drop_create / rollback >= TARGET_SPEEDUP,
    )
    result.check(
        f"rollback's own cost under {TARGET_PER_TEST_SECONDS * 1e3:.0f} ms per test "
        f"(measured {rollback * 1e3:.2f} ms)",
        rollback < TARGET_PER_TEST_SECONDS,
    )
    with_body = result.seconds("test writing 4 rows: rollback")
    result.notes.append(
        f"a test writing 4 rows takes {with_body * 1e3:.2f} ms under rollback, of "
        f"which {rollback * 1e3:.2f} ms is the isolation; the rest is the test's "
        "own round trips to the server (compare the no-isolation row), which "
        "every strategy pays alike"
    )
    result.notes.append(
        "this is the isolation alone, on a bare engine: what a generated "
        "project's tests pay per test, app and clients included, is measured "
        "under 'Isolation strategies on a generated project'"
    )
    return result


async def _median_per_test(
    engine: AsyncEngine, cases: dict[str, tuple[Strategy, Body, int]], quick: bool
) -> dict[str, float]:
    """Median over repeats of the time one test takes, isolation included.

    Repeats go round every case in turn, so a busy moment on the machine falls
    on all of them alike.
    """
    repeats = 1 if quick else 5
    per_test: dict[str, list[float]] = {label: [] for label in cases}
    for one_test, body, _ in cases.values():
        await one_test(engine, body)  # warm-up: connections, statement caches
    for _ in range(repeats):
        for label, (one_test, body, tests) in cases.items():
            tests = 5 if quick else tests
            start = time.perf_counter()
            for _ in range(tests):
                await one_test(engine, body)
            per_test[label].append((time.perf_counter() - start) / tests)
    return {label: statistics.median(times) for label, times in per_test.items()}


def run(quick: bool) -> list[Result]:
    return [asyncio.run(_measure(quick))]
