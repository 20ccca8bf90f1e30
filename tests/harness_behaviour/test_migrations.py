"""migrations=alembic: the rendered migration tests fail when the migrations are
broken, naming what is wrong; the test schema is migrated once per run however
many workers there are, in a template database the harness marks, refuses,
rebuilds and drops like its other databases."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from adoption import adopt
from rendering import (
    EXISTING_APPS,
    admin,
    assert_suite_passes,
    database_url_for,
    harness_variable,
    outcome_counts,
    rendered_once,
    run_suite,
    suite_environment,
)
from sqlalchemy import make_url

SQLITE = {"async_db": "sqlite", "migrations": "alembic"}
POSTGRESQL = {"async_db": "postgresql", "migrations": "alembic"}
MIGRATION_TESTS = "tests/test_migrations.py"
# What the harness writes in its databases' comments (postgresql_lifecycle.py).
MARKER = "Created by the fastapi-harness test suite"
BUILT_FROM = "; schema built from migrations "
# Adopted, the harness is the package fastapi_harness in tests/harness/.
ADOPTED_MIGRATIONS_MODULE = "tests/harness/fastapi_harness/migrations.py"


def revision(revision: str, down: str, upgrade: str, downgrade: str = "pass") -> str:
    return textwrap.dedent(
        f'''\
        """A revision added by the test."""

        import os
        from pathlib import Path

        import sqlalchemy as sa
        from alembic import op

        revision = "{revision}"
        down_revision = "{down}"


        def upgrade() -> None:
            {upgrade}


        def downgrade() -> None:
            {downgrade}
        '''
    )


def add_revisions(project: Path, **sources: str) -> list[Path]:
    paths = [project / "migrations/versions" / f"{name}.py" for name in sources]
    for path, source in zip(paths, sources.values(), strict=True):
        path.write_text(source)
    return paths


def failure_output(project: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = run_suite(project, MIGRATION_TESTS, *args, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    return output


sqlite_project = rendered_once("sqlite_project", SQLITE)
postgresql_project = rendered_once("postgresql_project", POSTGRESQL)


def test_a_second_head_fails_the_one_head_test_naming_both(
    sqlite_project: Path,
) -> None:
    added = add_revisions(
        sqlite_project,
        b_0002=revision("0002b", "0001", "pass"),
        a_0002=revision("0002a", "0001", "pass"),
    )
    try:
        output = failure_output(sqlite_project, "-k", "one_head")
    finally:
        for path in added:
            path.unlink()

    assert "The migrations have 2 heads (0002a, 0002b)" in output
    assert "alembic merge heads" in output


def test_a_downgrade_leaving_a_table_fails_naming_it(sqlite_project: Path) -> None:
    added = add_revisions(
        sqlite_project,
        notes_0002=revision(
            "0002", "0001", 'op.create_table("notes", sa.Column("id", sa.Integer))'
        ),
    )
    try:
        output = failure_output(sqlite_project, "-k", "upgrades_and_downgrades")
    finally:
        added[0].unlink()

    assert "Downgrading to base left tables behind: ['notes']" in output


def test_a_model_column_without_a_migration_fails_naming_it(
    postgresql_project: Path, postgres_server: None
) -> None:
    models = postgresql_project / "src/my_service/models.py"
    original = models.read_text()
    models.write_text(
        original + "    colour: Mapped[str | None] = mapped_column(String(20))\n"
    )
    env = suite_environment(
        postgresql_project, TEST_DATABASE_URL=database_url_for("drift")
    )
    try:
        output = failure_output(postgresql_project, "-k", "match", env=env)
    finally:
        models.write_text(original)

    assert "column items.colour: in the models, not in the migrated schema" in output
    assert 'uv run pytest --new-migration "..."' in output


SUPPLIER_MODEL = """

