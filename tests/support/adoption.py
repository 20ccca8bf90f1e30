"""The example projects adoption is tested on (tests/existing_apps/), and how a
test adopts the harness into one, runs its suites and reads the result.

Each layout is a small project a team already has, with tests of its own
(LAYOUTS); tests in tests/adoption/ and elsewhere copy one, adopt the harness
and check what a team would see.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import copier
import team_tests
from harness_template_hooks import project_survey
from rendering import (
    HARNESS_ANSWERS_FILE,
    HOOKS,
    database_url_for,
    install_own_pins,
    outcome_counts,
    private_redis_url,
    redis_url_for_generated_suites,
    run_suite,
    suite_environment,
)
from rendering import run_own_suite as run_in_own_environment

# Paths an adoption may add; of these, only the last two may already exist.
HARNESS_OWNED = re.compile(r"(.+/)?tests/(harness/.*|test_harness_smoke\.py)")


MERGED_INTO = (
    "pyproject.toml",
    "tests/conftest.py",
    "pytest.ini",
    "pytest.toml",
    "setup.cfg",
    "tox.ini",
)


NOT_SNAPSHOTTED = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"}


@dataclass(frozen=True)
class Layout:
    answers: dict[str, Any]
    own_tests: tuple[str, ...]
    async_client: bool = False
    # Tests the team adds after adopting (team_tests.py): path -> source.
    added_tests: dict[str, str] = field(default_factory=dict)
    # A test the harness must stop: path -> (source, what its error says).
    refused_tests: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    # Answers adopting must have chosen (the fitting defaults).
    chosen: dict[str, Any] = field(default_factory=dict)
    # The directory under existing_apps/ when another layout's app is adopted
    # with other answers (empty: the layout's name).
    source: str = ""
    # Its suites run in its own .venv, installed from its pins (old releases
    # this test environment does not have), before and after adopting.
    own_environment: bool = False
    # Where the harness's requirements must land (DependencyHome.where()).
    dependency_home: str = ""
    # Where the project's tests live, and so the harness.
    tests_dir: str = "tests"
    # The app's own tests use a Redis of their own (TEST_REDIS_URL), which they
    # FLUSHALL: a server started for them alone.
    own_redis: bool = False
    # The variable the app reads its Redis URL from, defaulting to the
    # developer's `redis://localhost:6379/0`: every run here points it at a
    # server of its own, so no run reaches the machine's Redis.
    app_redis_variable: str = ""

    @property
    def smoke_test(self) -> str:
        return f"{self.tests_dir}/test_harness_smoke.py"

    def smoke_tests(self) -> list[str]:
        smoke = [f"{self.smoke_test}::test_client_serves_the_app"]
        if self.async_client:
            smoke.append(f"{self.smoke_test}::test_async_client_serves_the_app")
        return smoke

    def own_variables(self) -> dict[str, str]:
        """What the project's own tests need set, as its CI sets it."""
        variables = {}
        if self.app_redis_variable:
            variables[self.app_redis_variable] = private_redis_url("the apps")
        if self.own_redis:
            variables["TEST_REDIS_URL"] = private_redis_url("a project's own tests")
        return variables

    def added_tests_ids(self) -> set[str]:
        """Each test the team added, as `path::name` (`path::Class::name` in a
        test class)."""
        ids = set()
        for path, source in self.added_tests.items():
            for node in ast.parse(source).body:
                if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                    ids |= {
                        f"{path}::{node.name}::{method.name}"
                        for method in node.body
                        if isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef)
                        and method.name.startswith("test_")
                    }
                elif isinstance(
                    node, ast.FunctionDef | ast.AsyncFunctionDef
                ) and node.name.startswith("test_"):
                    ids.add(f"{path}::{node.name}")
        return ids

    def environment(self, project: Path, label: str) -> dict[str, str]:
        """The suite's environment: the real servers its answers need."""
        extra = self.own_variables()
        # The harness's own variables, clear of the project's (environment_prefix).
        if self.answers.get("async_db") == "postgresql":
            extra["HARNESS_TEST_DATABASE_URL"] = database_url_for(label)
        if self.answers.get("cache") == "redis":
            extra["HARNESS_TEST_REDIS_URL"] = redis_url_for_generated_suites()
        return suite_environment(project, **extra)

    def run(
        self, project: Path, *pytest_args: str, env: dict[str, str]
    ) -> subprocess.CompletedProcess[str]:
        """The project's whole suite, in the environment it runs in."""
        if self.own_environment:
            return run_in_own_environment(project, env, *pytest_args)
        return run_suite(project, *pytest_args, env=env)


