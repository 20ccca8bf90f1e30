"""Adopt hook: register the harness (<tests_dir>/harness/) as a pytest plugin.

Run by Copier in the project after rendering. Where the tests live in a
top-level tests/ (or test*/) directory, its conftest.py registers the harness:
it is created if missing, otherwise one line is appended, and only if it does
not yet register the harness. A conftest.py that already sets `pytest_plugins`
is left untouched; the hook prints the entry to add to it. Deeper down
(src/tests/), the pytest settings' `-p fastapi_harness` loads it instead
(merge_pyproject.py), and no conftest.py is touched.

An earlier adoption's line registering `tests.harness` is renamed in place.
"""

import ast
import json
import sys
from pathlib import Path

from adopt_support import (
    FORMER_HARNESS_MODULE,
    HARNESS_MODULE,
    in_copier_scratch_copy,
    inside_project,
    registered_in_conftest,
)
from adoption_fit import collision_report
from project_survey import survey

PLUGIN = HARNESS_MODULE
REGISTRATION = f'pytest_plugins = ["{PLUGIN}"]  # the FastAPI test harness\n'
FORMER_REGISTRATION = REGISTRATION.replace(PLUGIN, FORMER_HARNESS_MODULE)
NEW_CONFTEST = (
    '"""Your fixtures and hooks live here.\n\n'
    "The harness fixtures (`app`, `client`, and any async ones your answers wired\n"
    "in) come from harness/, which the template owns: `copier update`\n"
    'rewrites those modules, and never this file.\n"""\n\n' + REGISTRATION
)


def defines_pytest_plugins(source: str) -> bool:
    for node in ast.parse(source).body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign | ast.AugAssign)
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == "pytest_plugins" for t in targets):
            return True
    return False


def main(arguments: list[str]) -> int:
    project = Path.cwd()
    if in_copier_scratch_copy(project):
        return 0
    answers = json.loads(arguments[0]) if arguments else {}
    report = collision_report(
        survey(project), answers.get("fixture_prefix", ""), answers
    )
    if report:
        print(f"fixture names: {report}")
    tests_dir = str(answers.get("tests_dir") or "tests").strip("/")
    relative = f"{tests_dir}/conftest.py"
    conftest = inside_project(project, relative)
    source = conftest.read_text() if conftest.exists() else ""
    if FORMER_REGISTRATION in source:
        conftest.write_text(source.replace(FORMER_REGISTRATION, REGISTRATION))
        print(f"{relative}: the harness is now registered as {PLUGIN}")
        return 0
    if f'"{FORMER_HARNESS_MODULE}"' in source or f"'{FORMER_HARNESS_MODULE}'" in source:
        print(
            f"{relative}: NOT CHANGED: it registers {FORMER_HARNESS_MODULE}; the "
            f'harness is now the package {PLUGIN}: put "{PLUGIN}" in its place.'
        )
        return 0
    if not registered_in_conftest(tests_dir):
        return 0  # the pytest settings' `-p` loads it (merge_pyproject.py)
    if not conftest.exists():
        conftest.write_text(NEW_CONFTEST)
        print(f"{relative}: created; it registers the harness")
        return 0
    if f'"{PLUGIN}"' in source or f"'{PLUGIN}'" in source:
        return 0
    if defines_pytest_plugins(source):
        print(
            f"{relative}: NOT CHANGED: it already sets pytest_plugins; add "
            f'"{PLUGIN}" to that list to register the harness.'
        )
        return 0
    separator = "" if source.endswith("\n") or not source else "\n"
    conftest.write_text(f"{source}{separator}{REGISTRATION}")
    print(f"{relative}: appended the line registering the harness")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
