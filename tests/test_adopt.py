"""Adopting the harness into an existing project (`scaffold=harness`).

Each layout under tests/existing_apps/ is a small project a team already has,
with tests of its own (see LAYOUTS). For each: adopting renders only the
harness and merges into, never overwrites, the project's files; with and
without `-n 2`, the project's own suite passes with the same counts as before,
beside the harness's smoke tests and the tests its team writes with the
harness (team_tests.py: on real PostgreSQL and Redis where the app has them);
adopting again changes nothing; `copier update` to a newer tag keeps every
file of the project's. One adoption per layout serves all of these.

The suites run through rendering.run_suite, which puts src/ on PYTHONPATH; the
flat layouts rely on the `pythonpath` the adoption merges into pyproject.toml.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import copier
import pytest
import team_tests
import tomlkit
from releases import commit_everything, git, replace_in, versioned_template
from rendering import (
    HARNESS_ANSWERS_FILE,
    ON_CI,
    REPO_ROOT,
    TEMPLATE_PARTS,
    assert_suite_passes,
    database_url_for,
    install_own_pins,
    outcome_counts,
    private_redis_url,
    read_answers,
    redis_url_for_generated_suites,
    render,
    run_suite,
    suite_environment,
)
from rendering import run_own_suite as run_in_own_environment

EXISTING_APPS = Path(__file__).parent / "existing_apps"
HOOKS = REPO_ROOT / "hooks"
# What v2 of the template changes in a harness-owned file.
SMOKE_TEST = "tests/test_harness_smoke.py"
SMOKE_TEST_SOURCE = (
    "template/{{ tests_dir }}/{% if scaffold == 'harness' %}"
    "test_harness_smoke.py{% endif %}.jinja"
)
V2_CHANGE = ("The template owns this file", "The template owns this file, v2 too")
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
# Settings adopting may extend with the entries the harness needs.
LIST_SETTINGS = ("testpaths", "pythonpath")
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
    template: Path, project: Path, answers: dict[str, Any], ref: str | None = None
) -> None:
    """Adopt the harness into `project` with `answers`, as `copier copy` does."""
    copier.run_copy(
        str(template),
        str(project),
        data={"scaffold": "harness", **answers},
        vcs_ref=ref,
        defaults=True,
        overwrite=True,
        unsafe=True,
        quiet=True,
    )


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


@pytest.fixture(scope="module")
def tagged_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git copy of the template tagged 1.0.0, and 2.0.0 with a harness change."""
    return versioned_template(
        tmp_path_factory.mktemp("tagged-template"),
        v2=lambda repo: replace_in(repo / SMOKE_TEST_SOURCE, *V2_CHANGE),
    )


