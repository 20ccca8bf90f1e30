"""Shared by the hooks that adopt the harness into an existing project."""

from pathlib import Path

# `copier update` replays the old and the new template version into scratch
# directories and runs the tasks there too; the project's own files are not
# there, so the adopt hooks do nothing in them.
_SCRATCH_PREFIXES = ("copier._main.old_copy.", "copier._main.new_copy.")


def in_copier_scratch_copy(directory: Path) -> bool:
    return any(part.startswith(_SCRATCH_PREFIXES) for part in directory.resolve().parts)


def import_roots(project: Path) -> list[Path]:
    """Where the project's top-level modules live: the root and, if any, src/."""
    return [project, *([project / "src"] if (project / "src").is_dir() else [])]
