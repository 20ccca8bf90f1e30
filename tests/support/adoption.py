"""The example projects adoption is tested on (tests/existing_apps/), and how a
test adopts the harness into one, runs its suites and reads the result.

Each layout is a small project a team already has, with tests of its own
(LAYOUTS, described in layouts.toml); tests in tests/adoption/ and elsewhere
copy one, adopt the harness and check what a team would see.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import copier
import team_tests
from forked_suites import run_pytest
from harness_template_hooks import project_survey
from rendering import (
    HARNESS_ANSWERS_FILE,
    HOOKS,
    PYTEST_WARNINGS_AS_ERRORS,
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


def _layout(table: dict[str, Any]) -> Layout:
    """A layout as layouts.toml writes it, its team tests named by their
    constants in team_tests.py."""
    refused = table.get("refused_tests", {})
    return Layout(
        **{
            **table,
            "own_tests": tuple(table["own_tests"]),
            "added_tests": {
                path: getattr(team_tests, name)
                for path, name in table.get("added_tests", {}).items()
            },
            "refused_tests": {
                path: (getattr(team_tests, test["source"]), tuple(test["error_says"]))
                for path, test in refused.items()
            },
        }
    )


# The example projects, each described (and named) in layouts.toml.
LAYOUTS = {
    name: _layout(table)
    for name, table in tomllib.loads(
        Path(__file__).with_name("layouts.toml").read_text()
    ).items()
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
    return run_pytest(
        [sys.executable, *PYTEST_WARNINGS_AS_ERRORS, *plugins],
        cwd=project,
        env=suite_environment(project, **(environment or {})),
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
