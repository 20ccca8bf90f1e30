"""Move a file of the project to where a newer template version renders it.

Run by Copier as a `before` `_migrations` entry when the template moves one of
its modules (say a harness module is renamed), so the team's edits in the old
file travel with it instead of being deleted along with the old path:

    python hooks/move_path.py tests/harness/clients.py tests/harness/sync_client.py

The move is recorded in git's index too (`git mv`), because Copier computes the
team's changes from the index. Idempotent: nothing happens when the old path is
gone or the new one already exists. Standard library and git only; paths must
stay inside the project.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def inside(project: Path, relative: str) -> Path:
    path = (project / relative).resolve()
    if not path.is_relative_to(project):
        raise SystemExit(f"move_path: {relative} is outside the project")
    return path


def is_tracked(project: Path, path: Path) -> bool:
    listed = subprocess.run(
        ["git", "ls-files", "--error-unmatch", "--", str(path)],
        cwd=project,
        capture_output=True,
        check=False,
    )
    return listed.returncode == 0


def move(project: Path, old_relative: str, new_relative: str) -> bool:
    old, new = inside(project, old_relative), inside(project, new_relative)
    if not old.exists() or new.exists():
        return False
    new.parent.mkdir(parents=True, exist_ok=True)
    if is_tracked(project, old):
        subprocess.run(["git", "mv", "--", str(old), str(new)], cwd=project, check=True)
    else:
        old.rename(new)
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    move(Path.cwd().resolve(), argv[0], argv[1])
    return 0
