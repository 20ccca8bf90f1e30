"""Service hook (hooks/sync_pyproject.py): keep a new service's pyproject.toml in
step with its answers, given as a JSON object, `main`'s one argument.

It declares the requirements of dependencies.py's table and the
pytest-asyncio settings the answers need, and removes what an answer no longer
needs, touching only what it added itself (see dependencies.py). Running it
again changes nothing.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

try:
    import tomlkit
except ModuleNotFoundError:
    sys.exit(
        "The template's hooks need tomlkit next to Copier, in "
        f"{sys.executable}: run Copier as `uvx --with tomlkit copier ...`, or "
        "add it with `pipx inject copier tomlkit` or `pip install tomlkit`."
    )
from tomlkit.items import Array, Table

from .adopt_support import in_project
from .dependencies import (
    DEV,
    RUNTIME,
    service_requirements,
    sync_requirements,
    sync_settings,
)


def pytest_asyncio_settings(answers: dict[str, Any]) -> dict[str, Any]:
    if not answers["needs_async_client"] or answers["async_runner"] != "pytest-asyncio":
        return {}
    return {
        "asyncio_mode": answers["asyncio_mode"],
        # One event loop for the whole session: session resources (the app's
        # lifespan, a database engine) and the tests that use them share it.
        "asyncio_default_fixture_loop_scope": "session",
        "asyncio_default_test_loop_scope": "session",
    }


def _array(container: Any, key: str) -> Array:
    if key not in container:
        container[key] = tomlkit.array().multiline(True)
    return container[key]


def _table(container: Any, key: str, *, super_table: bool = False) -> Table:
    if key not in container:
        container[key] = tomlkit.table(is_super_table=super_table)
    return container[key]


def pytest_table(document: tomlkit.TOMLDocument) -> Table:
    """[tool.pytest.ini_options], or pytest 9's native [tool.pytest] if the
    project moved its settings there."""
    tool = _table(document, "tool", super_table=True)
    pytest = _table(tool, "pytest", super_table=True)
    if "ini_options" not in pytest and any(
        not isinstance(value, Table) for value in pytest.values()
    ):
        return pytest
    return _table(pytest, "ini_options")


def sync(project: Path, answers: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Sync project/pyproject.toml; return what changed in its requirements and
    in its pytest settings."""
    path = project / "pyproject.toml"
    original = path.read_text()
    document = tomlkit.parse(original)
    targets = {
        RUNTIME: _array(_table(document, "project"), "dependencies"),
        DEV: _array(_table(document, "dependency-groups"), "dev"),
    }
    requirements = sync_requirements(document, targets, service_requirements(answers))
    settings = sync_settings(
        pytest_table(document), document, pytest_asyncio_settings(answers)
    )
    # Removing the last table leaves the blank line that preceded it.
    updated = tomlkit.dumps(document).rstrip("\n") + "\n"
    if updated != original:
        path.write_text(updated)
    return requirements, settings


def uv_command() -> list[str] | None:
    if uv := shutil.which("uv"):
        return [uv]
    if importlib.util.find_spec("uv"):
        return [sys.executable, "-m", "uv"]
    return None


def relock(project: Path) -> str:
    """Bring uv.lock in step with the changed requirements, so the update and
    its lockfile are committed together (a stale lock would be rewritten by the
    next `uv run`, leaving a tree that the next update refuses as dirty)."""
    uv = uv_command()
    if uv is not None:
        locking = subprocess.run(
            [*uv, "lock"], cwd=project, capture_output=True, text=True, check=False
        )
        if locking.returncode == 0:
            return "uv.lock: relocked; commit it with the update."
        reason = (locking.stderr.strip().splitlines() or ["uv lock failed"])[-1]
    else:
        reason = "uv is not on PATH"
    return (
        f"uv.lock: not relocked ({reason}). Run `uv lock` and commit uv.lock "
        "with the update."
    )


@in_project
def main(project: Path, arguments: list[str]) -> int:
    requirements, settings = sync(project, json.loads(arguments[0]))
    if requirements or settings:
        print(f"pyproject.toml: {'; '.join(requirements + settings)}")
    if requirements and (project / "uv.lock").exists():
        print(relock(project))
    return 0