LAYOUTS = {
    "flat": Layout(
        answers={"app_import": "main:app", "concurrency": True},
        own_tests=("tests/test_ping.py::test_ping",),
        async_client=True,
        added_tests={"tests/test_ping_with_the_harness.py": team_tests.FLAT},
    ),
    "src_routers": Layout(
        answers={"app_import": "shop.app:app", "websockets": True},
        own_tests=(
            "tests/test_items.py::test_known_item",
            "tests/test_items.py::test_echo_shouts_back",
        ),
        async_client=True,
        added_tests={"tests/test_items_with_the_harness.py": team_tests.SRC_ROUTERS},
    ),
    # An app factory whose lifespan opens a Redis client from GREETER_REDIS_URL;
    # the harness answered onto anyio.
    "factory": Layout(
        answers={
            "app_import": "greeter.main:create_app()",
            "concurrency": True,
            "async_runner": "anyio",
            "cache": "redis",
            "cache_dependency": "greeter.main:get_redis",
            "redis_url_env": "GREETER_REDIS_URL",
        },
        own_tests=(
            "tests/test_greet.py::test_greets_politely",
            "tests/test_greet.py::test_counts_each_visit",
        ),
        async_client=True,
        added_tests={"tests/test_greet_with_the_harness.py": team_tests.FACTORY},
        app_redis_variable="GREETER_REDIS_URL",
    ),
    # The same factory answered with the attribute its lifespan keeps the
    # Redis client on (`app.state.redis`): the harness puts the test's client
    # there, on instances whose lifespans run for the whole session.
    "factory_attribute": Layout(
        answers={
            "app_import": "greeter.main:create_app()",
            "concurrency": True,
            "async_runner": "anyio",
            "cache": "redis",
            "cache_attribute": "state.redis",
            "redis_url_env": "GREETER_REDIS_URL",
        },
        own_tests=(
            "tests/test_greet.py::test_greets_politely",
            "tests/test_greet.py::test_counts_each_visit",
        ),
        async_client=True,
        added_tests={"tests/test_greet_with_the_harness.py": team_tests.FACTORY},
        app_redis_variable="GREETER_REDIS_URL",
        source="factory",
    ),
    # pytest 9's native [tool.pytest] table: the settings go into it, never
    # into a second [tool.pytest.ini_options] that pytest refuses to start with.
    "pytest9_native": Layout(
        answers={"app_import": "notes.api:app", "concurrency": True},
        own_tests=(
            "tests/test_notes.py::test_a_note_can_be_read_back",
            "tests/test_notes.py::test_an_unknown_note_is_404",
            "tests/test_notes.py::test_many_notes",
        ),
        async_client=True,
        added_tests={"tests/test_notes_with_the_harness.py": team_tests.PYTEST9_NATIVE},
    ),
    # Async tests on anyio with their own function-scoped anyio_backend, as
    # FastAPI's docs write them: the harness runs on anyio too (the default that
    # fits), and pytest-asyncio is never brought in.
    "anyio_suite": Layout(
        answers={
            "app_import": "chat.main:app",
            "websockets": True,
            "concurrency": True,
        },
        own_tests=(
            "tests/test_messages.py::test_a_posted_message_is_listed",
            "tests/test_messages.py::test_messages_posted_at_once_are_all_kept",
            "tests/test_messages.py::test_an_empty_room",
            "tests/test_messages.py::test_the_app_has_a_title",
        ),
        async_client=True,
        added_tests={"tests/test_room_with_the_harness.py": team_tests.ANYIO_SUITE},
    ),
    # pytest-asyncio in its implicit strict mode, function-scoped fixture loops,
    # settings in setup.cfg's [tool:pytest]: the harness fits strict mode and
    # leaves the project's loop scopes alone.
    "strict_setup_cfg": Layout(
        answers={"app_import": "inventory.app:app", "concurrency": True},
        own_tests=(
            "tests/test_reserve.py::test_reserving_lowers_the_stock",
            "tests/test_reserve.py::test_concurrent_reservations_never_oversell",
            "tests/test_reserve.py::test_an_unknown_item_is_out_of_stock",
        ),
        async_client=True,
        added_tests={
            "tests/test_reserve_with_the_harness.py": team_tests.STRICT_SETUP_CFG
        },
    ),
    # pytest.ini whose testpaths leave tests/ out, requirements files with
    # pins; the team's tests stay in its test/.
    "pytest_ini": Layout(
        answers={"app_import": "app:app", "concurrency": True},
        own_tests=("test/test_status.py::test_status_is_up",),
        async_client=True,
        added_tests={"test/test_status_with_the_harness.py": team_tests.PYTEST_INI},
    ),
    # Requirements kept in src/requirements.txt and src/requirements-dev.txt,
    # a pyproject.toml holding tool settings only: the harness's requirements
    # are appended to the dev file, nothing goes into pyproject.toml.
    "src_requirements": Layout(
        answers={"app_import": "catalog.main:app", "concurrency": True},
        own_tests=(
            "tests/test_products.py::test_a_known_product",
            "tests/test_products.py::test_an_added_product_is_read_back",
            "tests/test_products.py::test_an_unknown_product_is_404",
        ),
        async_client=True,
        added_tests={"tests/test_products_with_the_harness.py": team_tests.CATALOG},
        dependency_home="src/requirements-dev.txt",
    ),
    # Test dependencies in a PEP 735 `test` group beside a `lint` one: the
    # harness's join them there, and no `dev` group appears.
    "pep735_groups": Layout(
        answers={"app_import": "journal.main:app", "concurrency": True},
        own_tests=(
            "tests/test_entries.py::test_an_entry_is_listed_under_its_day",
            "tests/test_entries.py::test_a_day_without_entries",
        ),
        async_client=True,
        added_tests={"tests/test_entries_with_the_harness.py": team_tests.JOURNAL},
        dependency_home="pyproject.toml [dependency-groups] test",
    ),
    # Poetry, its test dependencies in the dev group: the harness's join them
    # there, in Poetry's syntax.
    "poetry_dev_group": Layout(
        answers={"app_import": "helpdesk.main:app", "concurrency": True},
        own_tests=(
            "tests/test_tickets.py::test_an_opened_ticket_is_open",
            "tests/test_tickets.py::test_a_closed_ticket_is_closed",
        ),
        async_client=True,
        added_tests={"tests/test_tickets_with_the_harness.py": team_tests.HELPDESK},
        dependency_home="pyproject.toml [tool.poetry.group.dev.dependencies]",
    ),
    # The team's own `app`, `client` (an httpx.AsyncClient) and `db_session` in
    # tests/conftest.py: the harness's fixtures take the prefix harness_ (the
    # default that fits), and the project's keep their names and behaviour.
    # Its engine is built at import from TODO_DATABASE_URL.
    "own_fixtures": Layout(
        answers={
            "app_import": "todo.main:app",
            "async_db": "postgresql",
            "database_url_env": "TODO_DATABASE_URL",
            "db_session_dependency": "todo.db:get_session",
            "db_metadata": "todo.db:Base",
        },
        own_tests=(
            "tests/test_tasks.py::test_a_task_added_is_read_back",
            "tests/test_tasks.py::test_tasks_seeded_in_the_session_are_listed",
            "tests/test_tasks.py::test_an_unknown_task_is_404",
        ),
        async_client=True,
        added_tests={"tests/test_with_the_harness.py": team_tests.TODO},
        refused_tests={
            "tests/test_wrong_mix.py": (
                team_tests.TODO_WRONG_MIX,
                (
                    "uses `harness_client` together with loop-bound "
                    "`harness_db_session`",
                    "Fix: use `harness_async_client` instead of `harness_client`",
                ),
            )
        },
        chosen={"fixture_prefix": "harness_"},
    ),
    # Tables in a PostgreSQL schema; the engine built at import from
    # DATABASE_URL; no pytest-asyncio before adopting.
    "pg_schemas": Layout(
        answers={
            "app_import": "billing.main:app",
            "async_db": "postgresql",
            "database_url_env": "DATABASE_URL",
            "db_session_dependency": "billing.main:get_session",
            "db_metadata": "billing.models:Base",
            "concurrency": True,
        },
        own_tests=("tests/test_health.py::test_health",),
        async_client=True,
        added_tests={"tests/test_invoices.py": team_tests.BILLING},
    ),
    # Async SQLAlchemy and redis.asyncio behind the app's own dependency names,
    # opened by its lifespan, a WebSocket till that writes to the database;
    # strict pytest-asyncio and comments in pyproject.toml.
    "async_resources": Layout(
        answers={
            "app_import": "ledger.main:app",
            "websockets": True,
            "async_db": "postgresql",
            "db_session_dependency": "ledger.db:get_db",
            "db_metadata": "ledger.models:Model",
            "cache": "redis",
            "cache_dependency": "ledger.cache:get_redis",
            "asyncio_mode": "strict",
        },
        own_tests=(
            "tests/test_entries.py::test_added_entry_is_listed_and_counted",
            "tests/test_entries.py::test_the_till_records_each_message",
        ),
        async_client=True,
        added_tests={"tests/test_with_the_harness.py": team_tests.LEDGER},
        app_redis_variable="LEDGER_REDIS_URL",
    ),
    # Pinned exactly in Poetry tables, two years old: pytest 7.2, pytest-asyncio
    # 0.20 with the project's own session `event_loop`, httpx 0.23 (its tests
    # use `AsyncClient(app=app)`), FastAPI 0.95 on Starlette 0.26, SQLAlchemy
    # 2.0.0, asyncpg 0.27, redis-py 4.5, fakeredis 2.10. Adopting keeps every
    # pin: the harness runs on them.
    "poetry_old_stack": Layout(
        answers={
            "app_import": "depot.main:app",
            "async_db": "postgresql",
            "db_session_dependency": "depot.db:get_session",
            "db_metadata": "depot.models:Base",
            "cache": "redis",
            "cache_dependency": "depot.cache:get_redis",
            "concurrency": True,
        },
        own_tests=(
            "tests/test_depot.py::test_health",
            "tests/test_depot.py::test_deliveries_are_counted",
            "tests/test_depot.py::test_health_through_the_test_client",
        ),
        async_client=True,
        added_tests={"tests/test_with_the_harness.py": team_tests.DEPOT},
        app_redis_variable="DEPOT_REDIS_URL",
        chosen={"async_runner": "pytest-asyncio", "asyncio_mode": "strict"},
        own_environment=True,
    ),
    # Requirements files pinning pytest 7.4, pytest-asyncio 0.21 in auto mode,
    # httpx 0.24; a test class with its own class-scoped `event_loop`.
    "class_event_loop": Layout(
        answers={"app_import": "tally.app:app", "concurrency": True},
        own_tests=(
            "tests/test_polls.py::TestAPoll::test_a_vote_is_counted",
            "tests/test_polls.py::TestAPoll::test_the_count_is_kept_across_the_class",
            "tests/test_polls.py::test_an_unknown_poll_has_no_votes",
        ),
        async_client=True,
        added_tests={"tests/test_votes_with_the_harness.py": team_tests.TALLY},
        chosen={"async_runner": "pytest-asyncio", "asyncio_mode": "auto"},
        own_environment=True,
    ),
    # anyio 3.6's pytest plugin with a function-scoped `anyio_backend`, pytest
    # 7.3, httpx 0.24 and `AsyncClient(app=app)`: the harness on anyio 3.
    "anyio_old_stack": Layout(
        answers={"app_import": "shelf.main:app", "concurrency": True},
        own_tests=(
            "tests/test_books.py::test_a_book_is_read",
            "tests/test_books.py::test_an_unknown_book_is_404",
        ),
        async_client=True,
        added_tests={"tests/test_shelf_with_the_harness.py": team_tests.SHELF},
        chosen={"async_runner": "anyio"},
        own_environment=True,
    ),
    # Tests in a src/tests package (testpaths, pythonpath = src), a conftest
    # that star-imports the team's own `client` (which leaves its dependency
    # overrides on the app) and FLUSHALLs the Redis TEST_REDIS_URL names: the
    # harness goes into src/tests/harness/ and loads as fastapi_harness, reads
    # HARNESS_TEST_REDIS_URL, takes the prefix harness_, and its tests start
    # from the overrides they expect. The engine is built at import.
    "src_tests": Layout(
        answers={
            "app_import": "depot.main:app",
            "async_db": "sqlite",
            "db_session_dependency": "depot.db:get_db",
            "db_metadata": "depot.models:Base",
            "database_url_env": "DEPOT_DATABASE_URL",
            "cache": "redis",
            "cache_dependency": "depot.cache:get_redis",
            "concurrency": True,
        },
        own_tests=(
            "src/tests/test_parcels.py::test_a_parcel_added_is_listed",
            "src/tests/test_parcels.py::test_each_test_starts_with_no_parcels",
            "src/tests/test_parcels.py::test_scans_are_counted_in_redis",
        ),
        async_client=True,
        added_tests={"src/tests/test_with_the_harness.py": team_tests.SRC_TESTS},
        chosen={
            "fixture_prefix": "harness_",
            "tests_dir": "src/tests",
            "environment_prefix": "HARNESS_",
        },
        tests_dir="src/tests",
        own_redis=True,
    ),
}


