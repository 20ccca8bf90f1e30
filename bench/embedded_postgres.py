"""The embedded PostgreSQL a postgresql project's tests start without TEST_DATABASE_URL.

- once per test run: the generated harness starting the server (initdb and the
  server's start, `join_server`), and stopping it and deleting its data
  (`leave_server`);
- per test: the harness's isolation (a transaction rolled back, the app's commits
  turned into savepoints) around a body writing 4 rows, on the embedded server
  (over its Unix socket) and on an already-running server (the machine's,
  BENCH_POSTGRES_URL or 127.0.0.1:5432, over TCP), measured in turns.

The module measured is the generated one: a postgresql project is rendered and
its tests/harness/postgres_server.py imported.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import asyncpg
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.common import Result
from bench.database import Base, _connect_admin, _rolled_back_test, _test_body
from bench.project import copy_template, profile_call, render

TARGET_START_SECONDS = 3.0
TARGET_PER_TEST_RATIO = 1.2
START = "start: initdb and the server (once per test run)"
STOP = "stop and delete its data (once per test run)"
RUNNING = "one test on an already-running server (TCP)"
EMBEDDED = "one test on the embedded server (Unix socket)"


def _harness_module(directory: Path) -> ModuleType:
    """The generated tests/harness/postgres_server.py, imported as a module of
    its harness (it reads the project's answers, tests/harness/_project.py).
    The package gets a name of its own: the project's `tests` is not imported."""
    template = copy_template(directory / "template")
    project = render(
        template, directory / "project", {"async_db": "postgresql"}, skip_tasks=True
    )
    harness = ModuleType("bench_embedded_harness")
    harness.__path__ = [str(project / "tests" / "harness")]
    sys.modules[harness.__name__] = harness
    return importlib.import_module(f"{harness.__name__}.postgres_server")


def _start_and_stop(module: ModuleType, work: Path) -> tuple[float, float, str]:
    """One run's server: (start seconds, stop seconds, its URL)."""
    run = Path(tempfile.mkdtemp(dir=work))
    directory, lock = module.server_directory(run), run / "embedded-postgres.lock"
    started = time.perf_counter()
    url = module.join_server(directory, lock)
    start = time.perf_counter() - started
    stopped = time.perf_counter()
    module.leave_server(directory, lock)
    return start, time.perf_counter() - stopped, url


async def _per_test(engines: dict[str, AsyncEngine], quick: bool) -> dict[str, float]:
    """Median time of one test on each engine, the engines taking turns."""
    tests, repeats = (5, 1) if quick else (100, 7)
    times: dict[str, list[float]] = {label: [] for label in engines}
    for engine in engines.values():
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        await _rolled_back_test(engine, _test_body)  # warm-up: connections, caches
    for _ in range(repeats):
        for label, engine in engines.items():
            start = time.perf_counter()
            for _ in range(tests):
                await _rolled_back_test(engine, _test_body)
            times[label].append((time.perf_counter() - start) / tests)
    return {label: statistics.median(values) for label, values in times.items()}


async def _compare_per_test(embedded_url: str, result: Result, quick: bool) -> None:
    try:
        admin, admin_url = await _connect_admin()
    except ConnectionError as error:
        if os.environ.get("CI"):
            raise
        result.notes.append(f"skipped: no PostgreSQL reachable ({error})")
        return
    database = f"bench_embedded_{os.getpid()}"
    embedded = make_url(embedded_url)
    socket = embedded.query["host"]
    embedded_admin = await asyncpg.connect(
        user="postgres", database="postgres", host=socket
    )
    running = make_url(admin_url).set(drivername="postgresql+asyncpg")
    engines: dict[str, AsyncEngine] = {}
    try:
        for connection in (admin, embedded_admin):
            await connection.execute(f'CREATE DATABASE "{database}"')
        engines[RUNNING] = create_async_engine(running.set(database=database))
        engines[EMBEDDED] = create_async_engine(embedded.set(database=database))
        medians = await _per_test(engines, quick)
    finally:
        for engine in engines.values():
            await engine.dispose()
        for connection in (admin, embedded_admin):
            await connection.execute(f'DROP DATABASE IF EXISTS "{database}"')
            await connection.close()
    result.add(RUNNING, medians[RUNNING])
    result.add(EMBEDDED, medians[EMBEDDED], RUNNING)
    ratio = result.ratio(EMBEDDED, RUNNING)
    result.check(
        f"a test on the embedded server within {TARGET_PER_TEST_RATIO}x of one on "
        f"an already-running server (measured {ratio:.2f}x)",
        ratio <= TARGET_PER_TEST_RATIO,
    )


def _measure(quick: bool) -> list[Result]:
    start_stop = Result(
        "embedded_postgres_start", "Embedded PostgreSQL: start and stop per test run"
    )
    per_test = Result(
        "embedded_postgres_per_test", "Embedded PostgreSQL: cost of one test"
    )
    with tempfile.TemporaryDirectory(prefix="bench-embedded-postgres-") as scratch:
        work = Path(scratch).resolve()
        module = _harness_module(work)
        runs = [_start_and_stop(module, work) for _ in range(1 if quick else 5)]
        start = statistics.median(run[0] for run in runs)
        start_stop.add(START, start)
        start_stop.add(STOP, statistics.median(run[1] for run in runs), START)
        start_stop.check(
            f"start under {TARGET_START_SECONDS:.0f} s per test run "
            f"(measured {start:.2f} s)",
            start <= TARGET_START_SECONDS,
        )
        start_stop.notes.append(
            "start is paid once per test run, shared by every xdist worker; "
            "TEST_DATABASE_URL skips it"
        )
        if start > TARGET_START_SECONDS:
            start_stop.evidence.append(
                (
                    "one start and stop (cumulative time, harness and package)",
                    profile_call(
                        lambda: _start_and_stop(module, work),
                        top=10,
                        within="postgres_server",
                    ),
                )
            )
        # The per-test comparison runs on a server started for it.
        run = Path(tempfile.mkdtemp(dir=work))
        directory, lock = module.server_directory(run), run / "embedded-postgres.lock"
        url = module.join_server(directory, lock)
        try:
            asyncio.run(_compare_per_test(url, per_test, quick))
        finally:
            module.leave_server(directory, lock)
    return [start_stop, per_test]


def run(quick: bool) -> list[Result]:
    return _measure(quick)
