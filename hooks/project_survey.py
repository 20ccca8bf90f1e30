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
import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
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
    "factories",
    "cache",
    "test_redis_url",
    "as_user",
    "authenticated_as",
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
    # Every declaration, where it is (a package may be declared more than once).
    declarations: list[Declaration] = field(default_factory=list)

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


@dataclass
class Declaration:
    """One requirement the project declares, and where."""

    name: str  # normalized package name
    text: str  # PEP 508 (a Poetry constraint spelled out in PEP 440 terms)
    where: str  # "pyproject.toml [dependency-groups] dev", "requirements.txt line 3"
    # In pyproject.toml, which adopting edits (tomlkit); requirements files and
    # setup.cfg it never writes.
    in_pyproject: bool


def declarations(project: Path) -> list[Declaration]:
    """Every requirement the project declares, wherever: PEP 621, groups, Poetry,
    uv's dev-dependencies, setup.cfg, requirements files."""
    found: list[Declaration] = []

    def add(requirement: str, where: str, in_pyproject: bool) -> None:
        name = package_name(requirement)
        if name:
            found.append(Declaration(name, requirement.strip(), where, in_pyproject))

    document = _read_toml(project / "pyproject.toml")
    for where, entries in requirement_lists(document):
        for entry in entries:
            if isinstance(entry, str):
                add(entry, f"pyproject.toml {where}", True)
    for where, table in poetry_tables(document):
        for name, spec in table.items():
            version = spec.get("version", "") if isinstance(spec, dict) else str(spec)
            add(f"{name}{poetry_constraint(version)}", f"pyproject.toml {where}", True)
    setup_cfg = _read_ini(project / "setup.cfg")
    if setup_cfg.has_option("options", "install_requires"):
        for line in setup_cfg.get("options", "install_requires").splitlines():
            add(line, "setup.cfg [options] install_requires", False)
    if setup_cfg.has_section("options.extras_require"):
        for extra, lines in setup_cfg.items("options.extras_require"):
            for line in lines.splitlines():
                add(line, f"setup.cfg [options.extras_require] {extra}", False)
    for requirements in sorted(project.glob("requirements*.txt")):
        lines = requirements.read_text(errors="replace").splitlines()
        for number, line in enumerate(lines, start=1):
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                add(line, f"{requirements.name} line {number}", False)
    return found


def requirement_lists(document: Any) -> list[tuple[str, list[Any]]]:
    """pyproject.toml's PEP 621, PEP 735 and uv lists of requirements, each with
    the table it is in (a parsed dict, or a tomlkit document to edit)."""
    project = document.get("project", {})
    lists = [("[project] dependencies", project.get("dependencies"))]
    lists += [
        (f"[project.optional-dependencies] {extra}", entries)
        for extra, entries in project.get("optional-dependencies", {}).items()
    ]
    lists += [
        (f"[dependency-groups] {group}", entries)
        for group, entries in document.get("dependency-groups", {}).items()
    ]
    uv = document.get("tool", {}).get("uv", {})
    lists.append(("[tool.uv] dev-dependencies", uv.get("dev-dependencies")))
    return [(where, entries) for where, entries in lists if isinstance(entries, list)]


def poetry_tables(document: Any) -> list[tuple[str, Any]]:
    """Poetry's tables of requirements, each with its name."""
    poetry = document.get("tool", {}).get("poetry", {})
    tables = [
        ("[tool.poetry.dependencies]", poetry.get("dependencies")),
        ("[tool.poetry.dev-dependencies]", poetry.get("dev-dependencies")),
    ]
    tables += [
        (f"[tool.poetry.group.{name}.dependencies]", group.get("dependencies"))
        for name, group in poetry.get("group", {}).items()
    ]
    return [(where, table) for where, table in tables if table is not None]


def declared_requirements(project: Path) -> dict[str, str]:
    """Each declared package's first requirement, by normalized name."""
    declared: dict[str, str] = {}
    for declaration in declarations(project):
        declared.setdefault(declaration.name, declaration.text)
    return declared


def poetry_constraint(version: str) -> str:
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
        if harness_owned(parts):
            continue
        found.append(path)
    return found


def harness_owned(parts: tuple[str, ...]) -> bool:
    """A path (as its parts, relative to the project) the harness renders: its
    package (fastapi_harness, or an earlier adoption's tests/harness) and its
    smoke tests."""
    return (
        "fastapi_harness" in parts
        or parts[:2] == ("tests", "harness")
        or parts[-1:] == ("test_harness_smoke.py",)
    )


