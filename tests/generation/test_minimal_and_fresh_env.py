"""A TestClient-only project carries nothing async; and the dependencies a
project declares are enough to run its own suite in a fresh environment."""

import re
import shutil
import sys
import tomllib
from pathlib import Path

import pytest
from answer_sets import ALL_FEATURES, ANSWER_SETS, answer_set_params
from rendering import (
    assert_suite_passes,
    render,
    required_redis_url,
    run_own_suite,
    run_suite,
    server_environment,
    sync_own_environment,
)

ASYNC_ONLY_PACKAGES = ("pytest-asyncio", "anyio", "asgi-lifespan", "httpx-ws", "httpx>")
ASYNC_SETTINGS = (
    "asyncio_mode",
    "asyncio_default_fixture_loop_scope",
    "asyncio_default_test_loop_scope",
)


def test_testclient_only_project_declares_and_configures_nothing_async(
    template: Path, tmp_path: Path
) -> None:
    project = render(template, tmp_path / "plain")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())

    declared = (
        pyproject["project"]["dependencies"] + pyproject["dependency-groups"]["dev"]
    )
    for package in ASYNC_ONLY_PACKAGES:
        assert not any(spec.startswith(package) for spec in declared), package
    assert any(spec.startswith("httpx2") for spec in declared)
    pytest_settings = pyproject["tool"]["pytest"]["ini_options"]
    for setting in ASYNC_SETTINGS:
        assert setting not in pytest_settings
    harness = sorted(path.name for path in (project / "tests" / "harness").iterdir())
    assert harness == [
        "__init__.py",
        "_project.py",
        "app.py",
        "compat.py",
        "definitions.py",
        "sync_client.py",
    ]
    assert "ASYNC_CLIENT = False" in (project / "tests/harness/_project.py").read_text()
    # The harness's plain modules know of async fixtures; the team's tests and
    # the fixtures this project has carry nothing async.
    own_tests = "\n".join(
        path.read_text()
        for path in (project / "tests").rglob("*.py")
        if "harness" not in path.parts
    )
    listing = run_suite(project, "--fixtures", "-q").stdout
    fixtures = re.findall(r"^(\w+)(?: \[.*\])? -- tests/harness/", listing, re.M)
    assert sorted(fixtures) == ["app", "app_settings", "client"]
    for word in ("async_client", "asyncio", "anyio", "AsyncClient", "async def"):
        assert word not in own_tests, word


def _fresh_environment_suite(project: Path, env: dict[str, str]) -> None:
    """`uv sync` the project's own declarations into its .venv, then run pytest."""
    sync_own_environment(project, sys.executable, env, "--quiet")
    assert_suite_passes(run_own_suite(project, env))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "answers"),
    answer_set_params(ANSWER_SETS, "default", "inline", ALL_FEATURES),
)
def test_declared_dependencies_alone_run_the_suite(
    name: str, answers: dict[str, object], template: Path, tmp_path: Path
) -> None:
    project = render(template, tmp_path / name, answers)
    env = server_environment(project, answers, f"fresh_{name}")
    if answers.get("cache", "none") != "none":
        env["TEST_REDIS_URL"] = required_redis_url()
    shutil.rmtree(project / ".venv", ignore_errors=True)
    _fresh_environment_suite(project, env)
