"""Building each xdist worker's schema from migrations, as workers grow.

- upgrade in each: every worker creates its database and runs `alembic upgrade
  head` in it (what a harness migrating per worker pays);
- one upgrade, a copy each: the generated harness's way (migrations=alembic): the
  run migrates a template database once, and every worker's database is
  `CREATE DATABASE ... TEMPLATE` of it.

The code measured is the generated one: a postgresql project with
migrations=alembic is rendered, its migration history made `REVISIONS` long (a
table, an index and a foreign key each), and its tests/harness/migrations.py and
postgresql_lifecycle.py imported. The run's workers are timed one after the
other on an embedded server, so each row is the schema's whole cost for the run,
whatever the cores.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from types import ModuleType

from sqlalchemy import URL, make_url

from bench.common import Result
from bench.project import copy_template, render

REVISIONS = 30
WORKERS = (1, 2, 4, 8)
TARGET_EXTRA_WORKER = 1 / 3
TARGET_SPEEDUP = 3.0
REVISION = '''"""Table {n}."""

import sqlalchemy as sa
from alembic import op

revision = "{n:04d}"
down_revision = "{previous:04d}"


def upgrade() -> None:
    op.create_table(
        "table_{n}",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created", sa.DateTime(), server_default=sa.func.now()),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("items.id")),
    )
    op.create_index("ix_table_{n}_name", "table_{n}", ["name"])


def downgrade() -> None:
    op.drop_table("table_{n}")
'''


def _harness(directory: Path, revisions: int) -> tuple[ModuleType, ModuleType]:
    """The generated harness's migrations and lifecycle modules, imported."""
    template = copy_template(directory / "template")
    project = render(
        template,
        directory / "project",
        {"async_db": "postgresql", "migrations": "alembic"},
        skip_tasks=True,
    )
    versions = project / "migrations" / "versions"
    for n in range(2, revisions + 1):
        (versions / f"{n:04d}_table.py").write_text(
            REVISION.format(n=n, previous=n - 1)
        )
    # The project's own `tests` package and its src/ layout, ahead of anything.
    sys.path[:0] = [str(project), str(project / "src")]
    return (
        importlib.import_module("tests.harness.migrations"),
        importlib.import_module("tests.harness.postgresql_lifecycle"),
    )


def _quiet(_message: str) -> None:
    pass


async def _upgrade_in_each(
    migrations: ModuleType, lifecycle: ModuleType, server: URL, workers: int
) -> float:
    started = time.perf_counter()
    async with AsyncExitStack() as stack:
        for worker in range(workers):
            url = server.set(database=f"{server.database}_gw{worker}")
            await stack.enter_async_context(
                lifecycle.created_database(url, server.database, _quiet)
            )
            await migrations.migrate_to_head(url)
        return time.perf_counter() - started


async def _one_upgrade_copied(
    migrations: ModuleType, lifecycle: ModuleType, server: URL, workers: int
) -> float:
    # As under xdist: without it, the harness migrates its one database in place.
    os.environ["PYTEST_XDIST_WORKER"] = "gw0"
    started = time.perf_counter()
    async with AsyncExitStack() as stack:
        template = await stack.enter_async_context(
            lifecycle.migrated_template(
                server, migrations.fingerprint(), migrations.migrate_to_head, _quiet
            )
        )
        for worker in range(workers):
            url = server.set(database=f"{server.database}_gw{worker}")
            await stack.enter_async_context(
                lifecycle.created_database(url, server.database, _quiet, template)
            )
        elapsed = time.perf_counter() - started
    del os.environ["PYTEST_XDIST_WORKER"]
    return elapsed


def _label(workers: int, way: str) -> str:
    return f"{workers} worker{'s' if workers > 1 else ''}: {way}"


def _measure(quick: bool, size: str) -> Result:
    result = Result("migrations", "Migrations: every worker's schema, per test run")
    revisions, workers, repeats = (
        (3, (1, 2), 1) if quick else (REVISIONS, WORKERS, 1 if size == "small" else 3)
    )
    with tempfile.TemporaryDirectory(prefix="bench-migrations-") as scratch:
        work = Path(scratch).resolve()
        migrations, lifecycle = _harness(work, revisions)
        server_module = importlib.import_module("tests.harness.postgres_server")
        run = Path(tempfile.mkdtemp(dir=work))
        directory = server_module.server_directory(run)
        lock = run / "embedded-postgres.lock"
        server = make_url(server_module.join_server(directory, lock))
        try:
            times: dict[str, list[float]] = {}
            for _ in range(repeats):
                for count in workers:
                    for way, measure in (
                        ("upgrade head in each", _upgrade_in_each),
                        ("one upgrade, a copy each", _one_upgrade_copied),
                    ):
                        seconds = asyncio.run(
                            measure(migrations, lifecycle, server, count)
                        )
                        times.setdefault(_label(count, way), []).append(seconds)
        finally:
            server_module.leave_server(directory, lock)
    for count in workers:
        reference = _label(count, "upgrade head in each")
        result.add(reference, statistics.median(times[reference]))
        copied = _label(count, "one upgrade, a copy each")
        result.add(copied, statistics.median(times[copied]), reference)
    most, fewest = max(workers), min(workers)
    copied = [
        result.seconds(_label(n, "one upgrade, a copy each")) for n in (most, fewest)
    ]
    upgrading = result.seconds(_label(most, "upgrade head in each"))
    # What each worker beyond the first adds, against a worker that upgrades.
    extra = (copied[0] - copied[1]) / (most - fewest) / (upgrading / most)
    speedup = upgrading / copied[0]
    result.check(
        f"each worker beyond the first adds under {TARGET_EXTRA_WORKER:.2f}x of "
        f"what a worker upgrading its own database costs (measured {extra:.2f}x)",
        extra <= TARGET_EXTRA_WORKER,
    )
    result.check(
        f"at {most} workers, at least {TARGET_SPEEDUP:.0f}x cheaper than upgrading "
        f"in each (measured {speedup:.1f}x)",
        speedup >= TARGET_SPEEDUP,
    )
    result.notes.append(
        f"a history of {revisions} revisions, each a table with an index and a "
        "foreign key; the workers' databases are created one after the other, "
        "so each row is the whole run's cost; a copy costs about the same "
        "however long the history grows; a run without xdist migrates its one "
        "database in place (the first row)"
    )
    return result


def run(quick: bool, size: str = "full") -> list[Result]:
    return [_measure(quick, size)]
