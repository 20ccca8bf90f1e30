"""Shared by the hooks that adopt the harness into an existing project."""

import re
import sys
from collections.abc import Callable
from pathlib import Path

# The answers naming how the app reads its servers from the environment. With
# any of them, the harness must load before any conftest.py imports the app.
ENVIRONMENT_ANSWERS = (
    "database_url_env",
    "redis_url_env",
    "database_env_parts",
    "redis_env_parts",
)


def package_name(requirement: str) -> str:
    """The normalized distribution name of a PEP 508 requirement."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""


# `copier update` replays the old and the new template version into scratch
# directories and runs the tasks there too; the project's own files are not
# there, so the adopt hooks do nothing in them.
_SCRATCH_PREFIXES = ("copier._main.old_copy.", "copier._main.new_copy.")


def in_copier_scratch_copy(directory: Path) -> bool:
    return any(part.startswith(_SCRATCH_PREFIXES) for part in directory.resolve().parts)


def in_project(step: Callable[[Path, list[str]], int]) -> Callable[[list[str]], int]:
    """A hook's `main(arguments)`: `step(project, arguments)` in the project
    Copier runs the hook in (the working directory), and nothing in the scratch
    copies of an update."""

    def main(arguments: list[str]) -> int:
        project = Path.cwd()
        if in_copier_scratch_copy(project):
            return 0
        return step(project, arguments)

    return main


def import_roots(project: Path) -> list[Path]:
    """Where the project's top-level modules live: the root and, if any, src/."""
    return [project, *([project / "src"] if (project / "src").is_dir() else [])]


def outside_target(project: Path, relative: str) -> Path | None:
    """Where project/relative leads when that is outside the project; else None.

    A link anywhere along the path counts, a dangling one included: writing
    through it creates its target.
    """
    path = project / relative
    if not (path.is_symlink() or path.exists()):
        return None
    root = project.resolve()
    target = path.resolve()
    if target == root or root in target.parents:
        return None
    return target


def inside_project(project: Path, relative: str) -> Path:
    """project/relative, refused (exit 1, naming the file) when it is a symbolic
    link that leads outside the project: writing there would change a file that
    is not the project's. Copier's validator refuses first; this holds when a
    hook runs on its own."""
    target = outside_target(project, relative)
    if target is not None:
        sys.exit(
            f"error: {relative} is a symbolic link to {target}, outside this "
            "project: the harness writes to it, so it was not changed. Replace "
            "the link with a copy of what it points to (or point it inside the "
            "project), then run copier again."
        )
    return project / relative


# The adopted harness's package: a top-level name of its own, so that no `tests`
# package elsewhere on the path and no module of the project can shadow it. It
# lives in <tests_dir>/harness/, which `pythonpath` names and which holds
# nothing else. Earlier adoptions rendered it as the package tests/harness,
# loaded as `tests.harness`.
HARNESS_MODULE = "fastapi_harness"
FORMER_HARNESS_MODULE = "tests.harness"


def harness_import_root(tests_dir: str) -> str:
    """The `pythonpath` entry the harness's package imports from."""
    return f"{tests_dir.strip('/')}/harness"


def registered_in_conftest(tests_dir: str) -> bool:
    """Whether the harness is registered in <tests_dir>/conftest.py.

    pytest reads `pytest_plugins` only in the conftest files it loads before
    collecting, and loads a top-level directory named test* first in every
    run; a conftest.py deeper down (src/tests/) may be loaded later, where
    `pytest_plugins` is refused, so there the pytest settings' `-p` loads it.
    """
    parts = tests_dir.strip("/").split("/")
    return len(parts) == 1 and parts[0].startswith("test")


def run_hook(main: Callable[[list[str]], int], arguments: list[str]) -> int:
    """Run an adopt hook's `main`: a failure it did not foresee prints one plain
    message (what failed, where, what to do), never a traceback, and exits 1;
    Copier then stops, naming the task."""
    try:
        return main(arguments)
    except Exception as error:  # the one message is the point
        hook = Path(sys.argv[0]).name
        print(
            f"error: adopting stopped in {hook}: {type(error).__name__}: {error}\n"
            "  Fix: if it names one of your files, correct it and run Copier again "
            "(it rewrites the harness's files; yours are left as they are now); "
            "otherwise report it with this line.",
            file=sys.stderr,
        )
        return 1
