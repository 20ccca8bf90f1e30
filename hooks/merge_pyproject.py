"""Adopt hook: merge the harness's test dependencies and pytest settings into
the project's pyproject.toml, keeping its comments and formatting (tomlkit).

Run by Copier in the project after rendering, with the Python running Copier
(which needs tomlkit), and a JSON object of the answers as its one argument.

Only what is missing is added: a dependency the project already declares
anywhere (any extra or group) is left alone, as is every pytest setting it
already has. A setting whose value differs from what the harness needs is
reported, never overwritten. Running it again changes nothing.
"""

import json
import re
import sys
from pathlib import Path
from typing import Any

import tomlkit
from adopt_support import in_copier_scratch_copy
from tomlkit.items import Array, Table

NEW_PYPROJECT_HEADER = (
    "# Created when adopting the FastAPI test harness (copier-fastapi-harness):\n"
    "# its test dependencies and pytest settings. The rest is yours to add.\n"
)


def harness_dependencies(answers: dict[str, Any]) -> list[str]:
    """What the harness imports; the same pins as a new service's dev group."""
    wanted = ["pytest>=8.3", "httpx2>=2.16", "starlette>=1.10"]
    if answers["needs_async_client"]:
        wanted += ["httpx>=0.28", "asgi-lifespan>=2.1"]
        if answers["async_runner"] == "pytest-asyncio":
            wanted.append("pytest-asyncio>=1.2")
        else:
            wanted.append("anyio>=4.6")
    if answers["websockets"]:
        wanted.append("httpx-ws>=0.7")
    if answers["async_db"] != "none":
        wanted.append("sqlalchemy[asyncio]>=2.0.36")
        wanted.append(
            "aiosqlite>=0.20" if answers["async_db"] == "sqlite" else "asyncpg>=0.30"
        )
    if answers["cache"] != "none":
        wanted += ["redis>=5.2", "fakeredis>=2.26"]
    return wanted


def harness_pytest_settings(answers: dict[str, Any], project: Path) -> dict[str, Any]:
    # The project root puts `tests.harness` on the path; src/ the app's package.
    settings: dict[str, Any] = {
        "pythonpath": ["."] + (["src"] if (project / "src").is_dir() else [])
    }
    if answers["needs_async_client"] and answers["async_runner"] == "pytest-asyncio":
        settings["asyncio_mode"] = answers["asyncio_mode"]
        # One event loop for the session: the app's lifespan and the tests share it.
        settings["asyncio_default_fixture_loop_scope"] = "session"
        settings["asyncio_default_test_loop_scope"] = "session"
    return settings


def package_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""


def declared_packages(document: tomlkit.TOMLDocument) -> set[str]:
    project = document.get("project", {})
    lists = [project.get("dependencies", [])]
    lists += project.get("optional-dependencies", {}).values()
    lists += document.get("dependency-groups", {}).values()
    names = {
        package_name(item) for group in lists for item in group if isinstance(item, str)
    }
    poetry = document.get("tool", {}).get("poetry", {})
    for table in [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]:
        names |= {package_name(name) for name in table}
    for group in poetry.get("group", {}).values():
        names |= {package_name(name) for name in group.get("dependencies", {})}
    return names


def dependency_list(document: tomlkit.TOMLDocument) -> tuple[str, Array]:
    """The list test dependencies go to: an existing `test` extra, else the
    `dev` dependency group (created if need be)."""
    extras = document.get("project", {}).get("optional-dependencies", {})
    if "test" in extras:
        return "[project.optional-dependencies] test", extras["test"]
    if "dependency-groups" not in document:
        document.add("dependency-groups", tomlkit.table())
    groups = document["dependency-groups"]
    if "dev" not in groups:
        groups.add("dev", tomlkit.array().multiline(True))
    return "[dependency-groups] dev", groups["dev"]


def pytest_table(document: tomlkit.TOMLDocument) -> Table:
    if "tool" not in document:
        document.add("tool", tomlkit.table(is_super_table=True))
    tool = document["tool"]
    if "pytest" not in tool:
        tool.add("pytest", tomlkit.table(is_super_table=True))
    if "ini_options" not in tool["pytest"]:
        tool["pytest"].add("ini_options", tomlkit.table())
    return tool["pytest"]["ini_options"]


def other_pytest_config(project: Path) -> str | None:
    """A pytest configuration file that takes precedence over pyproject.toml."""
    for name, marker in [
        ("pytest.ini", ""),
        ("pytest.toml", ""),
        (".pytest.ini", ""),
        ("tox.ini", "[pytest]"),
        ("setup.cfg", "[tool:pytest]"),
    ]:
        path = project / name
        if path.is_file() and marker in path.read_text():
            return name
    return None


def merge(project: Path, answers: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Merge into project/pyproject.toml; return (what changed, what conflicts)."""
    path = project / "pyproject.toml"
    original = path.read_text() if path.exists() else NEW_PYPROJECT_HEADER
    document = tomlkit.parse(original)
    changes: list[str] = []
    conflicts: list[str] = []

    declared = declared_packages(document)
    missing = [
        req
        for req in harness_dependencies(answers)
        if package_name(req) not in declared
    ]
    if missing:
        where, target = dependency_list(document)
        for requirement in missing:
            target.append(requirement)
        changes.append(f"{where}: added {', '.join(missing)}")

    settings = harness_pytest_settings(answers, project)
    elsewhere = other_pytest_config(project)
    if elsewhere:
        conflicts.append(
            f"pytest reads its settings from {elsewhere}, not pyproject.toml: add "
            + "; ".join(f"{key} = {value}" for key, value in settings.items())
            + " there yourself (those not already set)."
        )
    else:
        table = pytest_table(document)
        for key, wanted in settings.items():
            if key not in table:
                value = (
                    tomlkit.array(json.dumps(wanted))
                    if isinstance(wanted, list)
                    else wanted
                )
                table.add(key, value)
                changes.append(
                    f"[tool.pytest.ini_options] {key}: set to {json.dumps(wanted)}"
                )
                continue
            current = (
                table[key].unwrap() if hasattr(table[key], "unwrap") else table[key]
            )
            if isinstance(wanted, list):
                absent = [entry for entry in wanted if entry not in current]
                if absent:
                    conflicts.append(
                        f"[tool.pytest.ini_options] {key} = {json.dumps(current)} "
                        f"lacks {json.dumps(absent)}, which the harness needs on the "
                        "import path; add them, or make sure they are importable "
                        "another way (e.g. an installed package)."
                    )
            elif current != wanted:
                conflicts.append(
                    f"[tool.pytest.ini_options] {key} = {json.dumps(current)} is "
                    f"kept, but the harness was rendered for {json.dumps(wanted)}. "
                    + (
                        f"Re-render with -d asyncio_mode={current} (copier update) or "
                        f"change the setting."
                        if key == "asyncio_mode"
                        else "Async fixtures of the harness share one event loop "
                        "with the tests only with the session scope; change it."
                    )
                )

    merged = tomlkit.dumps(document)
    if merged != original or not path.exists():
        path.write_text(merged)
    return changes, conflicts


def main(arguments: list[str]) -> int:
    project = Path.cwd()
    if in_copier_scratch_copy(project):
        return 0
    changes, conflicts = merge(project, json.loads(arguments[0]))
    for change in changes:
        print(f"pyproject.toml: {change}")
    for conflict in conflicts:
        print(f"pyproject.toml: CONFLICT, not changed: {conflict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