def snapshot(project: Path) -> dict[str, bytes]:
    return {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file()
        and not NOT_SNAPSHOTTED.intersection(path.relative_to(project).parts)
        and path.suffix != ".db"
    }


def harness_owned(path: str) -> bool:
    return path == HARNESS_ANSWERS_FILE or bool(HARNESS_OWNED.fullmatch(path))


def merged_into(path: str) -> bool:
    """A file of the project's adopting may add lines to: a pytest
    configuration, tests/conftest.py, or where its dependencies are declared."""
    return path in MERGED_INTO or bool(
        re.search(r"(^|/)([^/]*requirements[^/]*|requirements/[^/]+)\.(txt|in)$", path)
    )


def adopt(
    template: Path,
    project: Path,
    answers: dict[str, Any],
    ref: str | None = None,
    *,
    scaffold: str = "adopt",
) -> None:
    """Adopt the harness into `project` with `answers`, as `copier copy` does.
    Versions before the answer was renamed take `scaffold="harness"`."""
    copier.run_copy(
        str(template),
        str(project),
        data={"scaffold": scaffold, **answers},
        vcs_ref=ref,
        defaults=True,
        overwrite=True,
        unsafe=True,
        quiet=True,
    )


def update_adopted(project: Path, ref: str = "2.0.0") -> None:
    """`copier update` an adopted project to `ref`, as its answers file is
    named for an adoption, every answer kept."""
    unattended = {"defaults": True, "overwrite": True, "unsafe": True, "quiet": True}
    copier.run_update(
        str(project), answers_file=HARNESS_ANSWERS_FILE, vcs_ref=ref, **unattended
    )