@dataclass
class Adopted:
    name: str
    layout: Layout
    project: Path
    before: dict[str, bytes]  # the team's files before adopting
    after: dict[str, bytes]  # everything right after adopting (1.0.0)
    own_counts: dict[str, int]  # the project's own suite, before adopting


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(name, marks=pytest.mark.xdist_group(f"adopt-{name}"))
        for name in LAYOUTS
    ],
)
def adopted(
    request: pytest.FixtureRequest,
    tagged_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Adopted:
    """A copy of the layout, a git repo, with the harness adopted at 1.0.0."""
    name: str = request.param
    layout = LAYOUTS[name]
    project = tmp_path_factory.mktemp(name) / "project"
    shutil.copytree(EXISTING_APPS / (layout.source or name), project)
    before = snapshot(project)
    if layout.own_environment:
        pins = install_pins(project)
        git(project, "init", "-q", "-b", "main")
        (project / ".git" / "info" / "exclude").write_text(".venv/\n")
        own = run_in_own_environment(
            project, suite_environment(project, **layout.own_variables())
        )
    else:
        own = run_own_suite(project, layout.own_variables())
    assert own.returncode == 0, own.stdout + own.stderr
    own_counts = outcome_counts(own.stdout)
    commit_everything(project, "the team's project")
    adopt(tagged_template, project, layout.answers, "1.0.0")
    after = snapshot(project)
    if layout.own_environment:
        # The team installs what adopting declared: its own pins stay as they were.
        assert install_pins(project) == pins
    for path, source in layout.added_tests.items():
        (project / path).write_text(source)
    commit_everything(project, "adopt the FastAPI test harness")
    return Adopted(name, layout, project, before, after, own_counts)


def test_adoption_adds_only_the_harness_and_merges_the_rest(adopted: Adopted) -> None:
    before, after = adopted.before, adopted.after
    added = set(after) - set(before)
    changed = {path for path in set(before) & set(after) if before[path] != after[path]}

    assert set(before) <= set(after), "adopting deleted files of the project"
    assert all(merged_into(path) for path in added if not harness_owned(path)), added
    assert all(merged_into(path) for path in changed), changed
    tests_dir = adopted.layout.tests_dir
    assert adopted.layout.smoke_test in added
    assert f"{tests_dir}/harness/fastapi_harness/__init__.py" in added
    # Nothing of a new service: no src/ package, README, compose file or workflow.
    assert not any(path.startswith(("src/my_service", ".github/")) for path in added)
    assert "README.md" not in added
    answers = read_answers(adopted.project)
    assert answers["scaffold"] == "harness"
    assert {key: answers[key] for key in adopted.layout.chosen} == (
        adopted.layout.chosen
    )


def test_an_existing_conftest_gains_one_line(adopted: Adopted) -> None:
    """Where pytest loads the tests' conftest.py first (a top-level tests/),
    it registers the harness; deeper down, the pytest settings' `-p` does."""
    conftest = f"{adopted.layout.tests_dir}/conftest.py"
    registration = 'pytest_plugins = ["fastapi_harness"]  # the FastAPI test harness\n'
    if "/" in adopted.layout.tests_dir:
        assert adopted.after.get(conftest) == adopted.before.get(conftest)
        pyproject = adopted.after["pyproject.toml"].decode()
        assert '"-p", "fastapi_harness"' in pyproject
    elif conftest in adopted.before:
        original = adopted.before[conftest].decode()
        assert adopted.after[conftest].decode() == original + registration
    else:
        assert adopted.after[conftest].decode().endswith(registration)


NO_ASYNC_ANSWERS = {
    "async_runner": "pytest-asyncio",
    "websockets": False,
    "concurrency": False,
    "async_db": "none",
    "cache": "none",
}


def test_pyproject_keeps_what_it_had_and_gains_the_test_setup(
    adopted: Adopted, tmp_path: Path
) -> None:
    if "pyproject.toml" not in adopted.after:
        # Nothing to put there: settings and requirements went to its own files.
        assert "pyproject.toml" not in adopted.before
        return
    merged = adopted.after["pyproject.toml"].decode()
    if "pyproject.toml" in adopted.before:
        # Floors below the harness's are raised in place (tests/test_adopt_fit.py).
        pristine = tmp_path / "pristine"
        shutil.copytree(
            EXISTING_APPS / (adopted.layout.source or adopted.name), pristine
        )
        merging = hook_module("merge_pyproject")
        document = tomlkit.parse(adopted.before["pyproject.toml"].decode())
        answers = {**NO_ASYNC_ANSWERS, **read_answers(adopted.project)}
        answers["needs_async_client"] = adopted.layout.async_client
        merging.raise_floors(
            document,
            merging.harness_dependencies(
                answers, hook_module("project_survey").survey(pristine)
            ),
        )
        original = tomlkit.dumps(document)
        comments = [line for line in original.splitlines() if "#" in line]
        assert all(comment in merged.splitlines() for comment in comments)
        assert_only_extended(
            tomlkit.parse(original).unwrap(), tomlkit.parse(merged).unwrap()
        )
    else:
        assert merged.startswith("# Created when adopting the FastAPI test harness")


def test_requirements_land_where_the_project_keeps_its_own(
    adopted: Adopted, tmp_path: Path
) -> None:
    """Every requirement the harness needs is declared once: those the project
    lacked all in the one place it keeps its test dependencies (a requirements
    file anywhere in its tree, a group, an extra), none it had declared again."""
    surveying = hook_module("project_survey")
    pristine = tmp_path / "pristine"
    shutil.copytree(EXISTING_APPS / (adopted.layout.source or adopted.name), pristine)
    before = surveying.survey(pristine)
    home = surveying.dependency_home(before)
    if adopted.layout.dependency_home:
        assert home.where() == adopted.layout.dependency_home
    after = surveying.survey(adopted.project)
    answers = {**NO_ASYNC_ANSWERS, **read_answers(adopted.project)}
    answers["needs_async_client"] = adopted.layout.async_client
    # Judged on what the adopted project has installed (its own .venv, where
    # a layout keeps one), as adopting judged it.
    wanted = hook_module("merge_pyproject").harness_dependencies(answers, after)

    assert {surveying.package_name(r) for r in wanted} <= set(after.declared)
    had = {(d.name, d.file, d.table) for d in before.declarations}
    new = [d for d in after.declarations if (d.name, d.file, d.table) not in had]
    assert {(d.file, d.table) for d in new} <= {(home.file, home.table)}, new
    assert not [d.where for d in new if d.name in before.declared], new
    assert len(new) == len({d.name for d in new}), new
    if "pyproject.toml" not in adopted.before and "pyproject.toml" in adopted.after:
        created = tomlkit.parse(adopted.after["pyproject.toml"].decode())
        assert home.file == "pyproject.toml" or set(created) == {"tool"}, created


def test_pytest_settings_go_where_the_project_keeps_them(
    adopted: Adopted, tmp_path: Path
) -> None:
    survey = hook_module("project_survey")
    after = survey.pytest_config(adopted.project)
    pristine = tmp_path / "pristine"
    shutil.copytree(EXISTING_APPS / (adopted.layout.source or adopted.name), pristine)
    before = survey.pytest_config(pristine)

    if before.exists:
        assert (after.file, after.section) == (before.file, before.section)
    if before.exists and before.file != "pyproject.toml":  # (that one: above)
        # Every line of it is kept, in order; only lists may grow at their end.
        kept = iter(adopted.after[before.file].decode().splitlines())
        for line in adopted.before[before.file].decode().splitlines():
            if line.strip():
                assert any(
                    now == line
                    or (now.startswith(line) and line.startswith(LIST_SETTINGS))
                    for now in kept
                ), f"{before.file}: {line!r} was changed or moved"
    pyproject_text = adopted.after.get("pyproject.toml", b"").decode()
    pyproject = tomlkit.parse(pyproject_text).unwrap()
    pytest_tables = pyproject.get("tool", {}).get("pytest", {})
    native = {key for key in pytest_tables if key != "ini_options"}
    assert not (native and "ini_options" in pytest_tables), "pytest would refuse"
    settings = {key: survey_value(after, key) for key in after.settings}
    assert "." in settings["pythonpath"]
    found = survey.survey(pristine)
    runner = adopted.layout.answers.get("async_runner") or hook_module(
        "adoption_fit"
    ).fitting(found, "async_runner")
    assert read_answers(adopted.project).get("async_runner", runner) == runner
    if adopted.layout.async_client and runner == "pytest-asyncio":
        if found.uses_pytest_asyncio:
            # The project's own loop scopes are its own tests' business.
            key = "asyncio_default_test_loop_scope"
            assert settings.get(key) == survey_value(before, key)
        else:
            assert settings["asyncio_default_test_loop_scope"] == "session"


def survey_value(config: Any, key: str) -> Any:
    return hook_module("pytest_settings").current_value(config, key)


def assert_only_extended(original: Any, merged: Any, where: str = "") -> None:
    """Every value of `original` is in `merged`: lists may only have grown at
    the end, tables may only have gained keys."""
    if isinstance(original, dict):
        for key, value in original.items():
            assert key in merged, f"{where}.{key} was removed"
            assert_only_extended(value, merged[key], f"{where}.{key}")
    elif isinstance(original, list):
        assert merged[: len(original)] == original, f"{where} was changed"
    else:
        assert merged == original, f"{where} was changed"


@pytest.mark.parametrize("workers", [None, "2"], ids=["serial", "xdist-2"])
def test_own_smoke_and_team_tests_pass(adopted: Adopted, workers: str | None) -> None:
    """The acceptance of adopting: the project's own suite as before, the
    harness's smoke tests, and the tests its team writes with the harness
    (team_tests.py), on real PostgreSQL and Redis where the app has them."""
    layout = adopted.layout
    # A project whose own conftest FLUSHALLs one Redis cannot run its suite on
    # two workers at once (each wipes the other's keys): under xdist, one.
    workers = "1" if workers and layout.own_redis else workers
    args = ["-n", workers] if workers else ["-p", "no:xdist"]
    env = layout.environment(adopted.project, f"{adopted.name}_{workers or 'serial'}")
    for path, (source, _) in layout.refused_tests.items():
        (adopted.project / path).write_text(source)
    try:
        # -vv: one line per test even where the project's addopts has -q.
        result = layout.run(adopted.project, "-vv", *args, env=env)
    finally:
        for path in layout.refused_tests:
            (adopted.project / path).unlink()

    output = result.stdout + result.stderr
    counts = outcome_counts(result.stdout)
    errors = counts.pop("error", 0) + counts.pop("errors", 0)
    assert errors == len(layout.refused_tests), output
    assert result.returncode == (1 if errors else 0), output
    assert not {"failed", "skipped"} & set(counts), output
    for _, messages in layout.refused_tests.values():
        for message in messages:
            assert message in " ".join(output.split())
    passed = passed_tests(result.stdout)
    assert set(layout.own_tests) | set(layout.smoke_tests()) <= passed, output
    added = {test for test in passed if test.split("[")[0] in layout.added_tests_ids()}
    assert {test.split("[")[0] for test in added} == layout.added_tests_ids(), output
    # The project's own tests: as many as before adopting, with the same outcomes.
    own_passed = counts["passed"] - len(layout.smoke_tests()) - len(added)
    assert {**counts, "passed": own_passed} == adopted.own_counts, output
    if layout.answers.get("async_db") == "postgresql":
        survey = hook_module("project_survey").survey(adopted.project)
        assert "asyncpg" in survey.declared


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
    survey = hook_module("project_survey")
    declared = [d for d in survey.declarations(project) if d.name != "python"]
    install_own_pins(project, [d.text for d in declared], os.environ)
    installed = survey.installed_versions(project)
    return {d.name: installed[d.name] for d in declared if "==" in d.text}


def run_own_suite(
    project: Path, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The project's own suite as its team runs it, before adopting anything."""
    declared = hook_module("project_survey").declared_requirements(project)
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


def hook_module(name: str) -> Any:
    """A module of hooks/, imported as the hooks import each other."""
    sys.path.insert(0, str(HOOKS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(HOOKS))


def test_adopting_again_changes_nothing(
    adopted: Adopted, tagged_template: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(adopted.project, project, symlinks=True)
    first = snapshot(project)

    adopt(tagged_template, project, adopted.layout.answers, "1.0.0")

    assert snapshot(project) == first


def test_update_to_a_newer_tag_keeps_the_projects_files(
    adopted: Adopted, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(adopted.project, project, symlinks=True)
    before = snapshot(project)

    copier.run_update(
        str(project),
        answers_file=HARNESS_ANSWERS_FILE,
        vcs_ref="2.0.0",
        defaults=True,
        overwrite=True,
        unsafe=True,
        quiet=True,
    )

    after = snapshot(project)
    assert {path: data for path, data in after.items() if not harness_owned(path)} == {
        path: data for path, data in before.items() if not harness_owned(path)
    }
    assert V2_CHANGE[1] in (project / adopted.layout.smoke_test).read_text()
    assert read_answers(project)["_commit"] == "2.0.0"
    env = adopted.layout.environment(project, f"{adopted.name}_update")
    assert_suite_passes(adopted.layout.run(project, env=env))


# The last version whose adopted harness was the package tests.harness in
# tests/harness/, reading TEST_DATABASE_URL and TEST_REDIS_URL.
TESTS_HARNESS_VERSION = "688ad7b"


def released_at(commit: str) -> Any:
    """versioned_template's `v1`: the template's parts as they were at `commit`."""

    def v1(repo: Path) -> None:
        archive = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "archive", commit, *TEMPLATE_PARTS],
            capture_output=True,
            check=False,
        )
        if archive.returncode:
            message = f"this checkout's history lacks {commit}"
            if ON_CI:
                pytest.fail(f"{message}; CI clones main whole, so this is a failure")
            pytest.skip(message)
        for part in TEMPLATE_PARTS:
            target = repo / part
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        subprocess.run(["tar", "-x", "-C", str(repo)], input=archive.stdout, check=True)

    return v1


@pytest.mark.parametrize("name", ["own_fixtures", "flat"])
def test_a_project_adopted_as_tests_harness_updates_in_place(
    name: str, tmp_path: Path
) -> None:
    """An earlier adoption: its harness moves into tests/harness/fastapi_harness/,
    its registration is renamed where it was written, it keeps the variables
    its CI sets, and its suite passes."""
    template = versioned_template(
        tmp_path / "template", v1=released_at(TESTS_HARNESS_VERSION)
    )
    layout = LAYOUTS[name]
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / name, project)
    commit_everything(project, "the team's project")
    adopt(template, project, layout.answers, "1.0.0")
    commit_everything(project, "adopt the FastAPI test harness")

    copier.run_update(
        str(project),
        answers_file=HARNESS_ANSWERS_FILE,
        vcs_ref="2.0.0",
        defaults=True,
        overwrite=True,
        unsafe=True,
        quiet=True,
    )

    answers = read_answers(project)
    assert (answers["tests_dir"], answers["environment_prefix"]) == ("tests", "")
    assert not (project / "tests/harness/__init__.py").exists()
    assert (project / "tests/harness/fastapi_harness/_project.py").exists()
    settings = (project / "pyproject.toml").read_text()
    conftest = (project / "tests/conftest.py").read_text()
    assert "tests.harness" not in settings + conftest
    assert 'pytest_plugins = ["fastapi_harness"]' in conftest
    env = suite_environment(project)
    if layout.answers.get("async_db") == "postgresql":
        env["TEST_DATABASE_URL"] = database_url_for(f"{name}_from_tests_harness")
    assert_suite_passes(run_suite(project, env=env))


def test_an_empty_prefix_beside_colliding_fixtures_is_refused(
    template: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / "own_fixtures", project)

    output = refused_output(
        template, project, "app_import=todo.main:app", "fixture_prefix="
    )

    assert (
        "your conftest files define fixtures under names the harness's fixtures "
        "use: app (tests/conftest.py); client (tests/conftest.py)"
    ) in output
    assert "Answer fixture_prefix=harness_" in output


def test_the_harness_reads_variables_of_its_own_beside_the_projects(
    template: Path, tmp_path: Path
) -> None:
    """The depot's conftest reads TEST_REDIS_URL (and FLUSHALLs it): the plain
    names are refused, naming the file, and the default prefix fits."""
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / "src_tests", project)
    answers = [f"{k}={v}" for k, v in LAYOUTS["src_tests"].answers.items()]

    output = refused_output(template, project, *answers, "environment_prefix=")

    assert "your project reads TEST_REDIS_URL" in output, output
    assert (
        "Answer environment_prefix=HARNESS_: the harness then reads "
        "HARNESS_TEST_REDIS_URL." in output
    ), output


def test_fixtures_a_conftest_star_imports_are_seen(tmp_path: Path) -> None:
    """pytest is asked what the conftest files bring in: a `client` star-imported
    from another module collides, which parsing the conftest never saw."""
    survey = hook_module("project_survey")
    found = {
        (fixture.name, fixture.file)
        for fixture in survey.project_fixtures(EXISTING_APPS / "src_tests")
    }
    parsed = {f.name for f in survey.conftest_fixtures(EXISTING_APPS / "src_tests")}

    assert ("client", "src/tests/fixtures/client.py") in found
    assert "client" not in parsed
    assert (
        hook_module("adoption_fit").fitting(
            survey.survey(EXISTING_APPS / "src_tests"), "fixture_prefix", {}
        )
        == "harness_"
    )


@pytest.mark.parametrize(
    ("layout", "tests_dir"),
    [("src_tests", "src/tests"), ("flat", "tests"), ("pytest_ini", "tests")],
)
def test_the_harness_goes_where_the_tests_live(layout: str, tests_dir: str) -> None:
    survey = hook_module("project_survey")
    project = EXISTING_APPS / layout

    assert survey.tests_directory(project, survey.pytest_config(project)) == tests_dir


# ── The hooks on their own ────────────────────────────────────────────────────


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


def test_a_conflicting_pytest_setting_is_reported_never_overwritten(
    tmp_path: Path,
) -> None:
    original = (
        "[project]\n"
        'name = "orders"  # the service\n'
        'dependencies = ["fastapi"]\n'
        "\n"
        "[tool.pytest.ini_options]\n"
        "# auto: we like unmarked async tests\n"
        'asyncio_mode = "auto"\n'
        'asyncio_default_test_loop_scope = "function"\n'
    )
    (tmp_path / "pyproject.toml").write_text(original)
    answers = json.dumps(STRICT_ANSWERS)

    report = run_hook(tmp_path, "merge_pyproject.py", answers)

    merged = (tmp_path / "pyproject.toml").read_text()
    assert merged.startswith(original)
    conflicts = [line for line in report.splitlines() if "CONFLICT" in line]
    assert any('asyncio_mode = "auto" is kept' in line for line in conflicts)
    # A project already on pytest-asyncio keeps its loop scopes: its own async
    # fixtures depend on them, and the harness names the session loop itself.
    settings = tomlkit.parse(merged)["tool"]["pytest"]["ini_options"]
    assert "asyncio_default_fixture_loop_scope" not in settings
    assert "pytest-asyncio>=1.2" in tomlkit.parse(merged)["dependency-groups"]["dev"]

    again = run_hook(tmp_path, "merge_pyproject.py", answers)

    assert (tmp_path / "pyproject.toml").read_text() == merged
    assert "added" not in again
    assert "set to" not in again


@pytest.mark.parametrize(
    ("file", "original", "section"),
    [
        ("pytest.ini", "[pytest]\naddopts = -ra\n", "[pytest]"),
        ("setup.cfg", "[tool:pytest]\naddopts = -ra\n\n[flake8]\n", "[tool:pytest]"),
        ("tox.ini", "[tox]\nenvlist = py311\n\n[pytest]\n", "[pytest]"),
        ("pytest.toml", '[pytest]\naddopts = ["-ra"]\n', "[pytest]"),
    ],
)
def test_settings_go_into_the_file_pytest_reads(
    tmp_path: Path, file: str, original: str, section: str
) -> None:
    (tmp_path / file).write_text(original)

    report = run_hook(tmp_path, "merge_pyproject.py", json.dumps(STRICT_ANSWERS))

    merged = (tmp_path / file).read_text()
    assert f"{file} {section} asyncio_mode: set to" in report
    _head, _, rest = merged.partition(section)
    assert rest.split("\n[", 1)[0].count("asyncio_mode") == 1, merged
    assert merged.startswith(original.split(section)[0] + section)
    assert "tool" not in tomlkit.parse((tmp_path / "pyproject.toml").read_text())
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Cannot use both" not in collected.stdout + collected.stderr
    assert "PytestConfigWarning" not in collected.stdout + collected.stderr
    assert collected.returncode == 5, collected.stdout + collected.stderr  # none

    run_hook(tmp_path, "merge_pyproject.py", json.dumps(STRICT_ANSWERS))

    assert (tmp_path / file).read_text() == merged


def test_pytest_9_native_table_is_merged_into_not_beside(tmp_path: Path) -> None:
    original = (
        "[project]\n"
        'name = "notes"\n'
        "\n"
        "[tool.pytest]\n"
        'minversion = "9.0"\n'
        'addopts = ["-ra"]  # ours\n'
    )
    (tmp_path / "pyproject.toml").write_text(original)

    run_hook(tmp_path, "merge_pyproject.py", json.dumps(STRICT_ANSWERS))
    run_hook(tmp_path, "merge_pyproject.py", json.dumps(STRICT_ANSWERS))

    merged = tomlkit.parse((tmp_path / "pyproject.toml").read_text())
    assert "ini_options" not in merged["tool"]["pytest"]
    assert merged["tool"]["pytest"]["asyncio_mode"] == "strict"
    assert merged["tool"]["pytest"]["pythonpath"] == [".", "tests/harness"]
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert collected.returncode == 5, collected.stdout + collected.stderr


def test_a_conftest_with_its_own_pytest_plugins_is_left_alone(tmp_path: Path) -> None:
    conftest = tmp_path / "tests" / "conftest.py"
    conftest.parent.mkdir()
    conftest.write_text('pytest_plugins = ["tests.fixtures.users"]\n')

    report = run_hook(tmp_path, "register_harness.py")

    assert conftest.read_text() == 'pytest_plugins = ["tests.fixtures.users"]\n'
    assert 'add "fastapi_harness" to that list' in report


def test_the_hooks_do_nothing_in_copiers_scratch_copies(tmp_path: Path) -> None:
    scratch = tmp_path / "copier._main.old_copy.abc123"
    scratch.mkdir()

    run_hook(scratch, "merge_pyproject.py", json.dumps(STRICT_ANSWERS))
    run_hook(scratch, "register_harness.py")
    run_hook(scratch, "check_imports.py", "app_import=missing.module:app")

    assert list(scratch.iterdir()) == []


def test_the_merged_dependencies_are_a_new_services_own(
    template: Path, tmp_path: Path
) -> None:
    """The hook's list mirrors template/pyproject.toml.jinja: same names, same pins."""
    merge_pyproject = hook_module("merge_pyproject")
    answers = {
        "websockets": True,
        "concurrency": True,
        "async_db": "sqlite",
        "cache": "redis",
    }
    service = tomlkit.parse(
        (render(template, tmp_path / "service", answers) / "pyproject.toml").read_text()
    )
    declared = set(service["project"]["dependencies"])
    declared |= set(service["dependency-groups"]["dev"])

    wanted = merge_pyproject.harness_dependencies(
        {**answers, "needs_async_client": True, "async_runner": "pytest-asyncio"}
    )

    assert set(wanted) <= declared


# ── Wrong answers ─────────────────────────────────────────────────────────────


def copier_cli(
    template: Path, project: Path, *answers: str
) -> subprocess.CompletedProcess[str]:
    data = [arg for answer in answers for arg in ("-d", answer)]
    return subprocess.run(
        [
            *(sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "-q"),
            *("-d", "scaffold=harness", *data, str(template), str(project)),
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


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("app_import=main:missing", "has no attribute 'missing'"),
        ("app_import=orders.main:app", "module 'orders' is not importable"),
        ("app_import=main:ping", "ping is a function, not an ASGI app"),
    ],
)
def test_an_app_import_that_does_not_import_fails_clearly(
    answer: str, message: str, template: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / "flat", project)

    result = copier_cli(template, project, answer)

    output = result.stdout + result.stderr
    assert result.returncode != 0
    # Refused by the question's validator, before anything is written.
    assert "Validation error for question 'app_import'" in output
    assert message in output
    assert "Fix:" in output
    assert "Nothing was written" in output
    assert snapshot(project) == snapshot(EXISTING_APPS / "flat")


def test_an_app_import_of_the_wrong_form_is_refused(
    template: Path, tmp_path: Path
) -> None:
    result = copier_cli(template, tmp_path / "project", "app_import=main.app")

    assert result.returncode != 0
    assert "use e.g. myapp.main:app" in result.stdout + result.stderr


def test_adopting_with_defaults_and_no_app_import_names_the_answer_to_give(
    template: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / "flat", project)
    before = snapshot(project)

    result = copier_cli(template, project)

    assert result.returncode != 0
    assert "pass -d app_import=myapp.main:app" in result.stderr.splitlines()[-1]
    assert snapshot(project) == before


# ── Answers that contradict the project: refused before anything is written ───


@pytest.mark.parametrize(
    ("layout", "answers", "conflict", "fix"),
    [
        (
            "anyio_suite",
            (
                "app_import=chat.main:app",
                "websockets=true",
                "async_runner=pytest-asyncio",
            ),
            "this project's async tests run on anyio (tests marked anyio in "
            "tests/test_messages.py; an anyio_backend fixture in tests/conftest.py)",
            "Answer async_runner=anyio.",
        ),
        (
            "strict_setup_cfg",
            ("app_import=inventory.app:app", "concurrency=true", "asyncio_mode=auto"),
            "auto mode would change how this project's async tests run",
            "Answer asyncio_mode=strict, or set asyncio_mode = auto in setup.cfg "
            "[tool:pytest] yourself first.",
        ),
        (
            "async_resources",
            (
                "app_import=ledger.main:app",
                "cache=redis",
                "cache_dependency=ledger.cache:get_redis",
                "asyncio_mode=auto",
            ),
            "this project sets asyncio_mode = strict in pyproject.toml "
            "[tool.pytest.ini_options], which adopting never changes",
            "Answer asyncio_mode=strict.",
        ),
    ],
)
def test_an_answer_that_contradicts_the_projects_async_setup_is_refused(
    template: Path,
    tmp_path: Path,
    layout: str,
    answers: tuple[str, ...],
    conflict: str,
    fix: str,
) -> None:
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / layout, project)

    output = refused_output(template, project, *answers)

    assert conflict in output
    assert fix in output


