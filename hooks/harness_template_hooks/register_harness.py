"""Adopt hook (hooks/register_harness.py): register the harness
(<tests_dir>/harness/) as a pytest plugin.

`main` takes a JSON object of the answers, and `operation` (Copier's: copy
or update), in the project. Where the tests live in a
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
from pathlib import Path

from .adopt_support import (
    FORMER_HARNESS_MODULE,
    HARNESS_MODULE,
    in_project,
    inside_project,
    registered_in_conftest,
)
from .adoption_fit import collision_report
from .project_survey import dependency_home, survey

PLUGIN = HARNESS_MODULE
ANSWERS_FILE = ".copier-answers.fastapi-harness.yml"
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


def register(project: Path, tests_dir: str = "tests") -> str:
    """Register the harness in <tests_dir>/conftest.py; say what was done."""
    relative = f"{tests_dir}/conftest.py"
    conftest = inside_project(project, relative)
    source = conftest.read_text() if conftest.exists() else ""
    if FORMER_REGISTRATION in source:
        conftest.write_text(source.replace(FORMER_REGISTRATION, REGISTRATION))
        return f"{relative}: the harness is now registered as {PLUGIN}"
    if f'"{FORMER_HARNESS_MODULE}"' in source or f"'{FORMER_HARNESS_MODULE}'" in source:
        return (
            f"{relative}: NOT CHANGED: it registers {FORMER_HARNESS_MODULE}; the "
            f'harness is now the package {PLUGIN}: put "{PLUGIN}" in its place.'
        )
    if not registered_in_conftest(tests_dir):
        return ""  # the pytest settings' `-p` loads it (merge_pyproject.py)
    if not conftest.exists():
        conftest.write_text(NEW_CONFTEST)
        return f"{relative}: created; it registers the harness"
    if f'"{PLUGIN}"' in source or f"'{PLUGIN}'" in source:
        return ""
    if defines_pytest_plugins(source):
        return (
            f"{relative}: NOT CHANGED: it already sets pytest_plugins; add "
            f'"{PLUGIN}" to that list to register the harness.'
        )
    separator = "" if source.endswith("\n") or not source else "\n"
    conftest.write_text(f"{source}{separator}{REGISTRATION}")
    return f"{relative}: appended the line registering the harness"


def summary(project: Path, tests_dir: str = "tests", updating: bool = False) -> str:
    """The adoption's (or update's) last words: what the template wrote, and
    what is next."""
    home = dependency_home(survey(project))
    done = "Updated" if updating else "Adopted"
    return (
        f"{done} the FastAPI test harness. Written: {tests_dir}/harness/ and "
        f"{tests_dir}/test_harness_smoke.py (the template's: `copier update` "
        f"rewrites them), {ANSWERS_FILE} (your answers, for `copier update`); "
        "your own files gained only the lines listed above.\n"
        f"Next: install the test dependencies ({home.install_command()}), "
        "then run pytest."
    )


@in_project
def main(project: Path, arguments: list[str]) -> int:
    answers = json.loads(arguments[0]) if arguments else {}
    updating = answers.get("operation") == "update"
    # What the prefix steered clear of was reported when adopting: an update
    # keeps the prefix, and collecting the project's fixtures again to say so
    # costs a pytest collection of its whole suite.
    report = (
        ""
        if updating
        else collision_report(
            survey(project), answers.get("fixture_prefix", ""), answers
        )
    )
    if report:
        print(f"fixture names: {report}")
    tests_dir = str(answers.get("tests_dir") or "tests").strip("/")
    registered = register(project, tests_dir)
    if registered:
        print(registered)
    print(summary(project, tests_dir, updating))
    return 0
