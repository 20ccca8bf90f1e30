"""Living with the template: `copier update` from an older tag, changing answers,
and the migrations in hooks/, with the team's own work surviving each of them.

Each flow runs on a temporary git copy of the template carrying two PEP 440 tags
(what Copier needs to update), ends with the generated suite passing, and checks
the updated project against a fresh render of the same answers with the same
team work applied: an update must leave exactly what a new project would have.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import copier
import pytest
from answer_sets import ANSWER_SETS, ASYNC_FEATURES
from harness_template_hooks.dependencies import package_name, service_requirements
from releases import (
    commit_everything,
    git,
    released_at,
    replace_in,
    versioned_template,
)
from rendering import (
    ANSWERS_FILE,
    HOOKS,
    assert_suite_passes,
    read_answers,
    render,
    run_suite,
)

CONFLICT_START = "<<<<<<< before updating"
CONFLICT_END = ">>>>>>> after updating"

# What v2 changes in template-owned files, so updates have something to carry.
HARNESS_MODULE = "tests/harness/sync_client.py"
HARNESS_CHANGE = (
    "Synchronous and readable, so",
    "Synchronous and readable (the first choice), so",
)
EXAMPLE_TEST = "tests/test_health.py"
EXAMPLE_TEST_CHANGE = (
    '"""Smoke tests: the app starts, its lifespan runs, and it answers."""',
    '"""Smoke tests: the app starts, runs its lifespan, and answers requests."""',
)


def template_source(repo: Path, rendered: str) -> Path:
    """The file under template/ that renders `rendered` (plain or .jinja): the
    harness's modules are in template/{{ harness_directory }}/."""
    harness = "tests/harness/"
    if rendered.startswith(harness):
        rendered = "{{ harness_directory }}/" + rendered.removeprefix(harness)
    plain = repo / "template" / rendered
    return plain if plain.exists() else plain.with_name(plain.name + ".jinja")


def change_owned_files(repo: Path) -> None:
    """v2 edits a harness module and a generated example test."""
    replace_in(template_source(repo, HARNESS_MODULE), *HARNESS_CHANGE)
    replace_in(template_source(repo, EXAMPLE_TEST), *EXAMPLE_TEST_CHANGE)


# ── The team's own work, applied the same way to any project ─────────────────
USER_TEST = "tests/test_team_greetings.py"
USER_TEST_TEXT = '''"""The team's own test, using the team's own fixture."""

from fastapi.testclient import TestClient


def test_team_member_is_greeted(client: TestClient, team_member: str) -> None:
    assert client.get("/hello", params={"name": team_member}).json() == {
        "message": f"Hello, {team_member}!"
    }
'''
USER_FIXTURE = """

import pytest  # noqa: E402


@pytest.fixture
def team_member() -> str:
    return "Grace"
"""
USER_DEPENDENCY = '    "structlog>=24.1",  # added by the team\n'
USER_EXAMPLE_EDIT = """

def test_health_is_json(client: TestClient) -> None:
    assert client.get("/health").headers["content-type"] == "application/json"
"""


def add_team_work(project: Path) -> None:
    (project / USER_TEST).write_text(USER_TEST_TEXT)
    conftest = project / "tests/conftest.py"
    conftest.write_text(conftest.read_text() + USER_FIXTURE)
    # By hand, first in the list (uv's appending is tested further down).
    replace_in(
        project / "pyproject.toml",
        "dependencies = [\n",
        "dependencies = [\n" + USER_DEPENDENCY,
    )
    example = project / EXAMPLE_TEST
    example.write_text(example.read_text() + USER_EXAMPLE_EDIT)


def assert_team_work_present(project: Path) -> None:
    assert (project / USER_TEST).read_text() == USER_TEST_TEXT
    assert (project / "tests/conftest.py").read_text().endswith(USER_FIXTURE)
    assert USER_DEPENDENCY in (project / "pyproject.toml").read_text()
    assert (project / EXAMPLE_TEST).read_text().endswith(USER_EXAMPLE_EDIT)


# ── Rendering and updating ────────────────────────────────────────────────────
def render_at(
    template: Path, destination: Path, answers: dict[str, Any], ref: str
) -> Path:
    """The template rendered as it was at `ref`."""
    return render(template, destination, answers, vcs_ref=ref)


def update(project: Path, answers: dict[str, Any] | None = None) -> None:
    """`copier update --trust --defaults --conflict inline`: no answers-file
    option, as a new service's answers file has Copier's default name."""
    copier.run_update(
        str(project),
        data=dict(answers or {}),
        overwrite=True,
        unsafe=True,
        defaults=True,
        quiet=True,
        conflict="inline",
    )


def project_files(project: Path) -> set[str]:
    return {
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file()
        and ".git" not in path.parts
        and "__pycache__" not in path.parts
        and path.name != ANSWERS_FILE
    }


def assert_same_as_fresh_render(
    project: Path, template: Path, tmp_path: Path, ref: str = "2.0.0"
) -> None:
    """The updated project is byte for byte a fresh render of its recorded
    answers with the team's work applied: nothing missing, nothing left over."""
    answers = {k: v for k, v in read_answers(project).items() if not k.startswith("_")}
    fresh = render_at(template, tmp_path / "fresh", answers, ref)
    add_team_work(fresh)
    assert project_files(project) == project_files(fresh)
    _, mismatched, errors = filecmp.cmpfiles(
        project, fresh, sorted(project_files(fresh)), shallow=False
    )
    assert not errors, errors
    assert not mismatched, f"differ from a fresh render: {mismatched}"
    shutil.rmtree(fresh)


