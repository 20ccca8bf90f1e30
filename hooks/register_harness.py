"""Adopt hook: register the harness (tests/harness/) as a pytest plugin.

Run by Copier in the project after rendering. tests/conftest.py is the
project's: it is created if missing, otherwise one line is appended, and only
if it does not yet register the harness. A conftest.py that already sets
`pytest_plugins` is left untouched; the hook prints the entry to add to it.
"""

import ast
import json
import sys
from pathlib import Path

from adopt_support import in_copier_scratch_copy, inside_project, run_hook
from adoption_fit import collision_report
from project_survey import dependency_home, survey

PLUGIN = "tests.harness"
ANSWERS_FILE = ".copier-answers.fastapi-harness.yml"
REGISTRATION = f'pytest_plugins = ["{PLUGIN}"]  # the FastAPI test harness\n'
NEW_CONFTEST = (
    '"""Your fixtures and hooks live here.\n\n'
    "The harness fixtures (`app`, `client`, and any async ones your answers wired\n"
    "in) come from tests/harness/, which the template owns: `copier update`\n"
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


def register(project: Path) -> str:
    """Register the harness in tests/conftest.py; say what was done."""
    conftest = inside_project(project, "tests/conftest.py")
    if not conftest.exists():
        conftest.write_text(NEW_CONFTEST)
        return "tests/conftest.py: created; it registers the harness"
    source = conftest.read_text()
    if f'"{PLUGIN}"' in source or f"'{PLUGIN}'" in source:
        return ""
    if defines_pytest_plugins(source):
        return (
            "tests/conftest.py: NOT CHANGED: it already sets pytest_plugins; add "
            f'"{PLUGIN}" to that list to register the harness.'
        )
    separator = "" if source.endswith("\n") or not source else "\n"
    conftest.write_text(f"{source}{separator}{REGISTRATION}")
    return "tests/conftest.py: appended the line registering the harness"


def summary(project: Path) -> str:
    """The adoption's last words: what the template wrote, and what is next."""
    home = dependency_home(survey(project))
    return (
        "Adopted the FastAPI test harness. Written: tests/harness/ and "
        "tests/test_harness_smoke.py (the template's: `copier update` rewrites "
        f"them), {ANSWERS_FILE} (your answers, for `copier update`); your own "
        "files gained only the lines listed above.\n"
        f"Next: install the test dependencies ({home.install_command()}), "
        "then run pytest."
    )


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
    registered = register(project)
    if registered:
        print(registered)
    print(summary(project))
    return 0


if __name__ == "__main__":
    sys.exit(run_hook(main, sys.argv[1:]))
