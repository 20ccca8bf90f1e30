"""Adopt hook: merge the harness's test dependencies into the project's
pyproject.toml, and its pytest settings into the file the project's pytest reads
(pytest_settings.py), keeping comments and formatting (tomlkit).

Run by Copier in the project after rendering, with the Python running Copier
(which needs tomlkit), and a JSON object of the answers as its one argument.

Only what is missing is added: a dependency the project already declares
anywhere (any extra or group) is left alone, as is every pytest setting it
already has. A setting whose value differs from what the harness needs is
reported, never overwritten. Running it again changes nothing.
"""

import json
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import tomlkit
from adopt_support import in_copier_scratch_copy, inside_project
from adoption_fit import below_floor, conflict, old_starlette, raised_floor
from dependencies import declared_packages, harness_requirements, package_name
from packaging.requirements import Requirement
from project_survey import (
    Survey,
    poetry_constraint,
    poetry_tables,
    pytest_config,
    requirement_lists,
    survey,
)
from pytest_settings import current_value, merge_settings
from tomlkit.items import Array, Table

NEW_PYPROJECT_HEADER = (
    "# Created when adopting the FastAPI test harness (copier-fastapi-harness):\n"
    "# its test dependencies and pytest settings. The rest is yours to add.\n"
)


def harness_dependencies(
    answers: dict[str, Any], survey: Survey | None = None
) -> list[str]:
    """What the harness imports, from the one table in dependencies.py; a
    project on a Starlette before 1.10 keeps it, with plain httpx, and a
    project whose pins exclude a new service's floor keeps them where the
    harness runs on older releases."""
    if survey is None:
        return harness_requirements(answers)
    return harness_requirements(
        answers,
        old_starlette=old_starlette(survey),
        excluded=lambda spec: bool(conflict(survey, spec)),
    )


def harness_pytest_settings(
    answers: dict[str, Any], project: Path, survey: Survey
) -> dict[str, Any]:
    # The project root puts `tests.harness` on the path; src/ the app's package.
    settings: dict[str, Any] = {
        "pythonpath": ["."] + (["src"] if (project / "src").is_dir() else [])
    }
    testpaths = current_value(survey.pytest_config, "testpaths")
    if testpaths is not None and not covers_harness_tests(testpaths):
        settings["testpaths"] = [*testpaths, "tests/test_harness_smoke.py"]
    if any(
        answers.get(answer)
        for answer in (
            "database_url_env",
            "redis_url_env",
            "database_env_parts",
            "redis_env_parts",
        )
    ):
        # The harness loaded before any conftest.py, its environment module
        # first: the app's variables are set before anything imports the app.
        # (The whole package, not the one module: a package pytest imported
        # before registering it would warn that it cannot rewrite its asserts.)
        # On anyio, anyio's plugin goes first: a plugin loaded after the
        # harness would replace its session-scoped `anyio_backend` with its own
        # module-scoped one, which the harness's session fixtures cannot use.
        first = ["-p", "anyio"] if answers.get("async_runner") == "anyio" else []
        settings["addopts"] = [*first, "-p", "tests.harness"]
    if answers["needs_async_client"] and answers["async_runner"] == "pytest-asyncio":
        settings["asyncio_mode"] = answers["asyncio_mode"]
        # One event loop for the session: the app's lifespan and the tests share
        # it. A project that already runs pytest-asyncio keeps its loop scopes
        # (its own async fixtures depend on them); the harness's fixtures and
        # tests name the session loop themselves.
        if not survey.uses_pytest_asyncio:
            settings["asyncio_default_fixture_loop_scope"] = "session"
            settings["asyncio_default_test_loop_scope"] = "session"
    return settings


def covers_harness_tests(testpaths: list[str]) -> bool:
    smoke = PurePosixPath("tests/test_harness_smoke.py")
    for entry in testpaths:
        entry = entry.strip().rstrip("/") or "."
        if entry == "." or smoke.is_relative_to(entry) or smoke.match(entry):
            return True
    return False


def dependency_list(document: tomlkit.TOMLDocument) -> tuple[str, Array]:
    """The list test dependencies go to: an existing `test` extra, uv's
    `[tool.uv] dev-dependencies`, else the `dev` dependency group (created if
    need be)."""
    extras = document.get("project", {}).get("optional-dependencies", {})
    if "test" in extras:
        return "[project.optional-dependencies] test", extras["test"]
    uv = document.get("tool", {}).get("uv", {})
    if "dev-dependencies" in uv:
        return "[tool.uv] dev-dependencies", uv["dev-dependencies"]
    if "dependency-groups" not in document:
        document.add("dependency-groups", tomlkit.table())
    groups = document["dependency-groups"]
    if "dev" not in groups:
        groups.add("dev", tomlkit.array().multiline(True))
    return "[dependency-groups] dev", groups["dev"]


