"""Adopting leaves the project's git tree as adoption means to: the import check
imports the project's modules, and that must not leave bytecode behind in a shell
that does not set PYTHONDONTWRITEBYTECODE (most users' shells do not), or the
tree is dirty for the next `copier update`."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from adoption import LAYOUTS, MERGED_INTO, harness_owned
from releases import commit_everything, git
from rendering import EXISTING_APPS, run_captured

# Every answer the import check probes is a module of this project's: the app,
# its session dependency, its metadata and its cache dependency.
LEDGER = LAYOUTS["async_resources"]


def test_adopting_writes_no_bytecode_into_the_project(
    template: Path, tmp_path: Path
) -> None:
    project = tmp_path / "ledger"
    shutil.copytree(EXISTING_APPS / "async_resources", project)
    commit_everything(project, "The ledger service before adopting the harness")
    # A shell of its own: Copier hands its tasks the environment it started
    # with, so the variable is left out of Copier's, not just this process's.
    env = {**os.environ}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    data = [f"--data={question}={value}" for question, value in LEDGER.answers.items()]

    adopted = run_captured(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--quiet",
         "--data=scaffold=adopt", *data, str(template), str(project)],
        timeout=300,
        env=env,
    )  # fmt: skip

    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert not list(project.rglob("__pycache__")), list(project.rglob("__pycache__"))
    changed = {
        line[3:]
        for line in git(
            project, "status", "--porcelain", "--untracked-files=all"
        ).splitlines()
    }
    assert changed, "adopting wrote nothing"
    unexpected = {
        path for path in changed if not harness_owned(path) and path not in MERGED_INTO
    }
    assert not unexpected, f"adopting left these in the project: {sorted(unexpected)}"