def test_the_defaults_fit_the_projects_async_setup(
    template: Path, tmp_path: Path
) -> None:
    """Adopting with no async answer given picks what the project runs on."""
    for layout, app, expected in [
        ("anyio_suite", "chat.main:app", {"async_runner": "anyio"}),
        (
            "strict_setup_cfg",
            "inventory.app:app",
            {"async_runner": "pytest-asyncio", "asyncio_mode": "strict"},
        ),
        (
            "flat",
            "main:app",
            {"async_runner": "pytest-asyncio", "asyncio_mode": "auto"},
        ),
    ]:
        project = tmp_path / layout
        shutil.copytree(EXISTING_APPS / layout, project)

        result = copier_cli(template, project, f"app_import={app}", "concurrency=true")

        assert result.returncode == 0, result.stdout + result.stderr
        recorded = read_answers(project)
        assert {key: recorded[key] for key in expected} == expected, layout


def test_pins_the_harness_cannot_live_with_are_refused_in_one_message(
    template: Path, tmp_path: Path
) -> None:
    """Pins below even the adopted harness's floors, and a feature (WebSockets)
    whose client needs newer releases: every conflict in one message, with the
    exact versions, before anything is written; the rest of the stack is kept."""
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / "pinned_old_stack", project)
    replace_in(project / "requirements-dev.txt", "pytest==8.1.1", "pytest==7.1.3")
    replace_in(project / "requirements-dev.txt", "httpx==0.23.3", "httpx==0.23.0")

    output = refused_output(
        template, project, "app_import=svc.main:app", "websockets=true"
    )

    assert output.count("the harness cannot be installed next to") == 1
    assert "needs pytest>=7.2, but you declare pytest==7.1.3" in output
    # WebSockets' client needs httpx 0.25.1, above the harness's own 0.23.1.
    assert "needs httpx>=0.25.1, but you declare httpx==0.23.0" in output
    assert (
        "WebSockets over async_client needs httpx-ws>=0.9, which needs "
        "httpx>=0.25.1, but you declare httpx==0.23.0: answer without that feature"
    ) in output
    # Its Starlette predates httpx2's: the harness would go with its httpx.
    assert "httpx2" not in output
    # What it runs on is kept: pytest-asyncio 0.20 with its own event_loop.
    assert "pytest-asyncio" not in output
    assert "event_loop" not in output