class Supplier(Base):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
"""


def test_a_model_without_its_migration_fails_once_naming_the_fix(
    sqlite_project: Path,
) -> None:
    """The whole suite, with a new model and no migration for it: one failure,
    the test that names the table and the command to run, and nothing else."""
    models = sqlite_project / "src/my_service/models.py"
    original = models.read_text()
    models.write_text(original + SUPPLIER_MODEL)
    try:
        result = run_suite(sqlite_project)
    finally:
        models.write_text(original)

    output = result.stdout + result.stderr
    counts = outcome_counts(result.stdout)
    assert counts.get("failed") == 1, output
    assert not {"error", "errors"} & counts.keys(), output
    assert counts.get("passed", 0) >= 10, output
    failed = (
        "FAILED tests/test_migrations.py::test_the_models_match_the_migrated_schema"
    )
    assert failed in output
    assert "table suppliers: in the models, not in the migrated schema" in output
    assert 'Write the migration: `uv run pytest --new-migration "..."`' in output


def test_an_autogenerated_revision_passes_the_projects_ruff(
    sqlite_project: Path,
) -> None:
    """TESTING.md's commands, on a fresh checkout: migrate the default SQLite
    database, change a model, autogenerate; alembic.ini's hooks leave the
    revision as the project's CI checks it (fixed and formatted)."""
    models = sqlite_project / "src/my_service/models.py"
    original = models.read_text()
    versions = sqlite_project / "migrations/versions"
    before = set(versions.glob("*.py"))
    env = suite_environment(sqlite_project)
    # As `uv run` does: the project's environment's scripts (ruff) on PATH.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    alembic = [sys.executable, "-m", "alembic"]
    try:
        subprocess.run(
            [*alembic, "upgrade", "head"], cwd=sqlite_project, env=env, check=True
        )
        models.write_text(
            original + "    colour: Mapped[str | None] = mapped_column(String(20))\n"
        )
        subprocess.run(
            [*alembic, "revision", "--autogenerate", "-m", "Items get a colour"],
            cwd=sqlite_project,
            env=env,
            check=True,
        )
        (written,) = set(versions.glob("*.py")) - before
        source = written.read_text()
        checked = [
            subprocess.run(
                [sys.executable, "-m", "ruff", *command, str(written)],
                cwd=sqlite_project,
                capture_output=True,
                text=True,
                check=False,
            )
            for command in (["check"], ["format", "--check"])
        ]
    finally:
        models.write_text(original)
        for path in set(versions.glob("*.py")) - before:
            path.unlink()
        (sqlite_project / "my_service.db").unlink(missing_ok=True)

    assert "batch_op.add_column(" in source, source
    assert "colour" in source, source
    for result in checked:
        assert result.returncode == 0, result.stdout + result.stderr + source


def test_a_migration_is_written_with_no_development_database(
    postgresql_project: Path, postgres_server: None
) -> None:
    """`pytest --new-migration` on PostgreSQL, no DATABASE_URL: autogenerate
    against a database of its own at head on the tests' server; the revision
    passes ruff and the suite, and nothing is left on the server."""
    models = postgresql_project / "src/my_service/models.py"
    original = models.read_text()
    versions = postgresql_project / "migrations/versions"
    before = set(versions.glob("*.py"))
    url = database_url_for("autogenerate")
    base = make_url(url).database or ""
    env = suite_environment(postgresql_project, TEST_DATABASE_URL=url)
    env.pop("DATABASE_URL", None)
    # As `uv run` does: the project's environment's scripts (ruff) on PATH.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    try:
        models.write_text(original + SUPPLIER_MODEL)
        made = run_suite(postgresql_project, "--new-migration", "Suppliers", env=env)
        written = sorted(set(versions.glob("*.py")) - before)
        source = written[0].read_text() if written else ""
        checked = [
            subprocess.run(
                [sys.executable, "-m", "ruff", *command, *map(str, written)],
                cwd=postgresql_project,
                capture_output=True,
                text=True,
                check=False,
            )
            for command in (["check"], ["format", "--check"])
        ]
        suite = run_suite(postgresql_project, MIGRATION_TESTS, env=env)
    finally:
        models.write_text(original)
        for path in set(versions.glob("*.py")) - before:
            path.unlink()

    assert made.returncode == 0, made.stdout + made.stderr
    assert len(written) == 1, written
    assert "op.create_table(" in source, source
    assert '"suppliers"' in source, source
    for result in checked:
        assert result.returncode == 0, result.stdout + result.stderr + source
    assert_suite_passes(suite, at_least=3)
    assert databases_named(base) == set()


def assert_ruff_clean_harness(project: Path) -> None:
    """The adopted migrations module, under a new service's ruff rules."""
    rules = ["--isolated", "--line-length", "88", "--target-version", "py311"]
    checks = (
        ["check", "--select", "E,W,F,I,B,UP,SIM,ASYNC,PT,RUF", *rules],
        ["format", "--check", *rules],
    )
    for args in checks:
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *args, ADOPTED_MIGRATIONS_MODULE],
            cwd=project,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def databases_named(base: str) -> set[str]:
    return {
        row["datname"]
        for row in admin("SELECT datname FROM pg_database")
        if row["datname"].startswith(base)
    }