def conflicted_files(project: Path) -> list[str]:
    return sorted(
        name
        for name in project_files(project)
        if CONFLICT_START in (project / name).read_text(errors="replace")
    )


def keep_side(text: str, side: str) -> str:
    """Resolve every inline conflict in `text` by keeping one side of it."""
    pattern = re.compile(
        rf"^{CONFLICT_START}\n(?P<before>.*?)^=======\n(?P<after>.*?)^{CONFLICT_END}\n",
        re.S | re.M,
    )
    return pattern.sub(lambda match: match.group(side), text)


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1.0.0 is the working tree; 2.0.0 edits a harness module and an example test."""
    return versioned_template(
        tmp_path_factory.mktemp("two-releases"), v2=change_owned_files
    )


# ── Flows ─────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize(
    "answers",
    [{}, {"websockets": True, "concurrency": True, "async_runner": "anyio"}],
    ids=["testclient-only", "websockets-concurrency-anyio"],
)
def test_project_at_older_tag_updates_cleanly_and_keeps_team_work(
    two_releases: Path, tmp_path: Path, answers: dict[str, Any]
) -> None:
    project = assert_team_project_updates_cleanly(two_releases, tmp_path, answers)

    assert HARNESS_CHANGE[1] in (project / HARNESS_MODULE).read_text()
    assert EXAMPLE_TEST_CHANGE[1] in (project / EXAMPLE_TEST).read_text()


def assert_team_project_updates_cleanly(
    template: Path, tmp_path: Path, answers: dict[str, Any]
) -> Path:
    """Render 1.0.0, add the team's work, commit, update to 2.0.0: no
    conflict, the team's work kept, a fresh render's files, a passing suite."""
    project = render_at(template, tmp_path / "project", answers, "1.0.0")
    add_team_work(project)
    commit_everything(project, "project from 1.0.0, with the team's work")

    update(project)

    assert read_answers(project)["_commit"] == "2.0.0"
    assert conflicted_files(project) == []
    assert_team_work_present(project)
    assert_same_as_fresh_render(project, template, tmp_path)
    assert_suite_passes(run_suite(project), at_least=4)
    return project


# The template before its harness modules were plain Python, every answer
# woven through them with Jinja; since 688ad7b one rendered _project.py holds
# what the answers change.
BEFORE_PLAIN_MODULES = "688ad7b~1"


def test_a_project_rendered_before_the_plain_modules_updates_without_conflicts(
    tmp_path: Path,
) -> None:
    """A team's project from the template as it was, with a database and
    WebSockets, updates to this one: no conflict, the team's work kept, and
    the result is what this template renders."""
    template = versioned_template(
        tmp_path / "template", v1=released_at(BEFORE_PLAIN_MODULES)
    )
    answers = ANSWER_SETS["sqlite-websockets-strict"]

    assert_team_project_updates_cleanly(template, tmp_path, answers)


def _feature_on(feature: str) -> Any:
    values = ASYNC_FEATURES[feature]
    # The first value that needs no server: the update flow is what is tested.
    return values if values is True else values[0]


PYTEST_ASYNCIO_SETTINGS = (
    "asyncio_mode",
    "asyncio_default_fixture_loop_scope",
    "asyncio_default_test_loop_scope",
)


@pytest.mark.parametrize("feature", list(ASYNC_FEATURES))
def test_turning_an_async_feature_on_and_off_adds_and_removes_exactly_its_parts(
    two_releases: Path, tmp_path: Path, feature: str
) -> None:
    project = render_at(two_releases, tmp_path / "project", {}, "2.0.0")
    add_team_work(project)
    commit_everything(project, "TestClient-only project, with the team's work")
    testclient_only = project_files(project)
    pyproject = project / "pyproject.toml"
    assert not any(key in pyproject.read_text() for key in PYTEST_ASYNCIO_SETTINGS)

    update(project, {feature: _feature_on(feature)})

    answers = read_answers(project)
    assert answers[feature] == _feature_on(feature)
    assert answers["async_runner"] == "pytest-asyncio"
    assert conflicted_files(project) == []
    added = project_files(project) - testclient_only
    assert "tests/harness/async_client.py" in added
    settings = pyproject.read_text()
    for key in PYTEST_ASYNCIO_SETTINGS:
        assert re.search(rf"^{key} = ", settings, re.M), f"{key} not added"
    assert 'asyncio_default_fixture_loop_scope = "session"' in settings
    assert 'asyncio_default_test_loop_scope = "session"' in settings
    assert_team_work_present(project)
    assert_same_as_fresh_render(project, two_releases, tmp_path)
    assert_suite_passes(run_suite(project), at_least=5)
    commit_everything(project, f"{feature} on")

    update(project, {feature: False if ASYNC_FEATURES[feature] is True else "none"})

    assert conflicted_files(project) == []
    assert project_files(project) == testclient_only
    assert not any(key in pyproject.read_text() for key in PYTEST_ASYNCIO_SETTINGS)
    assert "async_runner" not in read_answers(project)
    assert_team_work_present(project)
    assert_same_as_fresh_render(project, two_releases, tmp_path)
    assert_suite_passes(run_suite(project), at_least=4)


TEAM_REVISION = "migrations/versions/0002_team_backfill.py"
TEAM_REVISION_TEXT = '''"""The team's own revision: a data migration.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("UPDATE items SET quantity = 0 WHERE quantity < 0")