def _is_test_file(name: str) -> bool:
    return name == "conftest.py" or (
        name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))
    )


def tests_directory(project: Path, config: PytestConfig) -> str:
    """Where the project's tests live, relative to it ("tests", "src/tests"...).

    Where an earlier adoption put the harness, if any; else the directory named
    `tests` holding test files, preferring one the pytest settings' testpaths
    cover, then the shallowest; else "tests" (created beside the project's).
    """
    candidates: list[tuple[str, ...]] = []
    for directory, subdirectories, files in os.walk(project):
        relative = Path(directory).relative_to(project).parts
        subdirectories[:] = sorted(
            d
            for d in subdirectories
            if d not in NOT_SEARCHED and not d.startswith(NOT_SEARCHED_PREFIXES)
        )
        if "_project.py" in files and relative[-2:] == ("harness", "fastapi_harness"):
            return "/".join(relative[:-2])
        if "_project.py" in files and relative == ("tests", "harness"):
            return "tests"
        if (
            relative
            and relative[-1] == "tests"
            and any(map(_is_test_file, files))
            and not any(relative[: len(c)] == c for c in candidates)
        ):
            candidates.append(relative)
    if not candidates:
        return "tests"
    testpaths = config.settings.get("testpaths") or []
    if isinstance(testpaths, str):
        testpaths = testpaths.split()
    covered = [tuple(PurePosixPath(str(entry).strip("/")).parts) for entry in testpaths]

    def rank(candidate: tuple[str, ...]) -> tuple[bool, int, str]:
        inside = any(
            candidate[: len(entry)] == entry or entry[: len(candidate)] == candidate
            for entry in covered
        )
        return (not inside, len(candidate), "/".join(candidate))

    return "/".join(min(candidates, key=rank))


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


# Loaded into the project's pytest by project_fixtures: once collection is
# done, writes every fixture pytest knows, where its function is defined, its
# scope and params, to the file FASTAPI_HARNESS_FIXTURE_REPORT names.
FIXTURE_REPORTER = r"""
import inspect, json, os

def _where(function):
    try:
        return os.path.abspath(inspect.getsourcefile(inspect.unwrap(function)) or "")
    except (TypeError, ValueError):
        return ""

def _param(value):
    values = getattr(value, "values", None)
    return str(values[0] if values else value)

def _definitions(manager):
    # pytest's registry of fixtures, as each release keeps it.
    flat = getattr(manager, "_arg2fixturedefs", None)
    if flat is not None:
        yield from flat.items()
        return
    for attribute in ("_arg2node2fixturedefs", "_arg2nodeid2fixturedefs"):
        for name, by_place in getattr(manager, attribute, {}).items():
            for definitions in by_place.values():
                yield name, definitions

def pytest_collection_finish(session):
    fixtures = []
    for name, definitions in _definitions(session._fixturemanager):
        for definition in definitions:
            fixtures.append({
                "name": name,
                "file": _where(getattr(definition, "func", None)),
                "scope": str(getattr(definition, "scope", "function")),
                "params": [_param(p) for p in (definition.params or ())],
            })
    with open(os.environ["FASTAPI_HARNESS_FIXTURE_REPORT"], "w") as report:
        json.dump(fixtures, report)
"""
REPORTER_MODULE = "fastapi_harness_fixture_report"


def project_fixtures(project: Path) -> list[Fixture]:
    """The fixtures the project's tests see, as its own pytest collects them:
    conftest files, the modules they pull in (`from tests.fixtures import *`,
    `pytest_plugins`), plugins its settings load, and its test modules.

    Asked of pytest, in the project's interpreter, because only pytest knows
    what a star import or a plugin brings in. Where the project cannot run
    pytest (no pytest in that interpreter yet, a conftest.py that fails to
    import without the environment its CI sets), its conftest files are parsed
    instead (conftest_fixtures), which sees only what they define themselves.
    """
    collected = _collected_fixtures(project, _python_files_state(project))
    if collected is None:
        return conftest_fixtures(project)
    return collected


def _python_files_state(project: Path) -> tuple[tuple[str, int], ...]:
    state = []
    for directory, subdirectories, files in os.walk(project):
        subdirectories[:] = [d for d in subdirectories if d not in NOT_SEARCHED]
        state += [
            (name, os.lstat(os.path.join(directory, name)).st_mtime_ns)
            for name in files
            if name.endswith((".py", ".toml", ".ini", ".cfg"))
        ]
    return tuple(state)


