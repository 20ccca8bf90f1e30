"""The dependency floors generated projects declare are true, and every
supported Python runs the generated suites.

Why a few projects prove every floor. A floor is a property of one declared
requirement, and which requirements a project declares, and which harness code
exercises them, follows from its answers value by value (the runner, the asyncio
mode, the database, the cache, WebSockets, concurrency). So the answer sets are
folded into FLOOR_PROJECTS: each merges answer sets that do not contradict each
other, and together they hold every answer value of every set in
tests/support/answer_sets.py (an answer set with a value none of them holds becomes a
floor project of its own, so a new answer is never left out). Each is resolved
with `uv sync --resolution lowest-direct` on the oldest supported Python, where
every direct requirement must land exactly on its declared floor (a floor that
the other requirements make unreachable is no floor) and the suite must pass
with warnings as errors. The newest versions are proven by every answer set in
tests/generation/test_generation.py (a fresh environment resolves them) and by the fresh
`uv sync` of tests/generation/test_minimal_and_fresh_env.py.

Pythons: the supported ones are `python_versions` in copier.yml (the generated
CI's matrix). The all-features project (every async client, both servers) runs
at the newest versions on every supported Python and every other one from the
oldest supported up that this machine has, except the one running these tests:
tests/generation/test_minimal_and_fresh_env.py runs it there, and
tests/generation/test_generation.py every answer set. A supported Python missing
from the machine fails on CI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from answer_sets import ALL_FEATURES, ANSWER_SETS, answer_set_params
from packaging.requirements import Requirement
from packaging.version import Version
from rendering import (
    EXISTING_APPS,
    ON_CI,
    REPO_ROOT,
    assert_suite_passes,
    harness_variable,
    pyproject_of,
    read_answers,
    render,
    required_redis_url,
    run_own_suite,
    server_environment,
    sync_own_environment,
)

SUPPORTED_PYTHONS: list[str] = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())[
    "python_versions"
]["default"]
OLDEST_PYTHON = SUPPORTED_PYTHONS[0]


def _merged(*names: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for name in names:
        for question, value in ANSWER_SETS[name].items():
            assert merged.get(question, value) == value, (names, question)
            merged[question] = value
    return merged


CURATED_FLOOR_PROJECTS: dict[str, dict[str, Any]] = {
    # No async client at all, so no plain httpx either: what TestClient needs
    # must be declared on its own (a floor can hold only beside other packages).
    "testclient-only": _merged("default"),
    # The same for the inline client: its own lifespan and anyio, nothing else.
    "inline-only": _merged("inline"),
    # pytest-asyncio in auto mode, PostgreSQL, Redis, WebSockets, concurrency.
    "auto-postgresql": _merged(ALL_FEATURES),
    # The anyio runner, with SQLite, the inline client and everything else.
    "anyio-sqlite-inline": _merged(
        "sqlite-redis-anyio",
        "websockets-concurrency-anyio",
        "redis-websockets-anyio-inline",
    ),
    # pytest-asyncio in strict mode, with SQLite, the inline client and
    # everything else.
    "strict-sqlite-inline": _merged(
        "sqlite-websockets-strict-inline", "redis-strict", "websockets-concurrency"
    ),
}


def _floor_projects() -> dict[str, dict[str, Any]]:
    projects = dict(CURATED_FLOOR_PROJECTS)
    for name, answers in ANSWER_SETS.items():
        held = all(
            any(project.get(question) == value for project in projects.values())
            for question, value in answers.items()
        )
        if not held:
            projects[name] = dict(answers)
    return projects


FLOOR_PROJECTS = _floor_projects()


def declared_floors(project: Path) -> dict[str, Version]:
    """Every requirement the project declares, by name, with its `>=` floor."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    declared = [
        *pyproject["project"]["dependencies"],
        *pyproject["dependency-groups"]["dev"],
    ]
    floors: dict[str, Version] = {}
    for text in declared:
        requirement = Requirement(text)
        lower = [s.version for s in requirement.specifier if s.operator == ">="]
        assert len(lower) == 1, f"{text}: every requirement declares one `>=` floor"
        floors[_normalized(requirement.name)] = Version(lower[0])
    return floors