def downgrade() -> None:
    pass
'''
MIGRATIONS_FILES = {
    "alembic.ini",
    "migrations/env.py",
    "migrations/script.py.mako",
    "migrations/versions/0001_create_items.py",
    "tests/harness/migrations.py",
    "tests/test_migrations.py",
}


def test_turning_migrations_on_and_off_keeps_team_work_and_revisions(
    two_releases: Path, tmp_path: Path
) -> None:
    """Off, the template's own files go and the team's revisions stay (the
    migration history is theirs); on again, the suite migrates through both."""
    project = render_at(
        two_releases, tmp_path / "project", {"async_db": "sqlite"}, "2.0.0"
    )
    add_team_work(project)
    commit_everything(project, "SQLite project, with the team's work")
    without = project_files(project)
    pyproject_before = (project / "pyproject.toml").read_text()

    update(project, {"migrations": "alembic"})

    assert conflicted_files(project) == []
    assert project_files(project) - without == MIGRATIONS_FILES
    assert '"alembic>=' in (project / "pyproject.toml").read_text()
    assert_team_work_present(project)
    assert_same_as_fresh_render(project, two_releases, tmp_path)
    assert_suite_passes(run_suite(project), at_least=15)
    (project / TEAM_REVISION).write_text(TEAM_REVISION_TEXT)
    commit_everything(project, "migrations on, and the team's first revision")

    update(project, {"migrations": "none"})

    assert conflicted_files(project) == []
    assert project_files(project) == without | {TEAM_REVISION}
    assert (project / TEAM_REVISION).read_text() == TEAM_REVISION_TEXT
    assert (project / "pyproject.toml").read_text() == pyproject_before
    assert_team_work_present(project)
    assert_suite_passes(run_suite(project), at_least=12)
    commit_everything(project, "migrations off")

    update(project, {"migrations": "alembic"})

    assert conflicted_files(project) == []
    assert project_files(project) - without == MIGRATIONS_FILES | {TEAM_REVISION}
    result = run_suite(project, "-v")
    assert_suite_passes(result, at_least=15)
    assert "test_every_migration_upgrades_and_downgrades PASSED" in result.stdout


def test_testclient_only_to_database_and_cache_and_back_keeps_team_work(
    two_releases: Path, tmp_path: Path
) -> None:
    """The README's walk: a TestClient-only project gains an async database and
    a cache in one update, then drops both, the team's lines kept throughout."""
    project = render_at(two_releases, tmp_path / "project", {}, "2.0.0")
    add_team_work(project)
    commit_everything(project, "TestClient-only project, with the team's work")
    testclient_only = project_files(project)
    pyproject_before = (project / "pyproject.toml").read_text()

    update(project, {"async_db": "sqlite", "cache": "redis"})

    assert conflicted_files(project) == []
    added = project_files(project) - testclient_only
    for module in ("async_client", "loop_guard", "database", "cache"):
        assert f"tests/harness/{module}.py" in added, module
    declared = (project / "pyproject.toml").read_text()
    for dependency in ("sqlalchemy[asyncio]", "aiosqlite", "redis", "fakeredis"):
        assert f'"{dependency}>=' in declared, dependency
    assert_team_work_present(project)
    assert_same_as_fresh_render(project, two_releases, tmp_path)
    assert_suite_passes(run_suite(project), at_least=10)
    commit_everything(project, "async database and cache on")

    update(project, {"async_db": "none", "cache": "none"})

    assert conflicted_files(project) == []
    assert project_files(project) == testclient_only
    assert (project / "pyproject.toml").read_text() == pyproject_before
    assert_team_work_present(project)
    assert_suite_passes(run_suite(project), at_least=4)


def test_colliding_edit_shows_inline_as_a_conflict_never_dropped(
    two_releases: Path, tmp_path: Path
) -> None:
    project = render_at(two_releases, tmp_path / "project", {}, "1.0.0")
    team_docstring = '"""Smoke tests, as the team words them."""'
    replace_in(project / EXAMPLE_TEST, EXAMPLE_TEST_CHANGE[0], team_docstring)
    commit_everything(project, "team rewords the example test")

    update(project)

    assert conflicted_files(project) == [EXAMPLE_TEST]
    text = (project / EXAMPLE_TEST).read_text()
    before, after = keep_side(text, "before"), keep_side(text, "after")
    assert team_docstring in before
    assert EXAMPLE_TEST_CHANGE[1] not in before
    assert EXAMPLE_TEST_CHANGE[1] in after
    assert team_docstring not in after
    # Git knows the file is unmerged, so `git status`/editors flag it too.
    assert git(project, "ls-files", "--unmerged", "--", EXAMPLE_TEST)

    (project / EXAMPLE_TEST).write_text(before)
    assert_suite_passes(run_suite(project), at_least=4)


# ── Edits made the way teams make them, then every feature toggled ───────────
UV = [sys.executable, "-m", "uv"]


def uv(project: Path, *args: str) -> str:
    """Run uv as a team does (its own PATH, no test-run environment)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTEST_XDIST_WORKER"}
    }
    result = subprocess.run(
        [*UV, *args], cwd=project, capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


ORDERS_ROUTER = '''"""The team's own router."""

