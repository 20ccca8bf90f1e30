"""migrations=alembic: the rendered migration tests fail when the migrations are
broken, naming what is wrong; the test schema is migrated once per run however
many workers there are, in a template database the harness marks, refuses,
rebuilds and drops like its other databases."""

import textwrap
from pathlib import Path

import pytest
from rendering import (
    assert_suite_passes,
    database_url_for,
    postgres_server_url,
    render,
    run_suite,
    suite_environment,
)
from sqlalchemy import make_url
from test_data_safety import admin

SQLITE = {"async_db": "sqlite", "migrations": "alembic"}
POSTGRESQL = {"async_db": "postgresql", "migrations": "alembic"}
MIGRATION_TESTS = "tests/test_migrations.py"
# What the harness writes in its databases' comments (postgresql_lifecycle.py).
MARKER = "Created by the fastapi-harness test suite"
BUILT_FROM = "; schema built from migrations "


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


@pytest.fixture(scope="module")
def sqlite_project(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(template, tmp_path_factory.mktemp("sqlite") / "svc", SQLITE)


@pytest.fixture(scope="module")
def postgresql_project(
    template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return render(template, tmp_path_factory.mktemp("postgresql") / "svc", POSTGRESQL)


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
    assert "alembic revision --autogenerate" in output


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
            'with Path(os.environ["UPGRADE_LOG"]).open("a") as log: log.write("upgrade\\n")',
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
        result = run_suite(postgresql_project, "tests/test_items.py", env=env)
        assert databases_named(base) == {f"{base}_tpl"}
    finally:
        admin(f'DROP DATABASE "{base}_tpl"')

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"Refusing to drop database '{base}_tpl'" in output


@pytest.fixture
def postgres_server() -> None:
    """The machine's server, or an embedded one started for the run."""
    postgres_server_url()
