"""The async database: the rendered service's items, `db_session` isolation, the
PostgreSQL test database lifecycle and its refusals, and the files that bring up
the servers (compose.yaml, the CI workflow)."""

import asyncio
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import yaml
from rendering import (
    assert_ruff_clean,
    assert_suite_passes,
    database_url_for,
    outcome_counts,
    postgres_server_url,
    render,
    rendered_once,
    run_suite,
    suite_environment,
    template_test_worker,
)
from sqlalchemy import make_url

SQLITE_ANSWERS = {"async_db": "sqlite", "concurrency": True, "asyncio_mode": "strict"}
POSTGRESQL_ANSWERS = {"async_db": "postgresql", "concurrency": True}
# In URLs, to check that no message prints it (the server trusts, ignoring it).
PASSWORD = "s3cr3t-pw"
LOOP_ERRORS = (
    "attached to a different loop",
    "another operation is in progress",
    "Event loop is closed",
)


def on_server(sql: str) -> list[asyncpg.Record]:
    async def query() -> list[asyncpg.Record]:
        server = postgres_server_url().set(drivername="postgresql", database="postgres")
        connection = await asyncpg.connect(server.render_as_string(hide_password=False))
        try:
            return await connection.fetch(sql)
        finally:
            await connection.close()

    return asyncio.run(query())


def existing_databases() -> set[str]:
    return {row["datname"] for row in on_server("SELECT datname FROM pg_database")}


@pytest.fixture
def not_a_test_database(postgres_server: None) -> Iterator[str]:
    """A database outside the test run's own (the app's): the refusal must
    leave it alone."""
    name = f"harness_app_w{template_test_worker()}"
    on_server(f'DROP DATABASE IF EXISTS "{name}"')
    on_server(f'CREATE DATABASE "{name}"')
    yield name
    on_server(f'DROP DATABASE IF EXISTS "{name}"')


def add_test_file(project: Path, name: str, source: str) -> None:
    (project / "tests" / name).write_text(textwrap.dedent(source))


sqlite_project = rendered_once("sqlite_project", SQLITE_ANSWERS)