def poetry_group(document: tomlkit.TOMLDocument) -> tuple[str, Table] | None:
    """A Poetry project's test group (`test`, else `dev`, created if need be);
    None for a project Poetry does not manage."""
    poetry = document.get("tool", {}).get("poetry")
    if poetry is None or "dependencies" not in poetry:
        return None
    if "group" not in poetry:
        poetry.add("group", tomlkit.table(is_super_table=True))
    groups = poetry["group"]
    name = next((g for g in ("test", "dev") if g in groups), "dev")
    if name not in groups:
        group = tomlkit.table()
        group.add("dependencies", tomlkit.table())
        groups.add(name, group)
    return f"[tool.poetry.group.{name}.dependencies]", groups[name]["dependencies"]


def add_to_poetry(table: Table, requirement: str) -> None:
    """`name = "constraint"`, or an inline table with extras or markers."""
    parsed = Requirement(requirement)
    constraint = str(parsed.specifier) or "*"
    if not parsed.extras and not parsed.marker:
        table.add(parsed.name, constraint)
        return
    entry = tomlkit.inline_table()
    entry.add("version", constraint)
    if parsed.extras:
        entry.add("extras", sorted(parsed.extras))
    if parsed.marker:
        entry.add("markers", str(parsed.marker))
    table.add(parsed.name, entry)


def raise_floors(document: tomlkit.TOMLDocument, requirements: list[str]) -> list[str]:
    """Raise each floor the project declares below the harness's, where it is
    declared; return one line per raised entry (`redis>=5 -> redis>=5.2`)."""
    needed = {package_name(requirement): requirement for requirement in requirements}
    changes = []
    for where, array in requirement_lists(document):
        for index, item in enumerate(array):
            name = package_name(item) if isinstance(item, str) else ""
            if name in needed and below_floor(str(item), needed[name]):
                raised = raised_floor(str(item), needed[name])
                array[index] = raised
                changes.append(f"pyproject.toml {where}: {item} -> {raised}")
    for where, table in poetry_tables(document):
        for key, value in table.items():
            name = package_name(key)
            inline = hasattr(value, "get") and not isinstance(value, str)
            constraint = str(value.get("version", "") if inline else value)
            declared = f"{name}{poetry_constraint(constraint)}"
            if name not in needed or not below_floor(declared, needed[name]):
                continue
            raised = str(Requirement(raised_floor(declared, needed[name])).specifier)
            if inline:
                value["version"] = raised
            else:
                table[key] = raised
            changes.append(
                f'pyproject.toml {where}: {key} = "{constraint}" -> "{raised}"'
            )
    return changes


def merge(project: Path, answers: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Merge into project/pyproject.toml; return (what changed, what conflicts)."""
    before = survey(project)
    path = inside_project(project, "pyproject.toml")
    original = path.read_text() if path.exists() else NEW_PYPROJECT_HEADER
    document = tomlkit.parse(original)
    changes: list[str] = []
    conflicts: list[str] = []

    declared = declared_packages(document)
    missing = [
        req
        for req in dict.fromkeys(harness_dependencies(answers, before))
        if package_name(req) not in declared
        and package_name(req) not in before.declared
    ]
    poetry = poetry_group(document) if missing else None
    if poetry:
        where, table = poetry
        for requirement in missing:
            add_to_poetry(table, requirement)
        changes.append(f"pyproject.toml {where}: added {', '.join(missing)}")
    elif missing:
        where, target = dependency_list(document)
        for requirement in missing:
            target.append(requirement)
        changes.append(f"pyproject.toml {where}: added {', '.join(missing)}")

    changes += raise_floors(document, harness_dependencies(answers, before))

    merged = tomlkit.dumps(document)
    if merged != original or not path.exists():
        path.write_text(merged)

    # Read before the merge added anything, so the project's own setup decides.
    settings = harness_pytest_settings(answers, project, before)
    config = pytest_config(project)
    more_changes, conflicts = merge_settings(project, config, settings)
    changes += more_changes
    return changes, conflicts


def main(arguments: list[str]) -> int:
    project = Path.cwd()
    if in_copier_scratch_copy(project):
        return 0
    changes, conflicts = merge(project, json.loads(arguments[0]))
    for change in changes:
        print(change)
    for kept in conflicts:
        print(f"CONFLICT, not changed: {kept}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