NO_ASYNC_ANSWERS = {
    "async_runner": "pytest-asyncio",
    "websockets": False,
    "concurrency": False,
    "async_db": "none",
    "cache": "none",
}


def passed_tests(output: str) -> set[str]:
    """The ids of the tests pytest -v reports PASSED, with or without xdist."""
    return {
        serial or parallel
        for serial, parallel in re.findall(
            r"^(\S+::\S+) PASSED|PASSED (\S+::\S+)", output, re.M
        )
    }


def install_pins(project: Path) -> dict[str, str]:
    """Install everything the project declares into its .venv; return the
    installed version of each package it declares with `==`."""
    declared = [d for d in project_survey.declarations(project) if d.name != "python"]
    install_own_pins(project, [d.text for d in declared], os.environ)
    installed = project_survey.installed_versions(project)
    return {d.name: installed[d.name] for d in declared if "==" in d.text}


def run_own_suite(
    project: Path, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The project's own suite as its team runs it, before adopting anything."""
    declared = project_survey.declared_requirements(project)
    plugins = [] if "pytest-asyncio" in declared else ["-p", "no:asyncio"]
    command = [sys.executable, "-m", "pytest", "-W", "error", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*command, *plugins],
        cwd=project,
        env=suite_environment(project, **(environment or {})),
        capture_output=True,
        text=True,
        timeout=600,
    )