def test_postgresql_migrates_once_per_run_whatever_the_workers(
    postgresql_project: Path, postgres_server: None, tmp_path: Path
) -> None:
    """Two workers, one `alembic upgrade head`: a revision logs each run of it.

    A killed run's template, built from other migrations, is rebuilt, not used;
    everything the run created is gone afterwards."""
    url = database_url_for("once")
    base = make_url(url).database or ""
    log = tmp_path / "upgrades.log"
    added = add_revisions(
        postgresql_project,
        logged_0002=revision(
            "0002",
            "0001",
            'with Path(os.environ["UPGRADE_LOG"]).open("a") as log:'
            ' log.write("upgrade\\n")',
        ),
    )
    admin(f'CREATE DATABASE "{base}_tpl"')
    admin(f"COMMENT ON DATABASE \"{base}_tpl\" IS '{MARKER}{BUILT_FROM}0000'")
    env = suite_environment(
        postgresql_project, TEST_DATABASE_URL=url, UPGRADE_LOG=str(log)
    )
    try:
        result = run_suite(
            postgresql_project, "-n", "2", "tests/test_items.py", env=env
        )
    finally:
        added[0].unlink()

    assert_suite_passes(result, at_least=8)
    assert log.read_text() == "upgrade\n"
    assert databases_named(base) == set()


def test_refuses_a_template_database_the_harness_did_not_create(
    postgresql_project: Path, postgres_server: None
) -> None:
    url = database_url_for("foreign_tpl")
    base = make_url(url).database or ""
    admin(f'CREATE DATABASE "{base}_tpl"')
    env = suite_environment(postgresql_project, TEST_DATABASE_URL=url)
    try:
        result = run_suite(
            postgresql_project, "-n", "2", "tests/test_items.py", env=env
        )
        assert databases_named(base) == {f"{base}_tpl"}
    finally:
        admin(f'DROP DATABASE "{base}_tpl"')

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"Refusing to drop database '{base}_tpl'" in output


# ── Adopting: the schema from the project's own migrations ────────────────────
DEPOT = EXISTING_APPS / "alembic_app"
DEPOT_ANSWERS = {
    "app_import": "depot.main:app",
    "async_db": "postgresql",
    "db_session_dependency": "depot.database:get_session",
    "db_metadata": "depot.models:Base",
    "alembic_config": "alembic.ini",
}
# The CHECK constraint is the migration's alone: create_all would not refuse.
DEPOT_TEAM_TESTS = """\
import pytest
from sqlalchemy.exc import IntegrityError

from depot.models import Stock

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_stock_added_through_the_api_is_listed(db_session, async_client):
    await async_client.post("/stock", json={"sku": "bolt", "quantity": 3})

    assert (await async_client.get("/stock")).json() == ["bolt"]


async def test_the_migrated_schema_refuses_negative_stock(db_session):
    db_session.add(Stock(sku="nut", quantity=-1))

    with pytest.raises(IntegrityError, match="stock_never_below_zero"):
        await db_session.flush()
"""


@pytest.fixture
def depot(template: Path, tmp_path: Path) -> Path:
    project = tmp_path / "depot"
    shutil.copytree(DEPOT, project)
    adopt(template, project, DEPOT_ANSWERS)
    (project / "tests" / "test_stock.py").write_text(DEPOT_TEAM_TESTS)
    return project


def test_adopted_harness_builds_the_schema_with_the_projects_migrations(
    depot: Path, postgres_server: None, tmp_path: Path
) -> None:
    assert_ruff_clean_harness(depot)
    url = database_url_for("depot")
    # Where an embedded server would keep its data, had the harness not read
    # the server named here.
    temp = tmp_path / "temp"
    temp.mkdir()
    env = suite_environment(
        depot,
        TMPDIR=str(temp),
        **{harness_variable(depot, "TEST_DATABASE_URL"): url},
        # The app's own URL: never migrated, never connected to.
        DATABASE_URL="postgresql+asyncpg://127.0.0.1:1/depot",
    )

    result = run_suite(depot, "-n", "2", env=env)

    # Its own test, the two smoke tests and the team's two.
    assert outcome_counts(result.stdout) == {"passed": 5}, result.stdout + result.stderr
    assert not list(temp.glob("embedded-postgres-*")), "it ran on its own server"
    assert databases_named(make_url(url).database or "") == set()


def test_an_env_py_migrating_another_database_fails_saying_so(
    depot: Path, postgres_server: None, tmp_path: Path
) -> None:
    env_py = depot / "migrations" / "env.py"
    elsewhere = f"sqlite+aiosqlite:///{tmp_path / 'elsewhere.db'}"
    env_py.write_text(
        env_py.read_text().replace(
            "config.get_section(config.config_ini_section, {}),",
            f'{{"sqlalchemy.url": "{elsewhere}"}},',
        )
    )
    env = suite_environment(
        depot, HARNESS_TEST_DATABASE_URL=database_url_for("elsewhere")
    )

    result = run_suite(depot, "tests/test_stock.py", env=env)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "env.py migrated another database" in output
    assert 'config.get_main_option("sqlalchemy.url")' in output
