"""The README's quickstart, and then the rendered project's README, run as
written on this machine's own Python.

The commands are read out of the READMEs, so they and this test cannot drift
apart. Each step runs in a new shell and a clean environment, as on a fresh
Debian machine: HOME is empty (but for who commits), PATH is Debian's plain
/usr/local/bin:/usr/bin:/bin (its python3 there refuses pip installs, PEP 668),
and nothing of the test environment leaks in; only the machine's network and
package-index settings and the download caches are kept, so it stays quick.
The project it renders is installed, tested and committed as its README says,
and updated with the command its README gives, to a newer commit of the
template and with an answer changed: no step may fail or be refused.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from documents import console_blocks, copier_command_lines
from releases import commit_everything, git
from rendering import (
    ANSWERS_FILE,
    ON_CI,
    REPO_ROOT,
    copy_template,
    run_captured,
)

SYSTEM_PYTHON = Path("/usr/bin/python3")
CLEAN_PATH = "/usr/local/bin:/usr/bin:/bin"
# What a machine, not a test environment, decides: how to reach the package
# indexes, and the download caches (warm on a developer's machine too).
MACHINE_SETTINGS = re.compile(
    r"^(PIP_|UV_|SSL_CERT_|REQUESTS_CA_BUNDLE$|CURL_CA_BUNDLE$|LANG$|LC_)"
    r"|_proxy$|_PROXY$"
)
CHANGE_IN_NEWER_COMMIT = "A line a newer commit of the template adds."


def quickstart_commands() -> list[str]:
    return console_blocks((REPO_ROOT / "README.md").read_text())[0]


def clean_environment(home: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if MACHINE_SETTINGS.search(name)
    }
    env.setdefault("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv"))
    env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    return {**env, "HOME": str(home), "PATH": CLEAN_PATH, "TERM": "dumb"}


def shell(
    commands: list[str], cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return run_captured(
        ["/bin/bash", "-e", "-u", "-o", "pipefail", "-c", "\n".join(commands)],
        timeout=600,
        cwd=cwd,
        env=env,
    )


def block_running(blocks: list[list[str]], command: str) -> list[str]:
    """The one console block with a line running `command`."""
    found = [block for block in blocks if any(command in line for line in block)]
    assert len(found) == 1, (command, blocks)
    return found[0]


def test_the_readme_quickstart_renders_a_project_that_updates(tmp_path: Path) -> None:
    if not SYSTEM_PYTHON.exists():
        message = f"no {SYSTEM_PYTHON}: the quickstart is run with the system Python"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    home = tmp_path / "home"
    home.mkdir()
    # The one thing a newcomer's machine has that a new HOME lacks: who commits.
    (home / ".gitconfig").write_text(
        "[user]\n\tname = A Newcomer\n\temail = newcomer@example.invalid\n"
    )
    clone = copy_template(tmp_path / "copier-fastapi-harness")
    commit_everything(clone, "the template as tested")
    first_commit = git(clone, "rev-parse", "--short", "HEAD").strip()

    rendered = shell(quickstart_commands(), cwd=clone, env=clean_environment(home))

    output = rendered.stdout + rendered.stderr
    assert rendered.returncode == 0, output
    project = tmp_path / "my-service"
    answers = yaml.safe_load((project / ANSWERS_FILE).read_text())
    # What `copier update` will look for: the clone, by its absolute path.
    assert answers["_src_path"] == str(clone), answers
    assert answers["_commit"] == first_commit, answers

    # The project's own README, each block in a new shell with a plain PATH:
    # install, test, first commit; then coverage, as it offers, in the same
    # shell. Bytecode, pytest's cache and coverage's data are written as in a
    # user's shell, and the project's ignores must cover them.
    readme = project / "README.md"
    blocks = console_blocks(readme.read_text())
    start = block_running(blocks, "uv sync &&")
    coverage = block_running(blocks, "--cov")

    started = shell(start + coverage, cwd=project, env=clean_environment(home))

    output = started.stdout + started.stderr
    assert started.returncode == 0, output
    assert re.search(r"\b\d+ passed\b", output), output
    assert list(project.rglob("__pycache__")), "no bytecode was written"
    assert git(project, "ls-files", "uv.lock") == "uv.lock\n"
    assert git(project, "status", "--porcelain") == ""

    # A newer commit of the template, taken by the README's update command in a
    # new shell, with an answer changed as the README says (--data name=value).
    template_readme = clone / "template" / "README.md.jinja"
    template_readme.write_text(
        template_readme.read_text() + f"\n{CHANGE_IN_NEWER_COMMIT}\n"
    )
    commit_everything(clone, "a newer commit")
    newer_commit = git(clone, "rev-parse", "--short", "HEAD").strip()
    update = block_running(blocks, "copier update")
    assert "`--data name=value`" in readme.read_text()
    assert "`git add -A && git commit`" in readme.read_text()
    changed_answer = [*update[:-1], f"{update[-1]} --data concurrency=true"]
    test = ["uv run pytest"]
    assert test in blocks, blocks

    updated = shell(
        [
            *changed_answer,
            'git add -A && git commit -q -m "Update from the template"',
            *test,
        ],
        cwd=project,
        env=clean_environment(home),
    )

    output = updated.stdout + updated.stderr
    assert updated.returncode == 0, output
    assert re.search(r"\b\d+ passed\b", output), output
    assert CHANGE_IN_NEWER_COMMIT in readme.read_text()
    assert (project / "tests" / "test_concurrent_load.py").is_file()
    answers = yaml.safe_load((project / ANSWERS_FILE).read_text())
    assert answers["_commit"] == newer_commit, answers
    assert answers["_src_path"] == str(clone), answers
    assert answers["concurrency"] is True, answers
    # The relocked uv.lock was committed with the update: the next one starts
    # clean.
    assert git(project, "status", "--porcelain") == ""


def test_rendering_from_a_relative_path_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    clone = copy_template(tmp_path / "copier-fastapi-harness")
    commit_everything(clone, "the template as tested")

    refused = run_captured(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults",
         ".", "../my-service"],
        timeout=120,
        cwd=clone,
    )  # fmt: skip

    assert refused.returncode != 0
    assert 'the template\'s path "." is relative' in refused.stderr, refused.stderr
    assert "absolute path" in refused.stderr
    # One message, not Copier's traceback ending in it.
    assert "Traceback" not in refused.stderr, refused.stderr
    assert not (tmp_path / "my-service").exists()


def test_ci_runs_the_readme_test_command() -> None:
    test_command = console_blocks((REPO_ROOT / "README.md").read_text())[1]
    ci_script = (REPO_ROOT / ".ci" / "run").read_text().splitlines()

    assert len(test_command) == 1, test_command
    assert test_command[0] in ci_script


# What a terminal or a repository page shows before any scrolling.
FIRST_SCREEN_LINES = 30


def test_the_readme_opens_with_what_it_is_and_both_commands() -> None:
    lines = (REPO_ROOT / "README.md").read_text().splitlines()
    first_screen = "\n".join(lines[:FIRST_SCREEN_LINES])

    render, run_tests = console_blocks("\n".join(lines))[:2]
    assert console_blocks(first_screen)[:2] == [render, run_tests]
    assert "copier copy" in " ".join(render)
    assert "pytest" in " ".join(run_tests)
    assert "FastAPI" in first_screen


def test_every_copier_command_in_the_docs_loads_the_templates_extensions() -> None:
    # The template's _jinja_extensions need copier-template-extensions next to
    # Copier; a command without it fails before the first question. Its hooks
    # need tomlkit: without it the first task fails.
    pages = [
        REPO_ROOT / "README.md",
        REPO_ROOT / "template" / "README.md.jinja",
        *sorted((REPO_ROOT / "docs").glob("*.md")),
    ]
    commands = {page.name: copier_command_lines(page.read_text()) for page in pages}

    assert commands["README.md"], "the README's quickstart runs no Copier command"
    missing = {
        page: [
            line
            for line in lines
            if "--with copier-template-extensions" not in line
            or "--with tomlkit" not in line
        ]
        for page, lines in commands.items()
    }
    assert not any(missing.values()), missing
