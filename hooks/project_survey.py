"""What an existing project already has, read before the harness is adopted into it.

Copier loads this module through extensions.py, so its questions can default to
what fits the project and refuse answers that contradict it before anything is
written; the adopt hooks import it to write into the file the project's pytest
actually reads. Nothing here imports the project or runs its code: it reads its
configuration files and parses its conftest files.
"""

from __future__ import annotations

import ast
import configparser
import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11 running Copier
    import tomlkit as tomllib  # type: ignore[no-redef]

# Where pytest looks for its settings in the root directory, in its own order,
# and the section each file must hold to count (pytest.ini counts even empty).
PYTEST_CONFIG_FILES = (
    ("pytest.toml", "pytest", True),
    (".pytest.toml", "pytest", True),
    ("pytest.ini", "pytest", False),
    (".pytest.ini", "pytest", False),
    ("pyproject.toml", None, True),
    ("tox.ini", "pytest", False),
    ("setup.cfg", "tool:pytest", False),
)
# The fixtures the harness defines under public names a project may use too.
HARNESS_FIXTURES = (
    "app",
    "client",
    "async_client",
    "db_session",
    "db_engine",
    "test_database_url",
    "cache",
    "test_redis_url",
)
# Directories never searched for the project's tests and conftest files.
NOT_SEARCHED = {
    ".venv",
    "venv",
    ".git",
    "node_modules",
    ".tox",
    ".nox",
    "build",
    "dist",
}
NOT_SEARCHED_PREFIXES = ("copier._main.",)


@dataclass
class PytestConfig:
    """The file and section pytest reads its settings from."""

    file: str  # relative to the project root
    section: str  # "tool.pytest.ini_options", "tool.pytest", "pytest", "tool:pytest"
    native: bool  # TOML types (pytest 9's [tool.pytest], pytest.toml) or INI strings
    settings: dict[str, Any]
    exists: bool = True

    def where(self) -> str:
        return f"{self.file} [{self.section}]"


@dataclass
class Fixture:
    name: str
    file: str
    scope: str
    params: list[str] = field(default_factory=list)


@dataclass
class Survey:
    project: Path
    pytest_config: PytestConfig
    declared: dict[str, str]  # normalized package name -> requirement text
    fixtures: list[Fixture]
    anyio_marked: list[str]  # test files that mark tests with anyio
    asyncio_marked: list[str]  # test files that mark tests with asyncio
    installed: dict[str, str] = field(default_factory=dict)  # in .venv, if any

    @property
    def asyncio_mode(self) -> str | None:
        mode = self.pytest_config.settings.get("asyncio_mode")
        return str(mode).strip() if mode is not None else None

    def fixture(self, name: str) -> Fixture | None:
        return next((f for f in self.fixtures if f.name == name), None)

    @property
    def uses_anyio(self) -> bool:
        return bool(self.anyio_marked or self.fixture("anyio_backend"))

    @property
    def uses_pytest_asyncio(self) -> bool:
        return (
            "pytest-asyncio" in self.declared
            or bool(self.asyncio_marked)
            or self.asyncio_mode is not None
        )