def run_hook(project: Path, script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(HOOKS / script), *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


STRICT_ANSWERS = {
    "app_import": "app.main:app",
    "websockets": False,
    "needs_async_client": True,
    "async_runner": "pytest-asyncio",
    "asyncio_mode": "strict",
    "async_db": "none",
    "cache": "none",
}


def copier_in(project: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`copier ARGUMENTS`, run by this Python in `project` with no terminal to
    ask on: a question it asks fails it."""
    return subprocess.run(
        [sys.executable, "-m", "copier", *arguments],
        cwd=project,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


def copier_cli(
    template: Path, project: Path, *answers: str
) -> subprocess.CompletedProcess[str]:
    data = [arg for answer in answers for arg in ("-d", answer)]
    return subprocess.run(
        [
            *(sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "-q"),
            *("-d", "scaffold=adopt", *data, str(template), str(project)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def refused_output(template: Path, project: Path, *answers: str) -> str:
    """Copier's output, on one line, adopting into `project` with `answers`:
    the adoption must fail with nothing written."""
    before = snapshot(project)
    result = copier_cli(template, project, *answers)
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0, output
    assert snapshot(project) == before, "a file was written before the refusal"
    return output


SHOP_WITH_UNFIT_DEPENDENCIES = """\
from fastapi import Depends, FastAPI, Request
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

Sessions = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))
LegacySessions = sessionmaker(create_engine("sqlite://"))
# SQLAlchemy 1.4's async idiom: a sessionmaker that makes AsyncSessions.
AsyncLegacySessions = sessionmaker(
    create_async_engine("sqlite+aiosqlite://"), class_=AsyncSession
)


