"""Adopting the harness into an existing project (`scaffold=harness`).

Each layout under tests/existing_apps/ is a small project a team already has,
with tests of its own: a flat main.py, a src-layout package with routers (and a
WebSocket), an app factory, and an app with async SQLAlchemy and redis.asyncio
behind its own dependency names and a pyproject with pytest settings and
comments. For each: adopting renders only the harness and merges into, never
overwrites, the project's files; the harness's smoke tests and the project's
own tests pass together; adopting again changes nothing; `copier update` to a
newer tag keeps every file of the project's.

The suites run through rendering.run_suite, which puts src/ on PYTHONPATH; the
flat layouts rely on the `pythonpath` the adoption merges into pyproject.toml.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import copier
import pytest
import tomlkit
from releases import commit_everything, replace_in, versioned_template
from rendering import (
    HARNESS_ANSWERS_FILE,
    REPO_ROOT,
    assert_suite_passes,
    read_answers,
    render,
    require_server,
    run_suite,
    suite_environment,
    template_test_worker,
)
from sqlalchemy import make_url

EXISTING_APPS = Path(__file__).parent / "existing_apps"
HOOKS = REPO_ROOT / "hooks"
# What v2 of the template changes in a harness-owned file.
SMOKE_TEST = "tests/test_harness_smoke.py"
SMOKE_TEST_SOURCE = (
    "template/tests/{% if scaffold == 'harness' %}"
    "test_harness_smoke.py{% endif %}.jinja"
)
V2_CHANGE = ("The template owns this file", "The template owns this file, v2 too")
# Paths an adoption may add; of these, only the last two may already exist.
HARNESS_OWNED = ("tests/harness/", SMOKE_TEST, HARNESS_ANSWERS_FILE)
MERGED_INTO = ("pyproject.toml", "tests/conftest.py")
NOT_SNAPSHOTTED = {".git", "__pycache__", ".pytest_cache", ".ruff_cache"}

# A test the ledger team writes once the harness is in: the test shares the
# app's database session and Redis client, through the app's own dependencies.
LEDGER_SHARED_RESOURCES_TEST = """\
import pytest

from ledger.models import Entry

pytestmark = pytest.mark.asyncio


async def test_rows_the_test_adds_are_what_the_app_lists(db_session, async_client):
    db_session.add(Entry(text="seeded"))
    await db_session.flush()

    response = await async_client.get("/entries")

    assert response.json() == ["seeded"]


async def test_the_app_counts_in_the_tests_cache(db_session, cache, async_client):
    await cache.set("entries:count", 41)

    response = await async_client.post("/entries", json={"text": "x"})

    assert response.json()["count"] == 42
    assert await cache.get("entries:count") == "42"