@pytest.fixture(scope="module")
def postgresql_project(
    template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    project = render(
        template, tmp_path_factory.mktemp("postgresql") / "svc", POSTGRESQL_ANSWERS
    )
    # Each xdist worker of the generated suite reports the database it uses.
    add_test_file(
        project,
        "test_which_database.py",
        """\
        import os

        from sqlalchemy import make_url


        def test_each_worker_has_a_database_of_its_own(test_database_url: str) -> None:
            name = make_url(test_database_url).database
            worker = os.environ.get("PYTEST_XDIST_WORKER")
            assert name == os.environ["EXPECTED_DATABASE"] + (
                f"_{worker}" if worker else ""
            )
        """,
    )
    return project


def test_sqlite_project_is_lint_clean_and_passes_with_two_workers(
    sqlite_project: Path,
) -> None:
    assert_ruff_clean(sqlite_project)
    # Items tests (validation, db_session, 50 concurrent creates) on each worker's
    # own SQLite file.
    assert_suite_passes(run_suite(sqlite_project, "-n", "2"), at_least=15)


def test_a_routers_parameter_says_a_dependency_hands_out_a_sessionmaker(
    sqlite_project: Path, tmp_path: Path
) -> None:
    """Most apps keep their routes in routers, and from FastAPI 0.137 on an
    included router is one entry of app.routes: the types its routes declare
    still tell db_session what the app's dependency hands out."""
    project = tmp_path / "svc"
    shutil.copytree(sqlite_project, project)
    add_test_file(
        project,
        "test_routers_types.py",
        """\
        from typing import Annotated

        from fastapi import APIRouter, Depends, FastAPI, Request
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

        from tests.harness.database import hands_out_a_sessionmaker


        async def from_the_state(request: Request):
            # Nothing here says what it is: the route's parameter does.
            yield request.app.state.factory


        def test_the_type_a_nested_routers_route_declares_is_read():
            jars = APIRouter()

            @jars.get("/")
            async def shelf(
                factory: Annotated[
                    async_sessionmaker[AsyncSession], Depends(from_the_state)
                ],
            ):
                return []

            api = APIRouter(prefix="/api")
            api.include_router(jars, prefix="/jars")
            app = FastAPI()
            app.include_router(api)

            assert hands_out_a_sessionmaker(from_the_state, app)
            assert not hands_out_a_sessionmaker(from_the_state, FastAPI())
        """,
    )

    result = run_suite(project, "tests/test_routers_types.py", "-p", "no:xdist")

    assert outcome_counts(result.stdout) == {"passed": 1}, result.stdout


def test_postgresql_suite_creates_and_drops_a_database_per_worker(
    postgresql_project: Path, postgres_server: None
) -> None:
    url = database_url_for("per_worker")
    base = make_url(url).database
    env = suite_environment(
        postgresql_project,
        TEST_DATABASE_URL=url,
        EXPECTED_DATABASE=base or "",
        # Never read by the tests: if it were, every request would fail.
        DATABASE_URL="postgresql+asyncpg://127.0.0.1:1/production",
    )

    assert_suite_passes(run_suite(postgresql_project, "-n", "2", env=env), at_least=15)

    assert not {base, f"{base}_gw0", f"{base}_gw1"} & existing_databases()


def test_postgresql_suite_passes_serially(
    postgresql_project: Path, postgres_server: None
) -> None:
    url = database_url_for("serial")
    env = suite_environment(
        postgresql_project,
        TEST_DATABASE_URL=url,
        EXPECTED_DATABASE=make_url(url).database or "",
    )

    assert_suite_passes(run_suite(postgresql_project, env=env), at_least=15)


def test_refuses_a_database_not_marked_for_tests(
    postgresql_project: Path, not_a_test_database: str
) -> None:
    url = (
        postgres_server_url()
        .set(database=not_a_test_database, password=PASSWORD)
        .render_as_string(hide_password=False)
    )
    env = suite_environment(postgresql_project, TEST_DATABASE_URL=url)

    result = run_suite(postgresql_project, "-n", "2", "tests/test_items.py", env=env)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "passed" not in outcome_counts(result.stdout), output
    assert (
        f"Refusing to use database '{not_a_test_database}' from TEST_DATABASE_URL"
        in output
    )
    assert PASSWORD not in output
    databases = existing_databases()
    assert not_a_test_database in databases
    assert not {f"{not_a_test_database}_gw0", f"{not_a_test_database}_gw1"} & databases


def test_unreachable_server_names_test_database_url_and_how_to_start_one(
    postgresql_project: Path,
) -> None:
    # Port 1 on localhost: nothing listens there.
    env = suite_environment(
        postgresql_project,
        TEST_DATABASE_URL=f"postgresql+asyncpg://postgres:{PASSWORD}@127.0.0.1:1/svc_test",
    )

    result = run_suite(postgresql_project, "tests/test_items.py", env=env)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Cannot reach the PostgreSQL server for the tests at 127.0.0.1:1" in output
    assert "docker compose up -d postgres" in output
    assert "TEST_DATABASE_URL" in output
    assert "postgres:***@127.0.0.1:1" in output
    assert PASSWORD not in output


# The pattern the harness replaces: a session made on the tests' event loop,
# handed to an app that TestClient serves on its own loop in another thread.
NAIVE_SHARED_SESSION_TEST = """\
    import pytest_asyncio
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from my_service.db import get_session


    @pytest_asyncio.fixture(loop_scope="session")
    async def session_on_the_test_loop(test_database_url: str):
        engine = create_async_engine(test_database_url)
        async with engine.connect() as connection:
            async with AsyncSession(bind=connection) as session:
                await session.connection()
                yield session
        await engine.dispose()


    def test_naive_shared_session_with_testclient(
        client: TestClient, app: FastAPI, session_on_the_test_loop: AsyncSession
    ) -> None:
        app.dependency_overrides[get_session] = lambda: session_on_the_test_loop

        assert client.get("/items").status_code == 200
    """


def test_naive_testclient_shared_session_breaks_where_the_harness_works(
    postgresql_project: Path, postgres_server: None
) -> None:
    add_test_file(
        postgresql_project, "test_naive_shared_session.py", NAIVE_SHARED_SESSION_TEST
    )
    url = database_url_for("loop_bug")
    env = suite_environment(
        postgresql_project,
        TEST_DATABASE_URL=url,
        EXPECTED_DATABASE=make_url(url).database or "",
    )
    try:
        result = run_suite(
            postgresql_project,
            "tests/test_naive_shared_session.py",
            "tests/test_items.py",
            "-rfE",
            env=env,
        )
    finally:
        (postgresql_project / "tests" / "test_naive_shared_session.py").unlink()

    output = result.stdout + result.stderr
    failures = [
        line
        for line in result.stdout.splitlines()
        if line.startswith(("FAILED", "ERROR"))
    ]
    # The naive test fails, with one of asyncpg's event-loop errors ...
    assert any("test_naive_shared_session.py" in line for line in failures), output
    assert any(error in output for error in LOOP_ERRORS), output
    # ... while the harness's tests, db_session ones included, pass in that run.
    assert not [line for line in failures if "test_items.py" in line], output
    assert outcome_counts(result.stdout).get("passed", 0) >= 8, output


@pytest.mark.parametrize(
    ("answers", "compose_services", "ci_env"),
    [
        ({"async_db": "none"}, None, set()),
        ({"async_db": "sqlite"}, None, set()),
        ({"async_db": "postgresql"}, {"postgres"}, {"TEST_DATABASE_URL"}),
        ({"cache": "redis"}, {"redis"}, {"TEST_REDIS_URL"}),
        (
            {"async_db": "postgresql", "cache": "redis"},
            {"postgres", "redis"},
            {"TEST_DATABASE_URL", "TEST_REDIS_URL"},
        ),
    ],
    ids=["no-db", "sqlite", "postgresql", "redis", "postgresql-redis"],
)
def test_compose_and_ci_workflow_bring_up_the_servers_the_answers_need(
    template: Path,
    tmp_path: Path,
    answers: dict[str, str],
    compose_services: set[str] | None,
    ci_env: set[str],
) -> None:
    project = render(template, tmp_path / "svc", answers)

    compose = project / "compose.yaml"
    if compose_services is None:
        assert not compose.exists()
    else:
        assert set(yaml.safe_load(compose.read_text())["services"]) == compose_services
    job = yaml.safe_load((project / ".github/workflows/tests.yml").read_text())["jobs"][
        "tests"
    ]
    assert set(job.get("services", {})) == (compose_services or set())
    # The servers' URLs, and only those the answers need (other settings,
    # e.g. uv's, may sit beside them).
    assert {name for name in job.get("env", {}) if name.startswith("TEST_")} == ci_env
    commands = [step.get("run") for step in job["steps"]]
    assert {"uv sync", "uv run pytest -n auto --cov --cov-report="} <= set(commands)
    assert any(
        step.get("uses", "").startswith("astral-sh/setup-uv") for step in job["steps"]
    )
    if "TEST_DATABASE_URL" in ci_env:
        # Only the server: the harness names the database after the checkout.
        assert not make_url(job["env"]["TEST_DATABASE_URL"]).database