@pytest.mark.parametrize(
    ("pyproject", "runner", "conflict"),
    [
        # Before loop_scope (0.24): the harness runs on it all the same.
        (
            '[project]\nname = "x"\ndependencies = ["pytest-asyncio==0.21.2"]\n',
            "pytest-asyncio",
            "",
        ),
        (
            '[tool.poetry.group.dev.dependencies]\npytest-asyncio = "^0.23"\n',
            "pytest-asyncio",
            "",
        ),
        # Below the harness's floor: anyio fits, and pytest-asyncio is refused.
        (
            '[project]\nname = "x"\ndependencies = ["pytest-asyncio==0.19.0"]\n',
            "anyio",
            "you declare pytest-asyncio==0.19.0",
        ),
        (
            '[project]\nname = "x"\ndependencies = ["pytest-asyncio>=1.2"]\n',
            "pytest-asyncio",
            "",
        ),
    ],
    ids=["pep621-pin-0.21", "poetry-caret-0.23", "below-the-floor", "recent"],
)
def test_a_pytest_asyncio_pin_decides_the_runner(
    tmp_path: Path, pyproject: str, runner: str, conflict: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    survey = hook_module("project_survey").survey(tmp_path)
    fit = hook_module("adoption_fit")
    dependencies = hook_module("merge_pyproject").harness_dependencies

    assert fit.fitting(survey, "async_runner") == runner
    answers = {
        **NO_ASYNC_ANSWERS,
        "async_runner": "pytest-asyncio",
        "asyncio_mode": "strict",
        "concurrency": True,
        "needs_async_client": True,
    }
    problems = " ".join(fit.verdict(survey, answers, dependencies))
    if conflict:
        assert conflict in problems
        assert "answer async_runner=anyio" in problems
    else:
        assert problems == ""


def test_an_old_starlette_gets_plain_httpx_not_httpx2(tmp_path: Path) -> None:
    site = tmp_path / ".venv" / "lib" / "python3.11" / "site-packages"
    # Before 1.10, and from 0.37 on, whose TestClient runs on httpx 0.28.
    (site / "starlette-0.46.2.dist-info").mkdir(parents=True)
    survey = hook_module("project_survey").survey(tmp_path)

    wanted = hook_module("merge_pyproject").harness_dependencies(
        {
            "needs_async_client": False,
            "websockets": False,
            "async_db": "none",
            "cache": "none",
        },
        survey,
    )

    assert sorted(wanted) == ["httpx>=0.28", "pytest-xdist>=3.6.1", "pytest>=8.4"]


def test_a_pin_in_any_file_the_project_declares_counts(tmp_path: Path) -> None:
    """pyproject.toml admits the harness's pytest, a requirements file pins one
    below its floor: the pin is a conflict, named as declared."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "0"\n'
        '[project.optional-dependencies]\ntest = ["pytest>=7"]\n'
    )
    (tmp_path / "requirements-dev.txt").write_text("pytest==7.1.3\n")
    survey = hook_module("project_survey").survey(tmp_path)

    found = hook_module("adoption_fit").conflict(survey, "pytest>=7.2")

    assert found == "you declare pytest==7.1.3"


def test_a_fastapi_pinned_before_starlette_1_10_keeps_its_starlette(
    tmp_path: Path,
) -> None:
    """FastAPI 0.95 declared alone, nothing installed: its Starlette (0.26)
    predates 1.10, so neither httpx2 nor starlette>=1.10 is added (FastAPI
    before 0.133 cannot install beside Starlette 1.10)."""
    (tmp_path / "requirements.txt").write_text("fastapi==0.95.2\n")
    survey = hook_module("project_survey").survey(tmp_path)

    wanted = hook_module("merge_pyproject").harness_dependencies(
        {
            "needs_async_client": False,
            "websockets": False,
            "async_db": "none",
            "cache": "none",
        },
        survey,
    )

    names = {re.split(r"[<>=!~;\[ ]", spec)[0] for spec in wanted}
    assert "httpx" in names
    assert not names & {"httpx2", "starlette"}


@pytest.mark.parametrize(
    "source",
    [
        'import os\n\nENGINE_URL = os.environ["DATABASE_URL"]\n',
        "from pydantic_settings import BaseSettings\n\n\n"
        "class Settings(BaseSettings):\n    database_url: str\n\n\n"
        "settings = Settings()\n",
    ],
    ids=["os-environ", "settings-object"],
)
def test_an_app_that_reads_the_environment_at_import_is_told_to_set_it(
    tmp_path: Path, source: str
) -> None:
    (tmp_path / "main.py").write_text(
        source + "\nfrom fastapi import FastAPI\n\napp = FastAPI()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}

    result = subprocess.run(
        [sys.executable, str(HOOKS / "check_imports.py"), "app_import=main:app"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert "reads the environment variable(s) DATABASE_URL" in result.stdout
    assert "run Copier with them set" in result.stdout
    assert "DATABASE_URL=... uvx" in result.stdout
    assert "without side effects" not in result.stdout


SHOP_WITH_UNFIT_DEPENDENCIES = """\
from fastapi import Depends, FastAPI, Request
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

Sessions = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))
LegacySessions = sessionmaker(create_engine("sqlite://"))


