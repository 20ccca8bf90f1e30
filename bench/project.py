"""Render the template from the working tree, and run pytest in what it renders."""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import copier

REPO_ROOT = Path(__file__).resolve().parent.parent
# What a template checkout consists of, as far as Copier is concerned.
TEMPLATE_PARTS = ("copier.yml", "template", "hooks")


def copy_template(destination: Path) -> Path:
    """Copy the template's working tree (uncommitted edits included, no .git)."""
    destination.mkdir(parents=True, exist_ok=True)
    for part in TEMPLATE_PARTS:
        source = REPO_ROOT / part
        if source.is_dir():
            shutil.copytree(
                source,
                destination / part,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
        elif source.exists():
            shutil.copy2(source, destination / part)
    return destination


def render(
    template: Path,
    destination: Path,
    answers: Mapping[str, Any],
    *,
    skip_tasks: bool = False,
) -> Path:
    """`copier copy --trust --defaults` with `answers`, as a user would run it."""
    copier.run_copy(
        str(template),
        str(destination),
        data=dict(answers),
        defaults=True,
        unsafe=True,
        quiet=True,
        skip_tasks=skip_tasks,
    )
    return destination


def pytest_command(project: Path, *args: str) -> list[str]:
    """pytest for a generated project, in this environment, warnings as errors."""
    declared = (project / "pyproject.toml").read_text()
    # Every plugin is installed here; a project without pytest-asyncio must not
    # load it, as in its own environment.
    plugins = [] if "pytest-asyncio" in declared else ["-p", "no:asyncio"]
    return [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-W",
        "error",
        "-p",
        "no:cacheprovider",
        *plugins,
        *args,
    ]


def project_environment(project: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    return env


def run_pytest(project: Path, *args: str) -> tuple[float, float]:
    """Run pytest once; return (wall seconds, pytest's own reported seconds).

    pytest's own figure leaves out interpreter start-up and imports before the
    session starts; the wall time is what a developer waits.
    """
    start = time.perf_counter()
    result = subprocess.run(
        pytest_command(project, *args),
        cwd=project,
        env=project_environment(project),
        capture_output=True,
        text=True,
        timeout=600,
    )
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(
            f"pytest failed in {project}:\n{result.stdout[-3000:]}{result.stderr}"
        )
    reported = re.search(r" in ([\d.]+)s", result.stdout.strip().splitlines()[-1])
    return wall, float(reported.group(1)) if reported else wall


def profile_pytest(project: Path, *args: str, top: int = 12) -> str:
    """Run pytest once under cProfile; the top entries by own time."""
    stats_file = project / ".bench-profile"
    command = pytest_command(project, *args)
    command[1:3] = ["-m", "cProfile", "-o", str(stats_file), "-m", "pytest"]
    subprocess.run(
        command,
        cwd=project,
        env=project_environment(project),
        capture_output=True,
        check=True,
        timeout=600,
    )
    return _top_entries(pstats.Stats(str(stats_file)), top)


def profile_call(
    action: Callable[[], object], top: int = 12, within: str | None = None
) -> str:
    """Run `action` once under cProfile; the top entries by cumulative time.

    `within` keeps only functions whose file path contains it (e.g. "copier").
    """
    profiler = cProfile.Profile()
    profiler.runcall(action)
    return _top_entries(pstats.Stats(profiler), top, "cumulative", within)


def _top_entries(
    stats: pstats.Stats, top: int, order: str = "tottime", within: str | None = None
) -> str:
    output = io.StringIO()
    stats.stream = output  # type: ignore[attr-defined]
    stats.sort_stats(order)
    restrictions = [within, top] if within else [top]
    stats.print_stats(*restrictions)
    lines = output.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    # Paths up to site-packages say nothing; keep the package-relative part.
    return "\n".join(
        re.sub(r"\S*site-packages/", "", line) for line in lines[start:] if line.strip()
    )
