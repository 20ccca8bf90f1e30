"""Adopting into projects whose setup the harness must fit or refuse, before a
single file is written.

- Floors: a package the harness needs, declared by the project with a lower
  floor, would resolve (at lowest-direct, or in an old lock) to a release the
  harness cannot import. Adopting raises such floors where it edits
  (pyproject.toml), and refuses, naming the file, the line and the floor, where
  it does not (requirements files, setup.cfg). tests/generation/test_floors.py
  resolves a raised project at lowest-direct.
- Dependencies the harness cannot override (a synchronous sessionmaker handed
  out instead of an async session or async_sessionmaker; a dependency no route
  uses) are refused by the questions' validators, which import them in the
  project: nothing is written.
- The command docs/adoption.md gives works without a terminal (`--defaults`)
  and offers pytest-xdist.
- Messages: adopting renders no compose file, so nothing it writes or prints,
  and nothing the harness shows, tells the team to `docker compose up`.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from adoption import (
    SHOP_WITH_UNFIT_DEPENDENCIES,
    STRICT_ANSWERS,
    copier_cli,
    copier_in,
    refused_output,
    run_hook,
    snapshot,
)
from documents import copier_command_lines
from harness_template_hooks import dependencies
from rendering import (
    REPO_ROOT,
    copy_of_existing_app,
    ruff,
    run_suite,
    suite_environment,
)

# ── Floors below the harness's ────────────────────────────────────────────────

REDIS_ANSWERS = {**STRICT_ANSWERS, "cache": "redis"}
# The harness's pytest requirement, from the one table
# (hooks/harness_template_hooks/dependencies.py).
PYTEST = next(
    spec
    for spec in dependencies.harness_requirements(REDIS_ANSWERS)
    if spec.startswith("pytest>=")
)


@pytest.mark.parametrize(
    ("original", "where", "raised", "report"),
    [
        (
            '[project]\nname = "x"\nversion = "0"\n'
            'dependencies = [\n    "redis>=5",  # the cache\n]\n',
            ("project", "dependencies", 0),
            "redis>=5.2",
            "pyproject.toml [project] dependencies: redis>=5 -> redis>=5.2",
        ),
        (
            '[project]\nname = "x"\nversion = "0"\n\n'
            '[dependency-groups]\ndev = ["fakeredis>=2,<3", "redis"]  # ours\n',
            ("dependency-groups", "dev", 0),
            "fakeredis<3,>=2.32.1",
            "pyproject.toml [dependency-groups] dev: fakeredis>=2,<3 -> "
            "fakeredis<3,>=2.32.1",
        ),
        (
            '[project]\nname = "x"\nversion = "0"\n\n'
            "[tool.uv]\ndev-dependencies = [\"pytest>=8; python_version >= '3.11'\"]\n",
            ("tool", "uv", "dev-dependencies", 0),
            f'{PYTEST}; python_version >= "3.11"',
            "pyproject.toml [tool.uv] dev-dependencies: pytest>=8; "
            f"python_version >= '3.11' -> {PYTEST}; python_version >= \"3.11\"",
        ),
        (
            '[tool.poetry]\nname = "x"\nversion = "0"\n\n'
            '[tool.poetry.dependencies]\npython = "^3.11"\nredis = "^5.0"  # cache\n\n'
            "[tool.poetry.group.test.dependencies]\n"
            'pytest = {version = ">=8", allow-prereleases = false}\n',
            ("tool", "poetry", "group", "test", "dependencies", "pytest"),
            {"version": PYTEST.removeprefix("pytest"), "allow-prereleases": False},
            'pyproject.toml [tool.poetry.dependencies]: redis = "^5.0" -> "<6,>=5.2"',
        ),
    ],
    ids=["pep621", "dependency-group", "uv-dev", "poetry"],
)
def test_a_floor_below_the_harnesss_is_raised_where_it_is_declared(
    tmp_path: Path, original: str, where: tuple[Any, ...], raised: Any, report: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(original)

    output = run_hook(tmp_path, "merge_pyproject.py", json.dumps(REDIS_ANSWERS))

    merged = (tmp_path / "pyproject.toml").read_text()
    entry: Any = tomlkit.parse(merged).unwrap()
    for key in where:
        entry = entry[key]
    assert entry == raised, merged
    assert report in output.splitlines(), output
    # Comments and layout kept: each line of the original is there, but for
    # those of raised requirements (and lists the missing requirements extend).
    kept = set(merged.splitlines())
    changed = [line for line in original.splitlines() if line not in kept]
    assert len(changed) <= output.count(" -> "), changed
    comments = [line.split("#", 1)[1] for line in original.splitlines() if "#" in line]
    assert all(comment in merged for comment in comments), merged
    # Raised once: adopting again changes nothing.
    run_hook(tmp_path, "merge_pyproject.py", json.dumps(REDIS_ANSWERS))
    assert (tmp_path / "pyproject.toml").read_text() == merged


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"requirements-dev.txt": "# test tools\npytest>=8\nhttpx>=0.28\n"},
            "requirements-dev.txt line 2 declares pytest>=8, below the harness's "
            f"{PYTEST} (resolved at its lowest, the harness cannot import it): "
            f"set {PYTEST} there",
        ),
        (
            {
                "setup.cfg": "[metadata]\nname = flat\n\n[options]\n"
                "install_requires =\n    fastapi>=0.115\n    pytest\n"
            },
            "setup.cfg [options] install_requires declares pytest, below the "
            f"harness's {PYTEST} (resolved at its lowest, the harness cannot "
            f"import it): set {PYTEST} there",
        ),
    ],
    ids=["requirements-file", "setup-cfg"],
)
def test_a_low_floor_adopting_cannot_edit_is_refused_before_writing(
    template: Path, tmp_path: Path, files: dict[str, str], message: str
) -> None:
    project = copy_of_existing_app("flat", tmp_path / "project")
    for name, text in files.items():
        (project / name).write_text(text)

    output = refused_output(template, project, "app_import=main:app")

    assert message in output, output


# ── Dependencies the harness cannot override ──────────────────────────────────


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (
            ("async_db=sqlite", "db_session_dependency=shop:get_legacy_sessionmaker"),
            "Validation error for question 'db_session_dependency': needs "
            "async sessions: get_legacy_sessionmaker hands out "
            "SQLAlchemy's synchronous sessionmaker",
        ),
        (
            ("cache=redis", "cache_dependency=shop:get_redis"),
            "Validation error for question 'cache_dependency': answer the "
            "dependency your routes use: no route of the app depends on get_redis",
        ),
    ],
    ids=["sync-sessionmaker", "unused"],
)
def test_a_dependency_the_override_cannot_reach_is_refused_before_writing(
    template: Path, tmp_path: Path, answers: tuple[str, ...], message: str
) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    (project / "shop.py").write_text(SHOP_WITH_UNFIT_DEPENDENCIES)

    output = refused_output(template, project, "app_import=shop:app", *answers)

    assert message in output, output
    assert "Nothing was written." in output


# ── Messages an adopted project can show ──────────────────────────────────────


def test_an_adopted_harness_never_points_at_a_compose_file(
    template: Path, tmp_path: Path
) -> None:
    project = copy_of_existing_app("async_resources", tmp_path / "ledger")
    before = set(snapshot(project))

    result = copier_cli(
        template,
        project,
        "app_import=ledger.main:app",
        "async_db=postgresql",
        "db_session_dependency=ledger.db:get_db",
        "db_metadata=ledger.models:Model",
        "cache=redis",
        "cache_dependency=ledger.cache:get_redis",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "compose" not in (result.stdout + result.stderr).lower()
    written = {
        path: text
        for path, text in snapshot(project).items()
        if path not in before or path == "pyproject.toml"
    }
    harness = "tests/harness/fastapi_harness/"
    assert f"{harness}postgresql_lifecycle.py" in written, sorted(written)
    assert f"{harness}cache.py" in written, sorted(written)
    # The harness's modules are the same in every project: each holds a
    # generated service's messages beside an adopted app's, and shows the one
    # _project.SCAFFOLD names. What they show is checked below; nothing else
    # adopting writes mentions compose.
    plain_modules = {
        path
        for path in written
        if path.startswith(harness) and path != f"{harness}_project.py"
    }
    mentioning = [
        path
        for path, text in written.items()
        if path not in plain_modules and b"compose" in text.lower()
    ]
    assert not mentioning, mentioning
    # No server answers: the messages say how to get one, never compose.
    (project / "tests/test_reaches_the_database.py").write_text(
        "def test_reaches_the_database(db_engine):\n    pass\n"
    )
    shown = run_suite(
        project,
        "-p",
        "no:xdist",
        env=suite_environment(
            project,
            HARNESS_TEST_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:1/",
            HARNESS_TEST_REDIS_URL="redis://127.0.0.1:1/0",
        ),
    )
    output = shown.stdout + shown.stderr
    # How to get a server instead: HARNESS_TEST_DATABASE_URL (adopted, the
    # harness's variables are its own), or the embedded one.
    assert "or unset it to run on an embedded server" in output, output
    assert "Point HARNESS_TEST_REDIS_URL at a Redis server you run" in output, output
    assert "compose" not in output.lower(), output
    # The adopt-mode branches render formatted code.
    formatting = ruff(project, "format", "--isolated", "--check", harness)
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr


# ── The documented command ────────────────────────────────────────────────────


def test_the_documented_adoption_command_runs_without_a_terminal(
    template: Path, tmp_path: Path
) -> None:
    # The first: the one "The command" gives.
    command = next(
        line
        for line in copier_command_lines((REPO_ROOT / "docs/adoption.md").read_text())
        if "copier copy" in line
    )
    words = shlex.split(command)
    assert "--defaults" in words, command
    # The documented Copier, run by this Python (uvx would fetch it).
    arguments = [
        {
            "/path/to/copier-fastapi-harness": str(template),
            "app_import=myapp.main:app": "app_import=main:app",
        }.get(word, word)
        for word in words[words.index("copier") + 1 :]
    ]
    project = copy_of_existing_app("flat", tmp_path / "flat")

    result = copier_in(project, *arguments)

    assert result.returncode == 0, result.stdout + result.stderr
    assert (project / "tests/harness/fastapi_harness/__init__.py").exists()
    # pytest-xdist comes with the harness: each worker gets its own database.
    # The flat app keeps its requirements in requirements.txt: they go beside
    # it, in a requirements-dev.txt that includes it.
    dev = (project / "requirements-dev.txt").read_text().splitlines()
    assert dev[1] == "-r requirements.txt", dev
    assert any(line.startswith("pytest-xdist>=") for line in dev), dev
    assert "dependency-groups" not in (project / "pyproject.toml").read_text()
    assert (
        "Next: install the test dependencies (pip install -r requirements-dev.txt)"
        in result.stdout
    )