@functools.cache
def _collected_fixtures(
    project: Path, state: tuple[tuple[str, int], ...]
) -> list[Fixture] | None:
    # Copier renders a validator several times per answer: collect once, until
    # a file changes.
    import subprocess
    import sys
    import tempfile

    python = next(
        (
            str(project / candidate)
            for candidate in (".venv/bin/python", ".venv/Scripts/python.exe")
            if (project / candidate).exists()
        ),
        sys.executable,
    )
    config = pytest_config(project)
    addopts = config.settings.get("addopts") or ""
    options = addopts if isinstance(addopts, list) else str(addopts).split()
    # Of the project's addopts, only the plugins it loads (`-p name`): no
    # xdist, coverage or report options in a collection that writes nothing.
    plugins = [
        f"-p{name}"
        for flag, name in zip(options, [*options[1:], ""], strict=False)
        if flag == "-p" and name and not name.startswith("no:")
    ]
    plugins = [p for p in plugins if p[2:] not in ("fastapi_harness", "tests.harness")]
    roots = [
        str(project),
        *([str(project / "src")] if (project / "src").is_dir() else []),
    ]
    with tempfile.TemporaryDirectory(prefix="fastapi-harness-survey-") as scratch:
        (Path(scratch) / f"{REPORTER_MODULE}.py").write_text(FIXTURE_REPORTER)
        report = Path(scratch) / "fixtures.json"
        env = {
            **os.environ,
            "FASTAPI_HARNESS_FIXTURE_REPORT": str(report),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": os.pathsep.join(
                [scratch, *roots, *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
        }
        try:
            subprocess.run(
                [
                    *(python, "-B", "-m", "pytest", "--collect-only", "-q"),
                    *("-p", "no:cacheprovider", "-p", "no:fastapi_harness"),
                    *("-p", "no:tests.harness", "-o", f"addopts={' '.join(plugins)}"),
                    *("-p", REPORTER_MODULE),
                ],
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            found = json.loads(report.read_text())
        except (OSError, ValueError, subprocess.TimeoutExpired):
            return None
    fixtures = []
    root = project.resolve()
    for entry in found:
        path = Path(entry["file"]) if entry["file"] else None
        if path is None or not path.is_relative_to(root):
            continue  # pytest's own, or an installed plugin's
        parts = path.relative_to(root).parts
        if harness_owned(parts) or NOT_SEARCHED.intersection(parts):
            continue
        fixtures.append(
            Fixture(
                name=entry["name"],
                file="/".join(parts),
                scope=entry["scope"],
                params=entry["params"],
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
        declarations=declarations(project),
        fixtures=project_fixtures(project),
        anyio_marked=marked_test_files(project, "anyio"),
        asyncio_marked=marked_test_files(project, "asyncio"),
        installed=installed_versions(project),
    )


# The environment variables the harness reads, without the prefix adopting
# gives them (environment_prefix), and the answers that have it read them: the
# PostgreSQL server's (SQLite needs none) and the test Redis's.
HARNESS_VARIABLES = {
    "async_db": (("postgresql",), "TEST_DATABASE_URL"),
    "cache": (("redis",), "TEST_REDIS_URL"),
}
ANSWERS_FILE = ".copier-answers.fastapi-harness.yml"


def variable_readers(project: Path, names: list[str]) -> dict[str, list[str]]:
    """The files of the project that read each of `names` from the environment:
    its code and conftest files (os.environ, os.getenv), a settings class's
    field of that name (in a file defining a BaseSettings), .env files and the
    pytest settings (pytest-env's `env`). Never the harness's own files."""
    found: dict[str, list[str]] = {}
    files = [
        *_searched_files(project, "*.py"),
        *_searched_files(project, ".env*"),
        project / pytest_config(project).file,
    ]
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        settings = path.suffix == ".py" and "BaseSettings" in text
        for name in names:
            flags = re.IGNORECASE if settings else 0
            if re.search(rf"(?<![A-Za-z0-9_]){name}(?![A-Za-z0-9_])", text, flags):
                found.setdefault(name, []).append(path.relative_to(project).as_posix())
    return found


def adopted_before_prefixes(project: Path) -> bool:
    """An earlier adoption, whose harness read the plain TEST_* names (its
    answers file records no environment_prefix)."""
    answers = project / ANSWERS_FILE
    if not answers.is_file():
        return False
    text = answers.read_text(errors="replace")
    return "environment_prefix:" not in text and bool(
        re.search(r"^scaffold: *harness\b", text, re.M)
    )