def package_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return dict(tomllib.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


def _read_ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    with contextlib.suppress(OSError, configparser.Error):
        parser.read_string(path.read_text())
    return parser


def pytest_config(project: Path) -> PytestConfig:
    """The configuration pytest would read in `project`, or where it will be created."""
    for name, section, native in PYTEST_CONFIG_FILES:
        path = project / name
        if not path.is_file():
            continue
        if name == "pyproject.toml":
            pytest_table = _read_toml(path).get("tool", {}).get("pytest")
            if not isinstance(pytest_table, dict):
                continue
            # pytest 9 reads [tool.pytest] (native TOML) or [tool.pytest.ini_options].
            native_keys = {k: v for k, v in pytest_table.items() if k != "ini_options"}
            if native_keys or "ini_options" not in pytest_table:
                return PytestConfig(name, "tool.pytest", True, native_keys)
            return PytestConfig(
                name,
                "tool.pytest.ini_options",
                False,
                dict(pytest_table["ini_options"]),
            )
        if native:
            table = _read_toml(path).get(section)
            return PytestConfig(name, section, True, dict(table or {}))
        parser = _read_ini(path)
        if parser.has_section(section):
            return PytestConfig(name, section, False, dict(parser.items(section)))
        if name.endswith("pytest.ini"):
            return PytestConfig(name, section, False, {})
    return PytestConfig(
        "pyproject.toml", "tool.pytest.ini_options", False, {}, exists=False
    )


def declared_requirements(project: Path) -> dict[str, str]:
    """Every requirement the project declares, wherever: PEP 621, groups, Poetry,
    uv's dev-dependencies, requirements files."""
    declared: dict[str, str] = {}

    def add(requirement: str) -> None:
        name = package_name(requirement)
        if name:
            declared.setdefault(name, requirement.strip())

    document = _read_toml(project / "pyproject.toml")
    project_table = document.get("project", {})
    lists = [project_table.get("dependencies", [])]
    lists += list(project_table.get("optional-dependencies", {}).values())
    lists += list(document.get("dependency-groups", {}).values())
    lists.append(document.get("tool", {}).get("uv", {}).get("dev-dependencies", []))
    for entries in lists:
        for entry in entries:
            if isinstance(entry, str):
                add(entry)
    poetry = document.get("tool", {}).get("poetry", {})
    tables = [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]
    tables += [g.get("dependencies", {}) for g in poetry.get("group", {}).values()]
    for table in tables:
        for name, spec in table.items():
            version = spec.get("version", "") if isinstance(spec, dict) else str(spec)
            add(f"{name}{_poetry_constraint(version)}")
    setup_cfg = _read_ini(project / "setup.cfg")
    if setup_cfg.has_option("options", "install_requires"):
        for line in setup_cfg.get("options", "install_requires").splitlines():
            add(line)
    if setup_cfg.has_section("options.extras_require"):
        for _extra, lines in setup_cfg.items("options.extras_require"):
            for line in lines.splitlines():
                add(line)
    for requirements in sorted(project.glob("requirements*.txt")):
        for line in requirements.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                add(line)
    return declared


def _poetry_constraint(version: str) -> str:
    """A Poetry constraint in PEP 440 terms (caret and tilde spelled out)."""
    version = version.strip()
    if not version or version == "*":
        return ""
    if version[0].isdigit():
        return f"=={version}"
    if version[0] in "^~" and version[1:2] != "=":
        parts = [int(p) for p in re.findall(r"\d+", version)[:3]] or [0]
        if version[0] == "~":
            upper = [parts[0], parts[1] + 1] if len(parts) > 1 else [parts[0] + 1]
        else:
            index = next((i for i, p in enumerate(parts) if p), len(parts) - 1)
            upper = [*parts[:index], parts[index] + 1]
        floor = ".".join(map(str, parts))
        return f">={floor},<{'.'.join(map(str, upper))}"
    return version


def installed_versions(project: Path) -> dict[str, str]:
    """What the project's own virtual environment (.venv) has installed."""
    installed: dict[str, str] = {}
    for site in [
        *project.glob(".venv/lib/python*/site-packages"),
        project / ".venv" / "Lib" / "site-packages",
    ]:
        for dist in site.glob("*.dist-info"):
            name, _, version = dist.name.removesuffix(".dist-info").partition("-")
            installed[package_name(name)] = version
    return installed


def _searched_files(project: Path, pattern: str) -> list[Path]:
    found = []
    for path in sorted(project.rglob(pattern)):
        parts = path.relative_to(project).parts
        if NOT_SEARCHED.intersection(parts) or any(
            part.startswith(NOT_SEARCHED_PREFIXES) for part in parts
        ):
            continue
        # The harness's own modules are not the project's.
        if parts[:2] == ("tests", "harness") or path.name == "test_harness_smoke.py":
            continue
        found.append(path)
    return found


def _fixture_decorator(node: ast.expr) -> dict[str, ast.expr] | None:
    """The keyword arguments of a pytest fixture decorator, or None if not one."""
    call = node if isinstance(node, ast.Call) else None
    target = call.func if call else node
    name = (
        target.attr
        if isinstance(target, ast.Attribute)
        else target.id
        if isinstance(target, ast.Name)
        else ""
    )
    if name != "fixture":
        return None
    return {kw.arg: kw.value for kw in (call.keywords if call else []) if kw.arg}


def conftest_fixtures(project: Path) -> list[Fixture]:
    fixtures = []
    for path in _searched_files(project, "conftest.py"):
        try:
            tree = ast.parse(path.read_text())
        except (SyntaxError, ValueError, OSError):
            continue
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for decorator in node.decorator_list:
                keywords = _fixture_decorator(decorator)
                if keywords is None:
                    continue
                name = node.name
                if isinstance(keywords.get("name"), ast.Constant):
                    name = str(keywords["name"].value)
                scope = keywords.get("scope")
                params = keywords.get("params")
                fixtures.append(
                    Fixture(
                        name=name,
                        file=path.relative_to(project).as_posix(),
                        scope=str(scope.value)
                        if isinstance(scope, ast.Constant)
                        else "function",
                        params=[
                            str(element.value)
                            for element in getattr(params, "elts", [])
                            if isinstance(element, ast.Constant)
                        ],
                    )
                )
    return fixtures


def marked_test_files(project: Path, marker: str) -> list[str]:
    pattern = re.compile(rf"\bmark\.{marker}\b")
    return [
        path.relative_to(project).as_posix()
        for path in _searched_files(project, "*.py")
        if (path.name.startswith("test") or path.name == "conftest.py")
        and pattern.search(path.read_text(errors="replace"))
    ]


def survey(project: Path | str) -> Survey:
    project = Path(project)
    return Survey(
        project=project,
        pytest_config=pytest_config(project),
        declared=declared_requirements(project),
        fixtures=conftest_fixtures(project),
        anyio_marked=marked_test_files(project, "anyio"),
        asyncio_marked=marked_test_files(project, "asyncio"),
        installed=installed_versions(project),
    )
