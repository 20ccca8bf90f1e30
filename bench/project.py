"""Render the template from the working tree, and run pytest in what it renders."""

from __future__ import annotations

import cProfile
import importlib.machinery
import importlib.util
import io
import os
import pstats
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import copier

REPO_ROOT = Path(__file__).resolve().parent.parent
# What a template checkout consists of, as far as Copier is concerned. The
# template's tests copy it with copy_template too (tests/support/rendering.py).
TEMPLATE_PARTS = ("copier.yml", "extensions.py", "template", "hooks")


# The harness's plain modules, as the template ships them.
HARNESS = REPO_ROOT / "template/{{ harness_directory }}"


def load_harness_module(name: str, file_name: str) -> ModuleType:
    """Import the harness module in `file_name` as the module `name` (a
    dotted name puts it in a package whose modules import each other)."""
    # Its file name is a Jinja condition, so the loader is named, not guessed.
    loader = importlib.machinery.SourceFileLoader(name, str(HARNESS / file_name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    # The module lives in template/: a __pycache__ written beside it would be
    # left in the checkout (Copier excludes it from what it renders).
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = writes_bytecode
    return module


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


def project_environment(
    project: Path, extra: Mapping[str, str | None] | None = None
) -> dict[str, str]:
    """The environment pytest runs in, with `extra` (None: a variable unset)."""
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    for name, value in (extra or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    # As on a developer's machine, compiled modules (and pytest's rewritten test
    # modules) are cached between runs; here in the project, not the environment.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(project / ".pycache")
    return env


def run_pytest(
    project: Path, *args: str, env: Mapping[str, str | None] | None = None
) -> tuple[float, float]:
    """Run pytest once; return (wall seconds, CPU seconds of the pytest process).

    Wall time is what a developer waits; CPU time is what the suite itself costs,
    and stays steady when other work shares the machine.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(
        pytest_command(project, *args),
        cwd=project,
        env=project_environment(project, env),
        capture_output=True,
        text=True,
        timeout=600,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(
            f"pytest failed in {project}:\n{result.stdout[-3000:]}{result.stderr}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def profile_pytest(
    project: Path, *args: str, top: int = 12, within: str | None = None
) -> str:
    """Run pytest once under cProfile; the top entries by cumulative time.

    `within` keeps only functions whose file path contains it.
    """
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
    return _top_entries(pstats.Stats(str(stats_file)), top, "cumulative", within)


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