async def get_sessionmaker():
    yield Sessions


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


@app.get("/hits")
async def hits(request: Request):
    return {"hits": await request.app.state.redis.incr("hits")}
"""


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            "db_session_dependency=shop:get_legacy_sessionmaker",
            "get_legacy_sessionmaker hands out SQLAlchemy's synchronous sessionmaker",
        ),
        (
            "cache_dependency=shop:get_redis",
            "no route of the app depends on get_redis",
        ),
    ],
)
def test_a_dependency_the_override_cannot_reach_is_refused(
    tmp_path: Path, answer: str, message: str
) -> None:
    (tmp_path / "shop.py").write_text(SHOP_WITH_UNFIT_DEPENDENCIES)

    result = subprocess.run(
        [
            sys.executable,
            str(HOOKS / "check_imports.py"),
            "app_import=shop:app",
            answer,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    # A session, or an async_sessionmaker (db_session lends a joined factory).
    fitting = [
        subprocess.run(
            [
                *(sys.executable, str(HOOKS / "check_imports.py")),
                *("app_import=shop:app", f"db_session_dependency=shop:{name}"),
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        for name in ("get_session", "get_sessionmaker")
    ]

    assert result.returncode == 1
    assert f"error: {answer}: {message}" in " ".join(result.stdout.split())
    assert "Fix:" in result.stdout
    assert [(run.returncode, run.stdout) for run in fitting] == [(0, "")] * 2


SQLITE_ANSWERS = {**STRICT_ANSWERS, "async_db": "sqlite"}


@pytest.mark.parametrize(
    ("original", "where", "added"),
    [
        (
            '[tool.poetry]\nname = "x"\nversion = "0"\n\n'
            '[tool.poetry.dependencies]\npython = "^3.11"\nfastapi = "^0.115"\n\n'
            '[tool.poetry.group.dev.dependencies]\npytest = "^8.4"  # ours\n',
            ("tool", "poetry", "group", "dev", "dependencies"),
            {
                "pytest": "^8.4",
                "pytest-asyncio": ">=1.2",
                "sqlalchemy": {"version": ">=2.0.36", "extras": ["asyncio"]},
            },
        ),
        (
            '[project]\nname = "x"\nversion = "0"\ndependencies = ["fastapi"]\n\n'
            '[tool.uv]\ndev-dependencies = ["pytest>=8.4"]\n',
            ("tool", "uv", "dev-dependencies"),
            ["pytest>=8.4", "pytest-asyncio>=1.2", "sqlalchemy[asyncio]>=2.0.36"],
        ),
    ],
    ids=["poetry-group", "uv-dev-dependencies"],
)
def test_dependencies_go_where_the_project_keeps_its_own(
    tmp_path: Path, original: str, where: tuple[str, ...], added: Any
) -> None:
    (tmp_path / "pyproject.toml").write_text(original)

    report = run_hook(tmp_path, "merge_pyproject.py", json.dumps(SQLITE_ANSWERS))

    merged = (tmp_path / "pyproject.toml").read_text()
    assert merged.startswith(original.rstrip("\n").rsplit("\n", 1)[0])
    target: Any = tomlkit.parse(merged).unwrap()
    for key in where:
        target = target[key]
    if isinstance(added, dict):
        assert {name: target[name] for name in added} == added
    else:
        assert [entry for entry in target if entry in added] == added
    assert "dependency-groups" not in tomlkit.parse(merged)
    assert "added" in report
    run_hook(tmp_path, "merge_pyproject.py", json.dumps(SQLITE_ANSWERS))
    assert (tmp_path / "pyproject.toml").read_text() == merged