def locked_versions(project: Path) -> dict[str, Version]:
    lock = tomllib.loads((project / "uv.lock").read_text())
    return {
        _normalized(package["name"]): Version(package["version"])
        for package in lock["package"]
        if "version" in package
    }


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def machine_pythons() -> dict[str, str]:
    """Every CPython on this machine from the oldest supported up: {"3.12": path}.

    Looks in pyenv's versions, then on PATH (python3.N); each candidate is run
    to confirm what it is.
    """
    oldest = Version(OLDEST_PYTHON)
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [
        str(path)
        for path in sorted(pyenv.glob("3.*/bin/python3"))
        if re.fullmatch(r"3\.\d+\.\d+", path.parent.parent.name)
        and Version(path.parent.parent.name) >= oldest
    ]
    candidates += [
        shutil.which(f"python3.{minor}") for minor in range(oldest.minor, 40)
    ]
    found: dict[str, str] = {}
    for candidate in filter(None, candidates):
        try:
            probe = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except OSError:
            continue
        version = probe.stdout.strip()
        if probe.returncode == 0 and Version(version) >= oldest:
            found.setdefault(version, candidate)
    return found


def python_for(version: str) -> str:
    """The interpreter for `version`: skipped if absent, failed if absent on CI."""
    found = machine_pythons().get(version)
    if found is None:
        message = f"Python {version} is not installed on this machine"
        if ON_CI:
            pytest.fail(f"{message}; CI must provide every supported Python")
        pytest.skip(f"{message}; install it to run this test")
    return found


RUNNING_PYTHON = "{}.{}".format(*sys.version_info[:2])
MATRIX_PYTHONS = sorted(
    (set(SUPPORTED_PYTHONS) | set(machine_pythons())) - {RUNNING_PYTHON},
    key=Version,
)


def _environment(project: Path, answers: dict[str, Any], label: str) -> dict[str, str]:
    """The PostgreSQL project runs on real servers, Redis included; the others
    on fakeredis (whose own floor is then the one exercised)."""
    env = server_environment(project, answers, label)
    if answers.get("async_db") == "postgresql" and answers.get("cache") == "redis":
        env[harness_variable(project, "TEST_REDIS_URL")] = required_redis_url()
    return env


def _rendered(template: Path, destination: Path, answers: dict[str, Any]) -> Path:
    project = render(template, destination, answers)
    recorded = read_answers(project)
    for question, value in answers.items():
        # Merged answers must all take effect (none switched off by another).
        assert recorded.get(question) == value, (question, value, recorded)
    return project


def sync_at_lowest_direct(project: Path, env: dict[str, str]) -> None:
    """`uv sync` every direct requirement at its lowest, on the oldest Python."""
    sync_own_environment(
        project,
        python_for(OLDEST_PYTHON),
        env,
        "--quiet",
        "--resolution",
        "lowest-direct",
    )


def test_supported_pythons_match_what_generated_projects_declare(
    template: Path, tmp_path: Path
) -> None:
    pyproject = pyproject_of(render(template, tmp_path / "plain"))

    assert sorted(SUPPORTED_PYTHONS, key=Version) == SUPPORTED_PYTHONS
    assert pyproject["project"]["requires-python"] == f">={OLDEST_PYTHON}"
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + OLDEST_PYTHON.replace(
        ".", ""
    )


@pytest.mark.slow
@pytest.mark.parametrize(("name", "answers"), answer_set_params(FLOOR_PROJECTS))
def test_suite_passes_with_every_requirement_at_its_declared_floor(
    name: str, answers: dict[str, Any], template: Path, tmp_path: Path
) -> None:
    project = _rendered(template, tmp_path / name, answers)
    env = _environment(project, answers, f"floors_{name}")

    sync_at_lowest_direct(project, env)

    locked = locked_versions(project)
    not_at_floor = {
        package: f"declares >={floor}, lowest installable is {locked[package]}"
        for package, floor in declared_floors(project).items()
        if locked[package] != floor
    }
    assert not not_at_floor, (
        "floors the other requirements make unreachable (raise them to what "
        f"resolves): {not_at_floor}"
    )
    # As CI runs it: coverage across xdist workers, gated; split, if answered.
    ci = [
        "-n",
        "2",
        "--cov",
        f"--cov-fail-under={read_answers(project)['coverage_fail_under']}",
    ]
    if answers.get("ci_shards", 1) > 1:
        ci += ["--splits", "1", "--group", "1"]
    assert_suite_passes(run_own_suite(project, env, *ci), at_least=3)


