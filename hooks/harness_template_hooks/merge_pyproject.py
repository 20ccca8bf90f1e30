"""Adopt hook (hooks/merge_pyproject.py): add the harness's test dependencies
where the project keeps its own (project_survey.dependency_home: a requirements
file, a pyproject.toml group or extra, Poetry's group, setup.cfg's extra), and
its pytest settings into the file the project's pytest reads (pytest_settings.py),
keeping comments and formatting.

`main` takes a JSON object of the answers as its one argument, in the project;
`harness_dependencies` is what extensions.py judges an answer's versions by.

Only what is missing is added: a dependency the project already declares
anywhere (any extra or group) is left alone, as is every pytest setting it
already has. A setting whose value differs from what the harness needs is
reported, never overwritten. Running it again changes nothing.
"""

import json
import re
from pathlib import Path, PurePosixPath
from typing import Any

import tomlkit
from packaging.requirements import Requirement
from tomlkit.items import Array, Table

from .adopt_support import (
    ENVIRONMENT_ANSWERS,
    HARNESS_MODULE,
    harness_import_root,
    in_project,
    inside_project,
    package_name,
    registered_in_conftest,
)
from .adoption_fit import (
    app_testclient,
    below_floor,
    conflict,
    old_starlette,
    raised_floor,
)
from .dependencies import declared_packages, harness_requirements
from .project_survey import (
    DependencyHome,
    Survey,
    dependency_home,
    poetry_constraint,
    poetry_tables,
    pytest_config,
    requirement_lists,
    survey,
)
from .pytest_settings import current_value, merge_settings, rename_former_plugin

NEW_PYPROJECT_HEADER = (
    "# Created when adopting the FastAPI test harness (copier-fastapi-harness)\n"
    "# for what it needs here. The rest is yours to add.\n"
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
        app_testclient=app_testclient(survey),
        excluded=lambda spec: bool(conflict(survey, spec)),
    )


def harness_pytest_settings(
    answers: dict[str, Any], project: Path, survey: Survey
) -> dict[str, Any]:
    # The project root and src/ put the app's package on the path, and
    # <tests_dir>/harness the harness's own package (fastapi_harness).
    tests_dir = answers.get("tests_dir") or "tests"
    settings: dict[str, Any] = {
        "pythonpath": ["."]
        + (["src"] if (project / "src").is_dir() else [])
        + [harness_import_root(tests_dir)]
    }
    smoke_tests = f"{tests_dir}/test_harness_smoke.py"
    testpaths = current_value(survey.pytest_config, "testpaths")
    if testpaths is not None and not covers_harness_tests(testpaths, smoke_tests):
        settings["testpaths"] = [*testpaths, smoke_tests]
    if not registered_in_conftest(tests_dir) or any(
        answers.get(answer) for answer in ENVIRONMENT_ANSWERS
    ):
        # The harness loaded before any conftest.py, its environment module
        # first: the app's variables are set before anything imports the app.
        # (The whole package, not the one module: a package pytest imported
        # before registering it would warn that it cannot rewrite its asserts.)
        # On anyio, anyio's plugin goes first: a plugin loaded after the
        # harness would replace its session-scoped `anyio_backend` with its own
        # module-scoped one, which the harness's session fixtures cannot use.
        # Without environment variables to set, the same `-p` loads it where no
        # conftest.py is sure to be loaded first (registered_in_conftest).
        first = ["-p", "anyio"] if answers.get("async_runner") == "anyio" else []
        settings["addopts"] = [*first, "-p", HARNESS_MODULE]
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


def covers_harness_tests(
    testpaths: list[str], smoke_tests: str = "tests/test_harness_smoke.py"
) -> bool:
    smoke = PurePosixPath(smoke_tests)
    for entry in testpaths:
        entry = entry.strip().rstrip("/") or "."
        if entry == "." or smoke.is_relative_to(entry) or smoke.match(entry):
            return True
    return False


def pyproject_target(document: tomlkit.TOMLDocument, table: str) -> Array | Table:
    """The list (PEP 621, PEP 735, uv) or Poetry table `table` names in the
    document, created if need be (a `dev` dependency group, a Poetry group)."""
    for where, entries in requirement_lists(document):
        if where == table:
            return entries
    for where, poetry_table in poetry_tables(document):
        if where == table:
            return poetry_table
    group = re.fullmatch(r"\[tool\.poetry\.group\.([^.\]]+)\.dependencies\]", table)
    if group:
        tool = _super_table(document, "tool")
        poetry = _super_table(tool, "poetry")
        groups = _super_table(poetry, "group")
        if group.group(1) not in groups:
            new = tomlkit.table()
            new.add("dependencies", tomlkit.table())
            groups.add(group.group(1), new)
        return groups[group.group(1)]["dependencies"]
    section, _, name = table.partition("] ")
    if section == "[dependency-groups":
        groups = _super_table(document, "dependency-groups", super_table=False)
    elif section == "[project.optional-dependencies":
        groups = _super_table(
            _super_table(document, "project", False), "optional-dependencies", False
        )
    else:
        raise ValueError(f"no list of requirements is written at {table}")
    if name not in groups:
        groups.add(name, tomlkit.array().multiline(True))
    return groups[name]


