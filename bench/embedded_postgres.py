"""The embedded PostgreSQL a postgresql project's tests start without TEST_DATABASE_URL.

- once per test run: the generated harness starting the server (initdb and the
  server's start, `join_server`), and stopping it and deleting its data
  (`leave_server`);
- per test: the harness's isolation (a transaction rolled back, the app's commits
  turned into savepoints) around a body writing 4 rows, on the embedded server
  (over its Unix socket) and on an already-running server (the machine's,
  BENCH_POSTGRES_URL or 127.0.0.1:5432, over TCP), measured in turns;
- a second run: the generated project's tests/test_items.py run by pytest with
  TEST_DATABASE_URL unset, after a first run that started the server and left
  it to be kept (EMBEDDED_POSTGRES_IDLE_SECONDS), against the same runs with
  TEST_DATABASE_URL naming that server, already running: what reusing the
  kept server adds to a run, taking turns (each round in the other order);
  and, in this process, what the harness does to reuse it (`join_server` and
  `leave_server` on the kept server), the part of that difference that is not
  noise.

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
from bench.project import copy_template, profile_call, render, run_pytest

TARGET_START_SECONDS = 3.0
TARGET_PER_TEST_RATIO = 1.2
TARGET_SECOND_RUN_SECONDS = 0.2
FIRST_RUN = "first run: starts the server"
ON_RUNNING = "a run on an already-running server (TEST_DATABASE_URL)"
SECOND_RUN = "a second run on the kept embedded server"
REUSE = "joining and leaving the kept server (the harness's part of a second run)"
# Runs of each kind, for each size (not quick).
SECOND_RUNS = {"small": 9, "full": 15}
START = "start: initdb and the server (once per test run)"
STOP = "stop and delete its data (once per test run)"
RUNNING = "one test on an already-running server (TCP)"
EMBEDDED = "one test on the embedded server (Unix socket)"


def _project(directory: Path) -> Path:
    template = copy_template(directory / "template")
    return render(
        template,
        directory / "project",
        {"async_db": "postgresql", "concurrency": True},
    )


def _harness_module(project: Path) -> ModuleType:
    """The generated tests/harness/postgres_server.py, imported as a module of
    its harness (it reads the project's answers, tests/harness/_project.py).
    The package gets a name of its own: the project's `tests` is not imported."""
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


def _measure(quick: bool, size: str) -> list[Result]:
    start_stop = Result(
        "embedded_postgres_start", "Embedded PostgreSQL: start and stop per test run"
    )
    per_test = Result(
        "embedded_postgres_per_test", "Embedded PostgreSQL: cost of one test"
    )
    with tempfile.TemporaryDirectory(prefix="bench-embedded-postgres-") as scratch:
        work = Path(scratch).resolve()
        project = _project(work)
        module = _harness_module(project)
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
        second_run = _second_run(
            project, module, work, 1 if quick else SECOND_RUNS[size]
        )
    return [start_stop, per_test, second_run]


def _reuse(module: ModuleType, directory: Path, times: int) -> float:
    """Median seconds of what a run does to use the kept server: register
    (`join_server`, which finds it running) and unregister (`leave_server`,
    which leaves it to its keeper)."""
    lock = module.lock_of(directory)
    seconds = []
    for _ in range(times):
        start = time.perf_counter()
        module.join_server(directory, lock)
        module.leave_server(directory, lock, idle_seconds=600)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def _second_run(project: Path, module: ModuleType, work: Path, repeats: int) -> Result:
    """A run's wall time on the kept embedded server, and on the same server
    named by TEST_DATABASE_URL; the first run that started it, for scale."""
    result = Result(
        "embedded_postgres_second_run",
        "Embedded PostgreSQL: a second run (tests/test_items.py, wall time)",
    )
    temporary = work / "tmp"
    temporary.mkdir()
    kept: dict[str, str | None] = {
        "TMPDIR": str(temporary),
        "TEST_DATABASE_URL": None,
        "CI": None,
        "EMBEDDED_POSTGRES_IDLE_SECONDS": "600",
    }
    first, _ = run_pytest(project, "tests/test_items.py", env=kept)
    (url_file,) = temporary.glob("embedded-postgres-*/*/url")
    running = {**kept, "TEST_DATABASE_URL": url_file.read_text()}
    walls: dict[str, list[float]] = {ON_RUNNING: [], SECOND_RUN: []}
    turns = [(ON_RUNNING, running), (SECOND_RUN, kept)]
    try:
        for round_number in range(repeats):
            # Each kind goes first in every other round: neither always runs
            # just after the other.
            for label, env in turns[:: 1 if round_number % 2 else -1]:
                walls[label].append(
                    run_pytest(project, "tests/test_items.py", env=env)[0]
                )
        reuse = _reuse(module, url_file.parent, 5 if repeats == 1 else 50)
    finally:
        run_pytest(project, "--stop-embedded-postgres", env=kept)
    median = {label: statistics.median(values) for label, values in walls.items()}
    result.add(FIRST_RUN, first)
    result.add(ON_RUNNING, median[ON_RUNNING])
    result.add(SECOND_RUN, median[SECOND_RUN], ON_RUNNING)
    result.add(REUSE, reuse, ON_RUNNING)
    added = median[SECOND_RUN] - median[ON_RUNNING]
    # Paired: each second run against the run just before it.
    paired = statistics.median(
        kept_run - running_run
        for running_run, kept_run in zip(
            walls[ON_RUNNING], walls[SECOND_RUN], strict=True
        )
    )
    result.check(
        f"a second run on the embedded server adds at most "
        f"{TARGET_SECOND_RUN_SECONDS} s over a run on an already-running server "
        f"(measured {added:+.2f} s; paired runs {paired:+.2f} s)",
        added <= TARGET_SECOND_RUN_SECONDS,
    )
    result.notes.append(
        f"the first run, which starts the server, took {first:.2f} s; a second "
        f"run {median[SECOND_RUN]:.2f} s, one on the already-running server "
        f"{median[ON_RUNNING]:.2f} s (medians of {len(walls[SECOND_RUN])} runs each)"
    )
    spread = [
        kept_run - running_run
        for running_run, kept_run in zip(
            walls[ON_RUNNING], walls[SECOND_RUN], strict=True
        )
    ]
    result.notes.append(
        f"the paired differences ranged from {min(spread):+.2f} s to "
        f"{max(spread):+.2f} s: a run's wall time varies by more than what reusing "
        f"the server costs, which the harness's part ({reuse * 1e3:.1f} ms, "
        "measured in this process) shows"
    )
    return result


def run(quick: bool, size: str = "full") -> list[Result]:
    return _measure(quick, size)