from fastapi import APIRouter, Request

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get("")
async def list_orders(request: Request) -> dict[str, int | bool]:
    state = request.app.state
    return {"page_size": state.settings.orders_page_size, "pool": bool(state.pool)}
'''
ORDERS_TEST = '''"""The team's tests of its router, lifespan resource and middleware."""

from fastapi.testclient import TestClient


def test_orders_use_the_team_setting_and_resource(client: TestClient) -> None:
    assert client.get("/orders").json() == {"page_size": 25, "pool": True}


def test_large_responses_are_compressed(client: TestClient) -> None:
    response = client.get("/openapi.json", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
'''
MAIN_IMPORTS = (
    "from fastapi import FastAPI\n",
    "from fastapi import FastAPI\nfrom fastapi.middleware.gzip import GZipMiddleware\n",
)
MAIN_ROUTER_IMPORT = (
    "routers import greetings, health\n",
    "routers import greetings, health, orders\n",
)
MAIN_POOL_IMPORT = (
    "from collections.abc import AsyncIterator\n",
    "from collections.abc import AsyncIterator\n"
    "from concurrent.futures import ThreadPoolExecutor\n",
)
MAIN_RESOURCE = (
    "            app.state.ready = True\n",
    "            app.state.pool = resources.enter_context(ThreadPoolExecutor(2))\n"
    "            app.state.ready = True\n",
)
MAIN_MIDDLEWARE = (
    "    return app\n",
    "    app.add_middleware(GZipMiddleware, minimum_size=500)\n    return app\n",
)
MAIN_ROUTER = (
    "    return app\n",
    "    app.include_router(orders.router)\n    return app\n",
)
SETTINGS_FIELD = "    orders_page_size: int = 25\n"
README_SECTION = "\n## Deploying\n\nThe team deploys with `make deploy`.\n"
# Where a person adds to the README: a section after the first one, and a
# line into a paragraph next to the test instructions.
README_MIDDLE_SECTION = "## Deployment\n\nStaging deploys `main` on each merge.\n\n"
README_PARAGRAPH = (
    "Without uv, pip",
    "Our CI image has no uv, so it installs this way.\nWithout uv, pip",
)
PYTEST_OPTIONS = (
    'addopts = ["--strict-markers"]',
    'addopts = ["--strict-markers", "-ra"]',
)
PYTEST_MARKERS = 'markers = ["slow: takes more than a second"]\n'


def make_team_edits(project: Path) -> list[tuple[str, str]]:
    """The edits every team makes, with the tools and where people make them;
    return (file, line) pairs every later update must keep."""
    package = next((project / "src").iterdir()).name
    uv(project, "add", "--frozen", "zstandard>=0.23")
    uv(project, "add", "--frozen", "--dev", "pytest-timeout>=2.3")
    main = project / "src" / package / "main.py"
    for old, new in (
        MAIN_POOL_IMPORT,
        MAIN_IMPORTS,
        MAIN_ROUTER_IMPORT,
        MAIN_RESOURCE,
        MAIN_ROUTER,
        MAIN_MIDDLEWARE,
    ):
        replace_in(main, old, new)
    (project / "src" / package / "routers/orders.py").write_text(ORDERS_ROUTER)
    settings = project / "src" / package / "settings.py"
    settings.write_text(settings.read_text() + SETTINGS_FIELD)
    readme = project / "README.md"
    readme.write_text(readme.read_text() + README_SECTION)
    text = readme.read_text()
    second_section = text.index("\n## ", text.index("\n## ") + 1) + 1
    readme.write_text(
        text[:second_section] + README_MIDDLE_SECTION + text[second_section:]
    )
    replace_in(readme, *README_PARAGRAPH)
    pyproject = project / "pyproject.toml"
    replace_in(pyproject, *PYTEST_OPTIONS)
    # At the end of the pytest table, whatever the template put there.
    text = pyproject.read_text()
    end_of_table = text.index("\n[", text.index("[tool.pytest.ini_options]"))
    pyproject.write_text(
        text[:end_of_table] + "\n" + PYTEST_MARKERS.rstrip("\n") + text[end_of_table:]
    )
    (project / "tests/test_orders.py").write_text(ORDERS_TEST)
    return [
        ("pyproject.toml", '"zstandard>=0.23"'),
        ("pyproject.toml", '"pytest-timeout>=2.3"'),
        ("pyproject.toml", PYTEST_OPTIONS[1]),
        ("pyproject.toml", PYTEST_MARKERS),
        *(
            (f"src/{package}/main.py", new)
            for _, new in (
                MAIN_POOL_IMPORT,
                MAIN_IMPORTS,
                MAIN_ROUTER_IMPORT,
                MAIN_RESOURCE,
            )
        ),
        (f"src/{package}/main.py", MAIN_ROUTER[1].splitlines()[0]),
        (f"src/{package}/main.py", MAIN_MIDDLEWARE[1].splitlines()[0]),
        (f"src/{package}/settings.py", SETTINGS_FIELD),
        ("README.md", README_SECTION),
        ("README.md", README_MIDDLE_SECTION),
        ("README.md", README_PARAGRAPH[1]),
        (f"src/{package}/routers/orders.py", ORDERS_ROUTER),
        ("tests/test_orders.py", ORDERS_TEST),
    ]


def assert_merged_cleanly(project: Path, team_lines: list[tuple[str, str]]) -> None:
    """No conflict markers, no .rej files, nothing unmerged; every team line kept."""
    assert conflicted_files(project) == []
    assert not [name for name in project_files(project) if name.endswith(".rej")]
    assert git(project, "ls-files", "--unmerged") == ""
    for name, line in team_lines:
        assert line in (project / name).read_text(), f"{name} lost {line!r}"


def declared(project: Path) -> list[str]:
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    return pyproject["project"]["dependencies"] + pyproject["dependency-groups"]["dev"]


ALL_ON = {
    "websockets": True,
    "concurrency": True,
    "streaming": True,
    "async_db": "sqlite",
    "factories": True,
    "migrations": "alembic",
    "cache": "redis",
    "auth": "bearer",
    "ci_shards": 2,
    "coverage_fail_under": 95,
    "outbound_http": True,
    "background_work": True,
}
ALL_OFF = {
    "websockets": False,
    "concurrency": False,
    "streaming": False,
    "async_db": "none",
    "cache": "none",
    "auth": "none",
    "ci_shards": 1,
    "coverage_fail_under": 90,
    "outbound_http": False,
}
# What some answer adds and ALL_OFF must take away again.
OPTIONAL_PACKAGES = {
    "fakeredis",
    "aiosqlite",
    "httpx-ws",
    "httpx-sse",
    "polyfactory",
    "pyjwt",
    "alembic",
    "pytest-split",
    "respx",
}


@pytest.mark.parametrize(
    ("start", "steps"),
    [
        ({}, [ALL_ON, ALL_OFF]),
        (
            {"async_db": "sqlite", "websockets": True, "async_runner": "anyio"},
            [
                {"async_db": "none", "cache": "redis", "auth": "bearer"},
                {"websockets": False, "concurrency": True},
                {"auth": "none"},
            ],
        ),
    ],
    ids=["none-all-none", "one-by-one-anyio"],
)
def test_toggling_features_after_real_team_edits_never_conflicts(
    two_releases: Path,
    tmp_path: Path,
    start: dict[str, Any],
    steps: list[dict[str, Any]],
) -> None:
    project = render_at(two_releases, tmp_path / "project", start, "2.0.0")
    team_lines = make_team_edits(project)
    commit_everything(project, "the team's edits")

    for step in steps:
        update(project, step)

        assert_merged_cleanly(project, team_lines)
        answers = read_answers(project)
        assert step.items() <= answers.items()
        expected = service_requirements(
            {**answers, "needs_async_client": "async_runner" in answers}
        )
        names = [package_name(spec) for spec in declared(project)]
        for spec in expected["runtime"] + expected["dev"]:
            assert spec in declared(project), spec
        for gone in OPTIONAL_PACKAGES - {
            package_name(spec) for spec in expected["dev"] + expected["runtime"]
        }:
            assert gone not in names, gone
        # uv's appended entries stay where uv put them: after the template's.
        runtime = tomllib.loads((project / "pyproject.toml").read_text())["project"][
            "dependencies"
        ]
        assert runtime.index("zstandard>=0.23") > runtime.index("uvicorn>=0.30")
        commit_everything(project, f"update {step}")

    assert_suite_passes(run_suite(project), at_least=6)


# ── The CI answers: the workflow is the template's, and teams edit it ────────
WORKFLOW = ".github/workflows/tests.yml"
# Where people add to it: a trigger, a newer Python, a step before the tests,
# a variable at the end of the test job's environment.
TEAM_WORKFLOW_EDITS = (
    ("  pull_request:\n", "  pull_request:\n  workflow_dispatch:\n"),
    ('"3.12", "3.13"]', '"3.12", "3.13", "3.14"]'),
    (
        "      - run: uv run ruff format --check .\n",
        "      - run: uv run ruff format --check .\n"
        "      - run: uv run python -m compileall -q src\n",
    ),
    ("    steps:\n", "      ORDERS_PAGE_SIZE: 5\n    steps:\n"),
)


def test_ci_answers_change_the_workflow_and_keep_the_teams_workflow_edits(
    two_releases: Path, tmp_path: Path
) -> None:
    project = render_at(two_releases, tmp_path / "project", {}, "2.0.0")
    add_team_work(project)
    workflow = project / WORKFLOW
    for old, new in TEAM_WORKFLOW_EDITS:
        replace_in(workflow, old, new)
    commit_everything(project, "the team's work, and its edits to CI")
    pyproject = project / "pyproject.toml"

    update(project, {"ci_shards": 2, "coverage_fail_under": 95})

    assert conflicted_files(project) == []
    text = workflow.read_text()
    assert "PYTEST_ADDOPTS: --splits 2 --group ${{ matrix.shard }}" in text
    assert "--fail-under=95" in text
    for _, new in TEAM_WORKFLOW_EDITS:
        assert new in text, new
    assert '"pytest-split>=0.10"' in pyproject.read_text()
    assert_team_work_present(project)
    commit_everything(project, "split in two, gated at 95")

    update(project, {"ci_shards": 1, "coverage_fail_under": 90})

    assert conflicted_files(project) == []
    text = workflow.read_text()
    assert "--splits" not in text
    assert "--fail-under=90" in text
    for _, new in TEAM_WORKFLOW_EDITS:
        assert new in text, new
    assert "pytest-split" not in pyproject.read_text()
    assert_team_work_present(project)


# ── Files an update deletes or finds deleted ──────────────────────────────────
TEAM_ITEMS_TEST = """

def test_team_item_names_are_trimmed(client: TestClient) -> None:
    assert client.post("/items", json={"name": "bolt"}).json()["name"] == "bolt"
"""


def test_turning_a_feature_off_keeps_a_file_holding_team_edits_and_says_so(
    two_releases: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    project = render_at(
        two_releases,
        tmp_path / "project",
        {"async_db": "sqlite", "cache": "redis"},
        "2.0.0",
    )
    items_test = project / "tests/test_items.py"
    items_test.write_text(items_test.read_text() + TEAM_ITEMS_TEST)
    commit_everything(project, "the team adds a test to tests/test_items.py")
    team_version = items_test.read_text()
    capfd.readouterr()

    update(project, {"async_db": "none", "cache": "none"})

    output = capfd.readouterr().out
    assert items_test.read_text() == team_version
    assert "tests/test_items.py" in output
    assert "git rm" in output
    # What the team never touched goes with its feature.
    for gone in ("tests/test_counters.py", "tests/harness/database.py"):
        assert not (project / gone).exists(), gone
        assert gone not in output
    assert_merged_cleanly(project, [])
    # The way out the message names: the test needs the database it turned off.
    git(project, "rm", "-q", "tests/test_items.py")
    assert_suite_passes(run_suite(project), at_least=4)


TEAM_FACTORY = """

class BulkItemFactory(ItemFactory):
    \"\"\"Pallets: the team's own factory.\"\"\"

    quantity = Use(HarnessFactory.__random__.randint, 500, 1000)
"""
TEAM_FACTORY_TEST = '''"""The team's test of its own factory."""

import httpx

from tests.factories import BulkItemFactory


async def test_pallets_are_listed(
    async_client: httpx.AsyncClient, factories: None
) -> None:
    pallet = await BulkItemFactory.create_async()

    response = await async_client.get("/items")

    assert response.json()[0]["quantity"] == pallet.quantity >= 500
'''


TEAM_LOAD_TEST = """

async def test_a_hundred_concurrent_greetings(async_client: httpx.AsyncClient) -> None:
    responses = await asyncio.gather(
        *(async_client.get("/hello", params={"name": "team"}) for _ in range(100))
    )

    assert {response.status_code for response in responses} == {200}
"""


def test_features_off_and_on_again_keep_the_teams_edited_modules(
    two_releases: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """tests/factories.py is the team's, and a test the team added to the
    template's tests/test_concurrent_load.py makes that file the team's too:
    turning the features off keeps each once edited (and says so), and turning
    them on again neither conflicts with them nor puts the template's version
    back."""
    project = render_at(
        two_releases, tmp_path / "project", {"async_db": "sqlite"}, "2.0.0"
    )
    add_team_work(project)
    commit_everything(project, "database project, with the team's work")
    without = project_files(project)

    update(project, {"factories": True, "concurrency": True})

    assert conflicted_files(project) == []
    assert project_files(project) - without == {
        "tests/factories.py",
        "tests/harness/factories.py",
        "tests/test_item_factories.py",
        "tests/test_concurrent_load.py",
        "tests/test_items_under_load.py",
    }
    assert '"polyfactory>=' in (project / "pyproject.toml").read_text()
    assert_same_as_fresh_render(project, two_releases, tmp_path)
    factories = project / "tests/factories.py"
    factories.write_text(factories.read_text() + TEAM_FACTORY)
    (project / "tests/test_team_factories.py").write_text(TEAM_FACTORY_TEST)
    load = project / "tests/test_concurrent_load.py"
    load.write_text(load.read_text() + TEAM_LOAD_TEST)
    commit_everything(project, "the team adds a factory, its test and a load test")
    team_factories = factories.read_text()
    team_load = load.read_text()
    capfd.readouterr()

    update(project, {"factories": False, "concurrency": False})

    assert_merged_cleanly(
        project,
        [
            ("tests/factories.py", TEAM_FACTORY),
            ("tests/test_concurrent_load.py", TEAM_LOAD_TEST),
        ],
    )
    output = capfd.readouterr().out
    assert "tests/factories.py" in output
    assert "tests/test_concurrent_load.py" in output
    assert project_files(project) - without == {
        "tests/factories.py",
        "tests/test_team_factories.py",
        "tests/test_concurrent_load.py",
    }
    assert "polyfactory" not in (project / "pyproject.toml").read_text()
    commit_everything(project, "factories and load off, the team's modules kept")

    update(project, {"factories": True, "concurrency": True})

    assert_merged_cleanly(project, [])
    assert git(project, "diff", "--name-only", "--diff-filter=U") == ""
    assert factories.read_text() == team_factories
    assert load.read_text() == team_load
    assert "tests/test_concurrent_load.py" in capfd.readouterr().out
    assert_team_work_present(project)
    assert_suite_passes(run_suite(project), at_least=12)


def test_update_restores_deleted_harness_modules_at_the_new_release(
    two_releases: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    project = render_at(
        two_releases, tmp_path / "project", {"websockets": True}, "1.0.0"
    )
    deleted = [HARNESS_MODULE, "tests/harness/loop_guard.py"]
    for name in deleted:
        (project / name).unlink()
    commit_everything(project, "the team deletes two harness modules")
    capfd.readouterr()

    update(project)

    output = capfd.readouterr().out
    for name in deleted:
        assert (project / name).exists(), name
        assert f"{name}: restored" in output
    # Restored as the new release has it, like any module the team kept.
    assert HARNESS_CHANGE[1] in (project / HARNESS_MODULE).read_text()
    fresh = render_at(two_releases, tmp_path / "fresh", {"websockets": True}, "2.0.0")
    for name in deleted:
        assert (project / name).read_text() == (fresh / name).read_text(), name
    assert_merged_cleanly(project, [])
    assert_suite_passes(run_suite(project), at_least=5)


# ── The lockfile ──────────────────────────────────────────────────────────────
def test_update_relocks_uv_lock_so_the_next_update_starts_clean(
    two_releases: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The README's sequence: update, commit with uv.lock; `uv run` then has
    nothing to rewrite, and the next update finds a clean tree."""
    project = render_at(two_releases, tmp_path / "project", {}, "2.0.0")
    uv(project, "lock")
    commit_everything(project, "locked")

    for answers, locked in (({"cache": "redis"}, True), ({"cache": "none"}, False)):
        capfd.readouterr()
        update(project, answers)

        assert "uv.lock: relocked" in capfd.readouterr().out
        uv(project, "lock", "--check")
        assert ('name = "fakeredis"' in (project / "uv.lock").read_text()) is locked
        commit_everything(project, f"update {answers}, with its lockfile")
        assert git(project, "status", "--porcelain") == ""


# ── Migrations: a renamed answer and a moved harness module ───────────────────
OLD_MODULE, NEW_MODULE = "tests/harness/clients.py", HARNESS_MODULE
OLD_ANSWER, NEW_ANSWER = "concurrent_load", "concurrency"
TEAM_HARNESS_FIXTURE = """

@pytest.fixture
def team_headers() -> dict[str, str]:
    return {"x-team": "platform"}
"""
TEAM_HARNESS_TEST = '''"""Uses the fixture the team added to a harness module."""

from fastapi.testclient import TestClient


def test_team_header_reaches_the_app(
    client: TestClient, team_headers: dict[str, str]
) -> None:
    assert client.get("/health", headers=team_headers).status_code == 200
'''
MIGRATIONS = f"""_migrations:
  - version: "2.0.0"
    when: "{{{{ _stage == 'before' }}}}"
    command: ["{{{{ _copier_python }}}}", "{{{{ _copier_conf.src_path }}}}/hooks/migrate_answers.py", "{{{{ _copier_conf.answers_file }}}}", "{OLD_ANSWER}={NEW_ANSWER}"]
  - version: "2.0.0"
    when: "{{{{ _stage == 'before' }}}}"
    command: ["{{{{ _copier_python }}}}", "{{{{ _copier_conf.src_path }}}}/hooks/move_path.py", "{OLD_MODULE}", "{NEW_MODULE}"]
"""  # noqa: E501


def older_names(repo: Path) -> None:
    """1.0.0 called the sync client module clients.py and concurrency
    concurrent_load."""
    source = template_source(repo, NEW_MODULE)
    source.rename(
        source.with_name(
            source.name.replace(Path(NEW_MODULE).name, Path(OLD_MODULE).name)
        )
    )
    replace_in(
        template_source(repo, "tests/harness/__init__.py"),
        '"sync_client": True',
        '"clients": True',
    )
    renamed = re.compile(rf"\b{NEW_ANSWER}\b")
    for path in [repo / "copier.yml", *sorted((repo / "template").rglob("*"))]:
        if path.is_file():
            path.write_text(renamed.sub(OLD_ANSWER, path.read_text()))
    for path in sorted((repo / "template").rglob("*"), reverse=True):
        if renamed.search(path.name):
            path.rename(path.with_name(renamed.sub(OLD_ANSWER, path.name)))


def with_migrations(repo: Path) -> None:
    """2.0.0 adds the migrations after those `_migrations` already lists (the
    update guard's comes first: it renders the project's last version)."""
    config = repo / "copier.yml"
    text = config.read_text()
    top_level_keys = re.findall(r"^([A-Za-z_]\w*):", text, re.M)
    assert top_level_keys[-1] == "_migrations", "copier.yml must end with its list"
    config.write_text(text + MIGRATIONS.removeprefix("_migrations:\n"))


def project_with_team_edits_at_old_names(template: Path, destination: Path) -> Path:
    project = render_at(template, destination, {OLD_ANSWER: True}, "1.0.0")
    assert (project / OLD_MODULE).exists()
    old_module = project / OLD_MODULE
    old_module.write_text(old_module.read_text() + TEAM_HARNESS_FIXTURE)
    (project / "tests/test_team_headers.py").write_text(TEAM_HARNESS_TEST)
    commit_everything(project, "project from 1.0.0; the team extends a harness module")
    return project


def test_migrations_carry_a_renamed_answer_and_a_moved_module(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    template = versioned_template(
        tmp_path_factory.mktemp("renamed"), v1=older_names, v2=with_migrations
    )
    project = project_with_team_edits_at_old_names(template, tmp_path / "project")

    update(project)

    answers = read_answers(project)
    assert answers[NEW_ANSWER] is True
    assert OLD_ANSWER not in answers
    assert (project / "tests/test_concurrent_load.py").exists()
    assert not (project / OLD_MODULE).exists()
    # The module's whole text is new to Copier at its new path, so the team's
    # addition is offered inline, kept on the "before updating" side.
    assert conflicted_files(project) == [NEW_MODULE]
    moved = (project / NEW_MODULE).read_text()
    resolved = keep_side(moved, "before")
    assert resolved.endswith(TEAM_HARNESS_FIXTURE)
    (project / NEW_MODULE).write_text(resolved)
    assert_suite_passes(run_suite(project), at_least=6)


def test_without_the_migrations_the_answer_is_lost_and_the_edits_left_behind(
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The control for the test above: the hooks are what carries the team's
    work to the new names. Without them the update guard still keeps the edited
    module at its old path, where the harness no longer loads it, and says so."""
    template = versioned_template(tmp_path_factory.mktemp("unmigrated"), v1=older_names)
    project = project_with_team_edits_at_old_names(template, tmp_path / "project")
    capfd.readouterr()

    update(project)

    assert read_answers(project)[NEW_ANSWER] is False
    assert "team_headers" not in (project / NEW_MODULE).read_text()
    assert (project / OLD_MODULE).read_text().endswith(TEAM_HARNESS_FIXTURE)
    assert f"  {OLD_MODULE}\n" in capfd.readouterr().out


# ── The hooks on their own: idempotent, and only what they are asked ──────────


def run_hook(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HOOKS / name), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_migrate_answers_renames_keys_keeps_the_rest_and_is_idempotent(
    tmp_path: Path,
) -> None:
    answers = tmp_path / ANSWERS_FILE
    answers.write_text(
        "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"
        "_commit: 1.0.0\n"
        "concurrent_load: true\n"
        "extras:\n  - one\n"
        "ws: false\n"
        "websockets: true\n"
    )
    pairs = ("concurrent_load=concurrency", "extras=features", "ws=websockets")

    first = run_hook("migrate_answers.py", ANSWERS_FILE, *pairs, cwd=tmp_path)
    migrated = answers.read_text()
    second = run_hook("migrate_answers.py", ANSWERS_FILE, *pairs, cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert migrated == (
        "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"
        "_commit: 1.0.0\n"
        "concurrency: true\n"
        "features:\n  - one\n"
        "websockets: true\n"
    )
    assert answers.read_text() == migrated
    refused = run_hook("migrate_answers.py", ANSWERS_FILE, "not-a-pair", cwd=tmp_path)
    assert refused.returncode != 0
    assert "expected old=new" in refused.stderr


def test_move_path_moves_in_git_once_and_stays_inside_the_project(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    (project / "tests/harness").mkdir(parents=True)
    (project / OLD_MODULE).write_text("# the team's edits\n")
    commit_everything(project, "old layout")

    first = run_hook("move_path.py", OLD_MODULE, NEW_MODULE, cwd=project)
    second = run_hook("move_path.py", OLD_MODULE, NEW_MODULE, cwd=project)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert (project / NEW_MODULE).read_text() == "# the team's edits\n"
    assert not (project / OLD_MODULE).exists()
    assert git(project, "diff", "--cached", "--name-status", "-M").split() == [
        "R100",
        OLD_MODULE,
        NEW_MODULE,
    ]
    escaping = run_hook("move_path.py", NEW_MODULE, "../outside.py", cwd=project)
    assert escaping.returncode != 0
    assert "outside the project" in escaping.stderr
    assert (project / NEW_MODULE).exists()


def test_update_guard_after_keeps_edited_files_only_and_leaves_the_index_clean(
    tmp_path: Path,
) -> None:
    """The guard's second half, on a project as Copier leaves it: the update
    deleted an edited test, an untouched one, and a harness module the guard
    had put back before the update (staged) that the new answers drop."""
    project = tmp_path / "project"
    rendered = project / ".git/copier-fastapi-harness/copier._main.old_copy.last-render"
    as_rendered = {
        "tests/test_items.py": "def test_items() -> None: ...\n",
        "tests/test_counters.py": "def test_counters() -> None: ...\n",
        "tests/harness/loop_guard.py": "# the harness\n",
    }
    edited = as_rendered["tests/test_items.py"] + "\ndef test_team() -> None: ...\n"
    (project / "tests").mkdir(parents=True)
    (project / "tests/test_items.py").write_text(edited)
    (project / "tests/test_counters.py").write_text(
        as_rendered["tests/test_counters.py"]
    )
    commit_everything(project, "the team's project; loop_guard.py deleted")
    for name, text in as_rendered.items():
        (rendered / name).parent.mkdir(parents=True, exist_ok=True)
        (rendered / name).write_text(text)
    (project / "tests/harness").mkdir()
    (project / "tests/harness/loop_guard.py").write_text("# the harness\n")
    git(project, "add", "tests/harness/loop_guard.py")
    for name in as_rendered:
        (project / name).unlink()

    result = run_hook("update_guard.py", "after", cwd=project)

    assert result.returncode == 0, result.stderr
    assert (project / "tests/test_items.py").read_text() == edited
    assert "  tests/test_items.py\n" in result.stdout
    assert "test_counters" not in result.stdout
    assert git(project, "status", "--porcelain") == " D tests/test_counters.py\n"
    assert not rendered.exists()