"""


@dataclass(frozen=True)
class Layout:
    answers: dict[str, Any]
    own_tests: tuple[str, ...]
    async_client: bool = False
    # Tests the team adds after adopting: path -> source.
    added_tests: dict[str, str] = field(default_factory=dict)

    def expected_passes(self) -> list[str]:
        smoke = [f"{SMOKE_TEST}::test_client_serves_the_app"]
        if self.async_client:
            smoke.append(f"{SMOKE_TEST}::test_async_client_serves_the_app")
        return [*self.own_tests, *smoke]


LAYOUTS = {
    "flat": Layout(
        answers={"app_import": "main:app"},
        own_tests=("tests/test_ping.py::test_ping",),
    ),
    "src_routers": Layout(
        answers={"app_import": "shop.app:app", "websockets": True},
        own_tests=(
            "tests/test_items.py::test_known_item",
            "tests/test_items.py::test_echo_shouts_back",
        ),
        async_client=True,
    ),
    "factory": Layout(
        answers={
            "app_import": "greeter.main:create_app()",
            "concurrency": True,
            "async_runner": "anyio",
        },
        own_tests=("tests/test_greet.py::test_greets_politely",),
        async_client=True,
    ),
    "async_resources": Layout(
        answers={
            "app_import": "ledger.main:app",
            "async_db": "sqlite",
            "db_session_dependency": "ledger.db:get_db",
            "db_metadata": "ledger.models:Model",
            "cache": "redis",
            "cache_dependency": "ledger.cache:get_redis",
            "asyncio_mode": "strict",
        },
        own_tests=(
            "tests/test_entries.py::test_added_entry_is_listed_and_counted",
            "tests/test_shared_resources.py::"
            "test_rows_the_test_adds_are_what_the_app_lists",
            "tests/test_shared_resources.py::test_the_app_counts_in_the_tests_cache",
        ),
        async_client=True,
        added_tests={"tests/test_shared_resources.py": LEDGER_SHARED_RESOURCES_TEST},
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
    return path.startswith(HARNESS_OWNED)


def adopt(template: Path, project: Path, layout: Layout, ref: str) -> None:
    copier.run_copy(
        str(template),
        str(project),
        data={"scaffold": "harness", **layout.answers},
        vcs_ref=ref,
        defaults=True,
        overwrite=True,
        unsafe=True,
        quiet=True,
    )


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
    shutil.copytree(EXISTING_APPS / name, project)
    before = snapshot(project)
    commit_everything(project, "the team's project")
    adopt(tagged_template, project, layout, "1.0.0")
    after = snapshot(project)
    for path, source in layout.added_tests.items():
        (project / path).write_text(source)
    commit_everything(project, "adopt the FastAPI test harness")
    return Adopted(name, layout, project, before, after)


def test_adoption_adds_only_the_harness_and_merges_the_rest(adopted: Adopted) -> None:
    before, after = adopted.before, adopted.after
    added = set(after) - set(before)
    changed = {path for path in set(before) & set(after) if before[path] != after[path]}

    assert set(before) <= set(after), "adopting deleted files of the project"
    assert {path for path in added if not harness_owned(path)} <= set(MERGED_INTO)
    assert changed <= set(MERGED_INTO), changed
    assert SMOKE_TEST in added
    assert "tests/harness/__init__.py" in added
    # Nothing of a new service: no src/ package, README, compose file or workflow.
    assert not any(path.startswith(("src/my_service", ".github/")) for path in added)
    assert "README.md" not in added
    assert read_answers(adopted.project)["scaffold"] == "harness"


def test_an_existing_conftest_gains_one_line(adopted: Adopted) -> None:
    conftest = "tests/conftest.py"
    registration = 'pytest_plugins = ["tests.harness"]  # the FastAPI test harness\n'
    if conftest in adopted.before:
        original = adopted.before[conftest].decode()
        assert adopted.after[conftest].decode() == original + registration
    else:
        assert adopted.after[conftest].decode().endswith(registration)


def test_pyproject_keeps_what_it_had_and_gains_the_test_setup(adopted: Adopted) -> None:
    merged = adopted.after["pyproject.toml"].decode()
    settings = tomlkit.parse(merged)["tool"]["pytest"]["ini_options"]

    assert "." in settings["pythonpath"]
    if "pyproject.toml" in adopted.before:
        original = adopted.before["pyproject.toml"].decode()
        comments = [line for line in original.splitlines() if "#" in line]
        assert all(comment in merged.splitlines() for comment in comments)
        assert_only_extended(
            tomlkit.parse(original).unwrap(), tomlkit.parse(merged).unwrap()
        )
    else:
        assert merged.startswith("# Created when adopting the FastAPI test harness")
    if (
        adopted.layout.async_client
        and adopted.layout.answers.get("async_runner", "pytest-asyncio")
        == "pytest-asyncio"
    ):
        assert settings["asyncio_default_test_loop_scope"] == "session"


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


def test_harness_suite_and_the_projects_own_tests_pass(adopted: Adopted) -> None:
    result = run_suite(adopted.project, "-v")

    expected = adopted.layout.expected_passes()
    assert_suite_passes(result, at_least=len(expected))
    passed = {
        line.split(" ")[0] for line in result.stdout.splitlines() if " PASSED" in line
    }
    assert set(expected) <= passed, result.stdout


def test_adopting_again_changes_nothing(
    adopted: Adopted, tagged_template: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(adopted.project, project, symlinks=True)
    first = snapshot(project)

    adopt(tagged_template, project, adopted.layout, "1.0.0")

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
    assert V2_CHANGE[1] in (project / SMOKE_TEST).read_text()
    assert read_answers(project)["_commit"] == "2.0.0"
    assert_suite_passes(run_suite(project))


def test_db_session_on_postgresql_in_an_adopted_project(
    tagged_template: Path, tmp_path: Path
) -> None:
    """The ledger adopted with async_db=postgresql: its own session dependency
    and metadata, on a database the harness creates and drops."""
    server = make_url(
        os.environ.get(
            "TEMPLATE_TESTS_DATABASE_URL",
            "postgresql+asyncpg://postgres@127.0.0.1:5432/",
        )
    )
    require_server(server.host or "127.0.0.1", server.port or 5432, "PostgreSQL")
    layout = LAYOUTS["async_resources"]
    layout = Layout(
        answers={**layout.answers, "async_db": "postgresql"},
        own_tests=layout.own_tests,
        async_client=True,
        added_tests=layout.added_tests,
    )
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / "async_resources", project)
    adopt(tagged_template, project, layout, "1.0.0")
    for path, source in layout.added_tests.items():
        (project / path).write_text(source)
    database = f"adopted_ledger_w{template_test_worker()}_test"
    url = server.set(database=database).render_as_string(hide_password=False)

    result = run_suite(
        project, "-v", env=suite_environment(project, TEST_DATABASE_URL=url)
    )

    expected = layout.expected_passes()
    assert_suite_passes(result, at_least=len(expected))
    assert "asyncpg>=0.30" in (project / "pyproject.toml").read_text()


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
    assert any("-d asyncio_mode=auto" in line for line in conflicts)
    assert any("asyncio_default_test_loop_scope" in line for line in conflicts)
    settings = tomlkit.parse(merged)["tool"]["pytest"]["ini_options"]
    assert settings["asyncio_default_fixture_loop_scope"] == "session"
    assert "pytest-asyncio>=1.2" in tomlkit.parse(merged)["dependency-groups"]["dev"]

    again = run_hook(tmp_path, "merge_pyproject.py", answers)

    assert (tmp_path / "pyproject.toml").read_text() == merged
    assert "added" not in again
    assert "set to" not in again


def test_settings_in_pytest_ini_are_reported_not_duplicated(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -ra\n")

    report = run_hook(tmp_path, "merge_pyproject.py", json.dumps(STRICT_ANSWERS))

    assert "pytest reads its settings from pytest.ini" in report
    assert "tool" not in tomlkit.parse((tmp_path / "pyproject.toml").read_text())


def test_a_conftest_with_its_own_pytest_plugins_is_left_alone(tmp_path: Path) -> None:
    conftest = tmp_path / "tests" / "conftest.py"
    conftest.parent.mkdir()
    conftest.write_text('pytest_plugins = ["tests.fixtures.users"]\n')

    report = run_hook(tmp_path, "register_harness.py")

    assert conftest.read_text() == 'pytest_plugins = ["tests.fixtures.users"]\n'
    assert 'add "tests.harness" to that list' in report


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
    sys.path.insert(0, str(HOOKS))
    try:
        merge_pyproject = importlib.import_module("merge_pyproject")
    finally:
        sys.path.remove(str(HOOKS))
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
    assert f"error: {answer}" in output
    assert message in output
    assert "Fix:" in output
    # The project's own files are left alone: the tasks that would create or
    # change them never ran.
    assert "Nothing of yours was changed" in output
    assert not (project / "pyproject.toml").exists()
    assert not (project / "tests" / "conftest.py").exists()
    for path in (EXISTING_APPS / "flat").rglob("*"):
        if path.is_file():
            relative = path.relative_to(EXISTING_APPS / "flat")
            assert (project / relative).read_bytes() == path.read_bytes()


def test_an_app_import_of_the_wrong_form_is_refused(
    template: Path, tmp_path: Path
) -> None:
    result = copier_cli(template, tmp_path / "project", "app_import=main.app")

    assert result.returncode != 0
    assert "is not of the form package.module:name" in result.stdout + result.stderr
