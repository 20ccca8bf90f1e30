"""Temporary git copies of the template carrying release tags, and the git
calls the update and adoption tests make on them and on rendered projects."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from rendering import ON_CI, REPO_ROOT, TEMPLATE_PARTS, copy_template

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "template-tests@example.invalid",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "template-tests@example.invalid",
}


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_IDENTITY},
        check=False,
    )
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


def commit_everything(repo: Path, message: str) -> None:
    if not (repo / ".git").exists():
        git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path} no longer contains {old!r}"
    path.write_text(text.replace(old, new, 1))


def refresh_template(repo: Path) -> None:
    """Reset the template parts of `repo` to the working tree being tested."""
    for part in TEMPLATE_PARTS:
        target = repo / part
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    copy_template(repo)


def versioned_template(
    root: Path,
    *,
    v1: Callable[[Path], None] | None = None,
    v2: Callable[[Path], None] | None = None,
) -> Path:
    """A git copy of the template tagged 1.0.0 and 2.0.0.

    `v1` turns the working tree into the older release; `v2` makes the newer
    one's changes on top of the working tree.
    """
    repo = copy_template(root)
    if v1:
        v1(repo)
    commit_everything(repo, "release 1.0.0")
    git(repo, "tag", "1.0.0")
    refresh_template(repo)
    if v2:
        v2(repo)
    commit_everything(repo, "release 2.0.0")
    git(repo, "tag", "2.0.0")
    return repo


def released_at(commit: str) -> Callable[[Path], None]:
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
