"""The harness's plain modules, copied into a pytester directory and tested
there, without rendering a project.

Most harness modules are plain Python that no answer changes; the ones that
read no answers (they import nothing of `_project`) behave the same in every
project, so their behaviour is tested against the template's own files: a test
writes test files that import them from PACKAGE and runs pytest on those.
The files are read from template/ on every run, never copied into a test.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from rendering import REPO_ROOT

HARNESS = REPO_ROOT / "template" / "{{ harness_directory }}"
# The package the copied modules are imported from (`from harness.streaming
# import ...`): a project has them under its tests directory instead.
PACKAGE = "harness"
# What the inner runs share with a generated project's pytest settings: a
# warning fails the test there, so it does here.
INNER_SETTINGS = """\
[pytest]
filterwarnings = error
addopts = --strict-markers -p no:cacheprovider
asyncio_default_fixture_loop_scope = function
"""


def harness_files() -> dict[str, Path]:
    """Each plain harness module by the name a project gets it under: the
    file's name without its `{% if ... %}` condition."""
    files = {re.sub(r"\{%.*?%\}", "", path.name): path for path in HARNESS.iterdir()}
    return {name: path for name, path in files.items() if name.endswith(".py")}


def harness_imports(path: Path) -> set[str]:
    """The harness modules `path` imports relatively (`from . import x`,
    `from .x import y`), as file names."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                imported.add(f"{node.module.split('.')[0]}.py")
            else:
                imported.update(f"{alias.name}.py" for alias in node.names)
    return imported


def copy_plain_modules(pytester: pytest.Pytester, *names: str) -> Path:
    """Copy the harness modules `names` (e.g. "streaming.py"), and the harness
    modules they import, into `pytester`'s directory as the package PACKAGE;
    return its directory. A module that reads the answers (`_project`) has no
    plain behaviour and is refused."""
    files = harness_files()
    package = pytester.path / PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text(
        '"""The harness\'s plain modules, as template/ has them."""\n'
    )
    # Each module to copy, and the one whose import asked for it.
    wanted = [(name, name) for name in names]
    copied: set[str] = set()
    while wanted:
        name, asked_by = wanted.pop()
        if name in copied:
            continue
        if name not in files:
            known = ", ".join(sorted(files))
            raise LookupError(f"no harness module {name!r} (there are: {known})")
        imports = harness_imports(files[name])
        if "_project.py" in imports:
            raise ValueError(
                f"{name} (for {asked_by}) reads the project's answers (_project): "
                "its behaviour is tested in a rendered project"
            )
        (package / name).write_text(files[name].read_text())
        copied.add(name)
        wanted.extend((module, asked_by) for module in imports)
    pytester.makeini(INNER_SETTINGS)
    return package