@pytest.mark.slow
@pytest.mark.parametrize("python", MATRIX_PYTHONS)
def test_all_features_suite_passes_on_every_python(
    python: str, template: Path, tmp_path: Path
) -> None:
    answers = ANSWER_SETS[ALL_FEATURES]
    interpreter = python_for(python)
    project = _rendered(template, tmp_path / "all", answers)
    env = _environment(project, answers, f"py{python.replace('.', '')}")

    sync_own_environment(project, interpreter, env, "--quiet")

    result = run_own_suite(project, env)
    assert_suite_passes(result, at_least=3)
    assert f"python {python}." in result.stdout.lower(), result.stdout


# The ledger app (tests/existing_apps/async_resources: SQLite, Redis, its own
# strict pytest-asyncio suite). It declares some packages the harness needs
# itself, with floors below the harness's (at which the harness cannot import:
# redis 5.0 has no redis.parsers), and nothing else the harness brings, so that
# every floor the harness adds or raises is the one resolved.
ADOPTING_APP = EXISTING_APPS / "async_resources"
ADOPTING_PYPROJECT = """\
[project]
name = "ledger"
version = "1.0.0"
requires-python = ">=3.11"
dependencies = [
    "fastapi>=0.133",
    "sqlalchemy[asyncio]>=2.0",  # async engine and sessions
    "redis>=5",
]

[dependency-groups]
dev = [
    "pytest>=8",  # the test runner
    "fakeredis>=2",
]

[tool.pytest.ini_options]
asyncio_mode = "strict"
asyncio_default_fixture_loop_scope = "function"
filterwarnings = ["error"]
"""
ADOPTED_ANSWERS = {
    "scaffold": "adopt",
    "app_import": "ledger.main:app",
    "async_db": "sqlite",
    "db_session_dependency": "ledger.db:get_db",
    "db_metadata": "ledger.models:Model",
    "cache": "redis",
    "cache_dependency": "ledger.cache:get_redis",
    "asyncio_mode": "strict",
    "websockets": True,
    "concurrency": True,
}


@pytest.mark.slow
def test_an_adopted_harness_passes_with_what_it_adds_at_its_floors(
    template: Path, tmp_path: Path
) -> None:
    project = tmp_path / "ledger"
    shutil.copytree(ADOPTING_APP, project)
    (project / "pyproject.toml").write_text(ADOPTING_PYPROJECT)
    render(template, project, ADOPTED_ANSWERS, overwrite=True)
    added = {
        package: floor
        for package, floor in declared_floors(project).items()
        if package != "fastapi"
    }
    assert {"sqlalchemy", "redis", "pytest", "httpx-ws"} <= set(added), added
    pyproject = (project / "pyproject.toml").read_text()
    # The ledger's own low floors, raised where they were, comments kept.
    for raised in (
        '"sqlalchemy[asyncio]>=2.0.36",  # async engine and sessions',
        '"redis>=5.2",',
        '"pytest>=8.4",  # the test runner',
        '"fakeredis>=2.32.1",',
    ):
        assert raised in pyproject, pyproject
    env = _environment(project, ADOPTED_ANSWERS, "floors_adopted")

    sync_at_lowest_direct(project, env)

    locked = locked_versions(project)
    not_at_floor = {
        package: f"the harness needs >={floor}; lowest installable: {locked[package]}"
        for package, floor in added.items()
        if locked[package] != floor
    }
    assert not not_at_floor, not_at_floor
    result = run_own_suite(project, env, "-vv")
    assert_suite_passes(result, at_least=3)
    assert "test_entries.py::test_added_entry_is_listed_and_counted PASSED" in (
        result.stdout
    ), result.stdout
    assert "test_harness_smoke.py::test_async_client_serves_the_app PASSED" in (
        result.stdout
    ), result.stdout