def _super_table(parent: Any, key: str, super_table: bool = True) -> Any:
    if key not in parent:
        parent.add(key, tomlkit.table(is_super_table=super_table))
    return parent[key]


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


def append_to_requirements_file(
    project: Path, home: DependencyHome, requirements: list[str]
) -> None:
    """Append one line per requirement, as people do; a new file includes the
    project's own requirements file first (-r)."""
    path = inside_project(project, home.file)
    if path.exists():
        text = path.read_text()
        if text and not text.endswith("\n"):
            text += "\n"
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = (
            "# Test dependencies, added when adopting the FastAPI test harness.\n"
            f"-r {home.includes}\n"
        )
    path.write_text(text + "".join(f"{requirement}\n" for requirement in requirements))


def append_to_setup_cfg(
    project: Path, home: DependencyHome, requirements: list[str]
) -> None:
    """Add the requirements to setup.cfg's `[options.extras_require]` option,
    one indented line each, comments and layout kept."""
    path = inside_project(project, home.file)
    lines = path.read_text().splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    extra = home.table.split("] ", 1)[1]
    new_lines = [f"    {requirement}\n" for requirement in requirements]
    header = re.compile(r"^\s*\[options\.extras_require\]\s*(?:[#;].*)?$")
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        lines += [
            *(["\n"] if lines and lines[-1].strip() else []),
            "[options.extras_require]\n",
            f"{extra} =\n",
            *new_lines,
        ]
        path.write_text("".join(lines))
        return
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")),
        len(lines),
    )
    option = re.compile(rf"^{re.escape(extra)}\s*[=:]")
    index = next((i for i in range(start + 1, end) if option.match(lines[i])), None)
    if index is None:
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        lines[end:end] = [f"{extra} =\n", *new_lines]
    else:
        last = index + 1
        while last < end and lines[last][:1] in (" ", "\t") and lines[last].strip():
            last += 1
        lines[last:last] = new_lines
    path.write_text("".join(lines))


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
    home = dependency_home(before)
    if missing:
        if home.file == "pyproject.toml":
            target = pyproject_target(document, home.table)
            for requirement in missing:
                if isinstance(target, Array):
                    target.append(requirement)
                else:
                    add_to_poetry(target, requirement)
        elif home.file == "setup.cfg":
            append_to_setup_cfg(project, home, missing)
        else:
            append_to_requirements_file(project, home, missing)
        added = ", ".join(missing)
        changes.append(
            f"{home.where()}: added {added} (this project keeps its test "
            f"dependencies there: {home.why})"
            if home.exists
            else f"{home.where()}: created with {added} ({home.why})"
        )

    changes += raise_floors(document, harness_dependencies(answers, before))

    merged = tomlkit.dumps(document)
    # A project without pyproject.toml gets one only for what goes there: the
    # pytest settings, when it has none elsewhere, or its new dev group.
    if merged != original or not (path.exists() or before.pytest_config.exists):
        path.write_text(merged)

    # Read before the merge added anything, so the project's own setup decides.
    settings = harness_pytest_settings(answers, project, before)
    changes += rename_former_plugin(project, pytest_config(project))
    config = pytest_config(project)
    more_changes, conflicts = merge_settings(project, config, settings)
    changes += [with_reason(change) for change in more_changes]
    return changes, conflicts


# Why the harness sets each pytest setting, for the adoption's summary.
SETTING_REASONS = {
    "pythonpath": "so the harness's package, fastapi_harness, imports, and "
    "your app from src/ if you have one",
    "testpaths": "so the harness's smoke tests run with yours",
    "addopts": "loads the harness before your conftest files: the variables "
    "it sets are there before your app is imported",
    "asyncio_mode": "pytest-asyncio's mode, as your tests run",
    "asyncio_default_fixture_loop_scope": "one event loop for the session, "
    "shared by the harness's async fixtures and your app",
    "asyncio_default_test_loop_scope": "the tests run on that loop too",
}


def with_reason(change: str) -> str:
    key = re.search(r" (\w+): (?:set to|added) ", change)
    reason = SETTING_REASONS.get(key.group(1)) if key else None
    return f"{change} ({reason})" if reason else change


@in_project
def main(project: Path, arguments: list[str]) -> int:
    changes, conflicts = merge(project, json.loads(arguments[0]))
    for change in changes:
        print(change)
    for kept in conflicts:
        print(f"CONFLICT, not changed: {kept}")
    return 0