async def get_sessionmaker():
    yield Sessions


async def get_async_legacy_sessionmaker() -> sessionmaker:
    yield AsyncLegacySessions


def get_legacy_sessionmaker():
    return LegacySessions


async def get_session():
    async with Sessions() as session:
        yield session


def get_redis(request: Request):
    return request.app.state.redis


app = FastAPI()


@app.get("/orders")
async def orders(factory=Depends(get_sessionmaker), session=Depends(get_session)):
    return {}


@app.get("/legacy")
def legacy(factory=Depends(get_legacy_sessionmaker)):
    return {}


@app.get("/invoices")
async def invoices(factory=Depends(get_async_legacy_sessionmaker)):
    return {}


@app.get("/hits")
async def hits(request: Request):
    return {"hits": await request.app.state.redis.incr("hits")}
"""


# tests/existing_apps/env_engine: its engine built at import from DATABASE_URL.
ENV_ENGINE_ANSWERS = {
    "app_import": "app.main:app",
    "async_db": "postgresql",
    "db_session_dependency": "app.db:get_db",
    "db_metadata": "app.db:Base",
    "database_url_env": "DATABASE_URL",
    "websockets": True,
    "concurrency": True,
}


@dataclass(frozen=True)
class AdoptedApp:
    """An example app with the harness adopted, and its own suite's counts
    before adopting."""

    project: Path
    own_counts: dict[str, int]


def adopt_app(
    template: Path, source: Path, project: Path, answers: dict[str, Any]
) -> AdoptedApp:
    """Copy the app at `source` to `project`, run its own suite as its team
    does, then adopt the harness with `answers`."""
    shutil.copytree(source, project)
    own = run_own_suite(project)
    assert own.returncode == 0, own.stdout + own.stderr
    adopt(template, project, answers)
    return AdoptedApp(project, outcome_counts(own.stdout))
