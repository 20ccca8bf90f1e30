"""Where a project declares its dependencies, where the harness's go, and what
adopting says.

- Read: every place a project declares requirements (requirements files
  anywhere in its tree, with their `-r` includes; PEP 621 lists and extras;
  PEP 735 groups; Poetry's tables; uv's dev-dependencies; setup.cfg).
- Written: the harness's requirements go where the project keeps its own test
  dependencies (where pytest is declared, else a file, group or extra named for
  tests or development, else a new one beside its dependencies), appended as
  people append; nothing already declared anywhere is declared again.
- Said: a successful adoption ends with what it wrote and why, and the command
  installing the test dependencies; a refusal is one message, no traceback.
  (tests/adoption/test_adopt.py adopts the layouts src_requirements and pep735_groups
  and runs their suites.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import tomlkit
from adoption import STRICT_ANSWERS, copier_cli, refused_output, run_hook
from harness_template_hooks import project_survey
from rendering import HOOKS, copy_of_existing_app, run_captured


def write(project: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)


def home_of(project: Path) -> str:
    return project_survey.dependency_home(project_survey.survey(project)).where()


# ── Read: every place ─────────────────────────────────────────────────────────


@pytest.mark.quick
def test_requirements_files_anywhere_in_the_tree_are_read(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "src/requirements.txt": "fastapi>=0.115  # the app\n",
            # Included with -r: read though its name says nothing.
            "src/requirements-dev.txt": "-r requirements.txt\n-r ../tools/base.in\n"
            "pytest==8.4.1 \\\n    --hash=sha256:abc\n"
            "-e .\ngit+https://example.invalid/x.git#egg=x\n",
            "tools/base.in": "httpx>=0.28\n",
            "requirements/test.txt": "-c ../constraints.txt\nfakeredis>=2.32\n",
            # Only a constraint: pins nothing the project declares.
            "constraints.txt": "redis<6\n",
            ".venv/requirements.txt": "not-the-projects==1\n",
        },
    )

    found = {d.name: d.where for d in project_survey.declarations(tmp_path)}

    assert found == {
        "fastapi": "src/requirements.txt line 1",
        "pytest": "src/requirements-dev.txt line 3",
        "httpx": "tools/base.in line 1",
        "fakeredis": "requirements/test.txt line 2",
    }


@pytest.mark.parametrize(
    ("files", "home"),
    [
        (
            {
                "src/requirements.txt": "fastapi\n",
                "src/requirements-dev.txt": "-r requirements.txt\npytest>=8.4\n",
            },
            "src/requirements-dev.txt",
        ),
        (
            # pip-tools: the .in is the source of the compiled .txt.
            {
                "requirements.in": "fastapi\n",
                "requirements-test.in": "pytest\n",
                "requirements-test.txt": "pytest==8.4.1\n",
            },
            "requirements-test.in",
        ),
        (
            {
                "pyproject.toml": '[project]\nname = "x"\nversion = "0"\n'
                'dependencies = ["fastapi"]\n\n[dependency-groups]\n'
                'lint = ["ruff"]\ntest = ["pytest"]\n'
            },
            "pyproject.toml [dependency-groups] test",
        ),
        (
            {
                "pyproject.toml": '[tool.poetry]\nname = "x"\nversion = "0"\n\n'
                '[tool.poetry.dependencies]\npython = "^3.11"\nfastapi = "*"\n\n'
                '[tool.poetry.group.dev.dependencies]\npytest = "^8.4"\n'
            },
            "pyproject.toml [tool.poetry.group.dev.dependencies]",
        ),
        (
            {
                "pyproject.toml": '[project]\nname = "x"\nversion = "0"\n'
                'dependencies = ["fastapi"]\n',
                "requirements-dev.txt": "pytest\n",
            },
            "requirements-dev.txt",
        ),
        (
            {
                "requirements/base.txt": "fastapi\n",
                "requirements/dev.txt": "-r base.txt\n",
            },
            "requirements/dev.txt",
        ),
        (
            {
                "pyproject.toml": '[project]\nname = "x"\nversion = "0"\n'
                'dependencies = ["fastapi"]\n\n[tool.pdm.dev-dependencies]\n'
                'lint = ["ruff"]\ntest = ["pytest"]\n'
            },
            "pyproject.toml [tool.pdm.dev-dependencies] test",
        ),
        (
            {
                "pyproject.toml": '[project]\nname = "x"\nversion = "0"\n'
                'dependencies = ["fastapi"]\n\n[tool.hatch.envs.default]\n'
                'dependencies = ["pytest", "coverage"]\n'
            },
            "pyproject.toml [tool.hatch.envs.default] dependencies",
        ),
        (
            # Exported with hashes: a line without one would break installs.
            {
                "pyproject.toml": '[project]\nname = "x"\nversion = "0"\n'
                'dependencies = ["fastapi"]\n\n[dependency-groups]\n'
                'dev = ["ruff"]\n',
                "requirements-test.txt": "pytest==8.4.1 --hash=sha256:abc\n",
            },
            "pyproject.toml [dependency-groups] dev",
        ),
        # None kept yet: a new one beside the project's own.
        ({"requirements/base.txt": "fastapi\n"}, "requirements/test.txt"),
        ({"app/requirements.txt": "fastapi\n"}, "app/requirements-dev.txt"),
        (
            {
                "requirements.txt": "fastapi\n",
                "requirements-dev.txt": "pytest==8.4.1 --hash=sha256:abc\n",
            },
            "requirements-test.txt",
        ),
        (
            {
                "pyproject.toml": '[tool.poetry]\nname = "x"\nversion = "0"\n\n'
                '[tool.poetry.dependencies]\nfastapi = "*"\n'
            },
            "pyproject.toml [tool.poetry.group.dev.dependencies]",
        ),
        (
            {"setup.cfg": "[options]\ninstall_requires =\n    fastapi\n"},
            "setup.cfg [options.extras_require] test",
        ),
        ({}, "pyproject.toml [dependency-groups] dev"),
    ],
    ids=[
        "src-requirements",
        "pip-tools",
        "pep735-test-group",
        "poetry-dev-group",
        "pyproject-app-requirements-tests",
        "requirements-dir-dev-only-includes",
        "pdm-test-group",
        "hatch-default-env",
        "hashed-export",
        "new-requirements-dir-file",
        "new-requirements-dev",
        "new-beside-a-hashed-one",
        "new-poetry-group",
        "new-setup-cfg-extra",
        "nothing",
    ],
)
def test_the_harnesss_requirements_go_where_the_project_keeps_its_tests(
    tmp_path: Path, files: dict[str, str], home: str
) -> None:
    write(tmp_path, files)

    assert home_of(tmp_path) == home


# ── Written: appended there, nothing declared twice ───────────────────────────


@pytest.mark.parametrize(
    ("files", "changed", "expected"),
    [
        (
            {
                "src/requirements.txt": "fastapi>=0.115\nsqlalchemy[asyncio]>=2.0.36\n",
                "src/requirements-dev.txt": "-r requirements.txt\npytest>=8.4",
            },
            "src/requirements-dev.txt",
            "-r requirements.txt\npytest>=8.4\npytest-xdist>=",
        ),
        (
            {"requirements/base.txt": "fastapi>=0.115\n"},
            "requirements/test.txt",
            "# Test dependencies, added when adopting the FastAPI test harness.\n"
            "-r base.txt\npytest>=8.4\n",
        ),
        (
            {
                "setup.cfg": "[metadata]\nname = x\n\n[options]\ninstall_requires =\n"
                "    fastapi>=0.115\n\n[options.extras_require]\ndocs =\n    mkdocs\n"
                "\n[flake8]\nmax-line-length = 100\n"
            },
            "setup.cfg",
            "[options.extras_require]\ndocs =\n    mkdocs\ntest =\n    pytest>=8.4\n",
        ),
    ],
    ids=["src-requirements-dev", "new-requirements-test", "setup-cfg-new-extra"],
)
def test_the_requirements_are_appended_there_once(
    tmp_path: Path, files: dict[str, str], changed: str, expected: str
) -> None:
    write(tmp_path, files)
    answers = json.dumps({**STRICT_ANSWERS, "async_db": "sqlite"})

    report = run_hook(tmp_path, "merge_pyproject.py", answers)

    text = (tmp_path / changed).read_text()
    assert expected in text, text
    assert f"{changed}" in report
    for name, original in files.items():
        if name != changed:
            assert (tmp_path / name).read_text() == original
    if "pyproject.toml" in {p.name for p in tmp_path.iterdir()}:
        created = tomlkit.parse((tmp_path / "pyproject.toml").read_text())
        assert set(created) == {"tool"}, "dependencies went into pyproject.toml"
    declared = [d.name for d in project_survey.declarations(tmp_path)]
    assert len(declared) == len(set(declared)), declared
    assert "sqlalchemy" in declared
    assert "aiosqlite" in declared

    run_hook(tmp_path, "merge_pyproject.py", answers)

    assert (tmp_path / changed).read_text() == text


@pytest.mark.parametrize(
    ("fastapi", "websockets", "httpx"),
    [
        # Starlette 0.27: its TestClient calls httpx.Client(app=...), removed
        # in httpx 0.28.
        ("fastapi==0.100.1", False, "httpx>=0.23.1,<0.28"),
        ("fastapi==0.100.1", True, "httpx>=0.25.1,<0.28"),
        # Starlette 0.37 passes a transport: a new service's floor.
        ("fastapi==0.110.1", False, "httpx>=0.28"),
    ],
)
def test_an_old_testclient_keeps_an_httpx_it_runs_on(
    tmp_path: Path, fastapi: str, websockets: bool, httpx: str
) -> None:
    """A project declaring no httpx of its own (it came with a dev tool)."""
    write(
        tmp_path,
        {"requirements.txt": f"{fastapi}\n", "requirements-dev.txt": "pytest==8.4.1\n"},
    )
    answers = json.dumps({**STRICT_ANSWERS, "websockets": websockets})

    run_hook(tmp_path, "merge_pyproject.py", answers)

    declared = (tmp_path / "requirements-dev.txt").read_text().splitlines()
    assert [line for line in declared if line.startswith(("httpx>", "httpx<"))] == [
        httpx
    ]


# ── Said: the summary, and refusals as one message ────────────────────────────


def test_adopting_ends_with_what_it_wrote_and_why(
    template: Path, tmp_path: Path
) -> None:
    project = copy_of_existing_app("src_requirements", tmp_path / "project")

    result = copier_cli(
        template, project, "app_import=catalog.main:app", "concurrency=true"
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("src/requirements-dev.txt: added pytest-xdist>=")
        and line.endswith(
            "(this project keeps its test dependencies there: pytest is declared there)"
        )
        for line in lines
    ), output
    assert (
        'pyproject.toml [tool.pytest.ini_options] pythonpath: added [".", '
        '"tests/harness"] (so the harness\'s package, fastapi_harness, imports, '
        "and your app from src/ if you have one)"
    ) in lines, output
    assert "tests/conftest.py: created; it registers the harness" in lines
    assert lines[-2].startswith(
        "Adopted the FastAPI test harness. Written: tests/harness/"
    )
    assert lines[-1] == (
        "Next: install the test dependencies (pip install -r "
        "src/requirements-dev.txt), then run pytest."
    )
    assert "Traceback" not in output


def test_a_refusal_is_one_message_with_every_conflict_and_no_traceback(
    template: Path, tmp_path: Path
) -> None:
    """Under --defaults, every answer and the versions they need are judged
    together: the runner's pin, each other pin below the adopted harness's
    floors and a feature needing newer releases come in the one message (they
    came a Copier run at a time, under a traceback)."""
    project = copy_of_existing_app("pinned_old_stack", tmp_path / "project")
    requirements = project / "requirements-dev.txt"
    for old, new in (
        ("pytest==8.1.1", "pytest==7.1.3"),
        ("httpx==0.23.3", "httpx==0.23.0"),
        ("pytest-asyncio==0.20.3", "pytest-asyncio==0.19.0"),
    ):
        requirements.write_text(requirements.read_text().replace(old, new))

    output = refused_output(
        template,
        project,
        "app_import=svc.main:app",
        "concurrency=true",
        "websockets=true",
        "async_runner=pytest-asyncio",
    )

    assert "Traceback" not in output
    assert output.count("These answers do not fit this project") == 1, output
    assert output.lower().count("nothing was written") == 1, output
    assert "Validation error" not in output
    for conflict in (
        "you declare pytest==7.1.3",
        "you declare httpx==0.23.0",
        "you declare pytest-asyncio==0.19.0",
        "WebSockets over async_client needs httpx-ws",
    ):
        assert conflict in output, output
    assert "async_runner=anyio" in output


@pytest.fixture
def flat(tmp_path: Path) -> Path:
    """A copy of the flat app (main.py beside its requirements.txt)."""
    return copy_of_existing_app("flat", tmp_path / "project")


def test_a_typed_answer_refused_on_its_own_has_no_traceback(
    template: Path, flat: Path
) -> None:
    output = refused_output(template, flat, "app_import=main:missing")

    assert "Traceback" not in output
    assert output.count("Validation error for question 'app_import'") == 1
    assert "has no attribute 'missing'" in output


def test_a_pyproject_that_does_not_parse_is_refused_before_writing(
    template: Path, flat: Path
) -> None:
    (flat / "pyproject.toml").write_text('[project\nname = "flat"\n')

    output = refused_output(template, flat, "app_import=main:app")

    assert "Traceback" not in output
    assert "pyproject.toml is not valid TOML (" in output
    assert "fix it, then run Copier again. Nothing was written." in output


def test_a_failing_hook_prints_one_message_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "tests" / "conftest.py").mkdir(parents=True)

    result = run_captured(
        [sys.executable, str(HOOKS / "register_harness.py"), "{}"], cwd=tmp_path
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.startswith(
        "error: adopting stopped in register_harness.py: IsADirectoryError:"
    )
    assert "Fix:" in result.stderr
