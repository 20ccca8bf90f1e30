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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from .adopt_support import package_name

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
    "outbound",
    "background_work",
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
    anyio_marked: list[str]  # test files that mark tests with anyio
    asyncio_marked: list[str]  # test files that mark tests with asyncio
    installed: dict[str, str] = field(default_factory=dict)  # in .venv, if any
    # Every declaration, where it is (a package may be declared more than once).
    declarations: list[Declaration] = field(default_factory=list)
    # Attributes of the app the project's code sets to a Redis client, from
    # the app ("state.redis" for `app.state.redis = Redis(...)`).
    redis_attributes: list[str] = field(default_factory=list)
    # Test files that hand httpx the app itself (`AsyncClient(app=app)`).
    app_clients: list[str] = field(default_factory=list)

    @functools.cached_property
    def fixtures(self) -> list[Fixture]:
        """The fixtures the project's tests see (project_fixtures), collected
        the first time they are asked for: that runs the project's pytest, which
        most of what reads a survey never needs."""
        return project_fixtures(self.project)

    @property
    def asyncio_mode(self) -> str | None:
        mode = self.pytest_config.settings.get("asyncio_mode")
        return str(mode).strip() if mode is not None else None

    @functools.cached_property
    def fixture_name_candidates(self) -> frozenset[str] | None:
        """Every name a fixture of the project's could have (possible_fixture_names);
        None when a file cannot be parsed, and so any name could be one."""
        return possible_fixture_names(self.project)

    def fixtures_named(self, names: Iterable[str]) -> list[Fixture]:
        """The project's fixtures among `names`. Its pytest is run (fixtures)
        only when one of them is written in its code as a fixture's name can be:
        most adoptions ask only after names the project never defines."""
        wanted = set(names)
        candidates = self.fixture_name_candidates
        if candidates is not None and not wanted & candidates:
            return []
        return [f for f in self.fixtures if f.name in wanted]

    def fixture(self, name: str) -> Fixture | None:
        return next(iter(self.fixtures_named([name])), None)

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


def unreadable_files(project: Path) -> list[str]:
    """The configuration files adopting reads and writes that do not parse,
    each with where and why: read as empty, they would be judged wrongly."""
    problems = []
    path = project / "pyproject.toml"
    if path.is_file():
        try:
            tomllib.loads(path.read_text())
        except (OSError, ValueError) as error:
            problems.append(
                f"pyproject.toml is not valid TOML ({error}): fix it, then run "
                "Copier again"
            )
    for name in ("setup.cfg", "tox.ini", "pytest.ini"):
        path = project / name
        if not path.is_file():
            continue
        try:
            configparser.ConfigParser(interpolation=None).read_string(path.read_text())
        except (OSError, configparser.Error) as error:
            first = str(error).splitlines()[0]
            problems.append(
                f"{name} does not parse ({first}): fix it, then run Copier again"
            )
    return problems


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
    # The place, to write more beside it: the file (relative to the project)
    # and, in pyproject.toml or setup.cfg, the list or table ("[dependency-groups]
    # dev", "[options.extras_require] test"); "" for a requirements file.
    file: str = ""
    table: str = ""


def declarations(project: Path) -> list[Declaration]:
    """Every requirement the project declares, wherever: PEP 621, groups, Poetry,
    uv's dev-dependencies, setup.cfg, requirements files."""
    found: list[Declaration] = []

    def add(requirement: str, where: str, file: str, table: str = "") -> None:
        name = package_name(requirement)
        if name:
            found.append(
                Declaration(
                    name,
                    requirement.strip(),
                    f"{file} {where}" if where else file,
                    file == "pyproject.toml",
                    file,
                    table,
                )
            )

    document = _read_toml(project / "pyproject.toml")
    for where, entries in requirement_lists(document):
        for entry in entries:
            if isinstance(entry, str):
                add(entry, where, "pyproject.toml", where)
    for where, table in poetry_tables(document):
        for name, spec in table.items():
            version = spec.get("version", "") if isinstance(spec, dict) else str(spec)
            add(f"{name}{poetry_constraint(version)}", where, "pyproject.toml", where)
    setup_cfg = _read_ini(project / "setup.cfg")
    if setup_cfg.has_option("options", "install_requires"):
        for line in setup_cfg.get("options", "install_requires").splitlines():
            where = "[options] install_requires"
            add(line.split("#", 1)[0], where, "setup.cfg", where)
    if setup_cfg.has_section("options.extras_require"):
        for extra, lines in setup_cfg.items("options.extras_require"):
            where = f"[options.extras_require] {extra}"
            for line in lines.splitlines():
                add(line.split("#", 1)[0], where, "setup.cfg", where)
    for path in requirements_files(project):
        relative = path.relative_to(project).as_posix()
        for number, line in requirement_lines(path):
            add(line, f"line {number}", relative)
    return found


# A requirements file: pip's, or pip-tools' input (*.in), by its name
# (requirements.txt, requirements-dev.txt, dev-requirements.txt,
# requirements/test.txt), or any file another one includes with -r.
_INCLUDE = re.compile(r"^(-r|--requirement)(?:\s*=\s*|\s+|(?=[^\s-]))(\S+)")
_CONSTRAINT = re.compile(r"^(-c|--constraint)(?:\s*=\s*|\s+|(?=[^\s-]))(\S+)")


def _logical_lines(path: Path) -> list[tuple[int, str]]:
    """(first line number, text) of each line pip reads: continuations joined,
    comments dropped."""
    try:
        physical = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    lines: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, line in enumerate(physical, start=1):
        start, text = pending or (number, "")
        text += line
        if text.endswith("\\"):
            pending = (start, text[:-1])
            continue
        pending = None
        text = re.sub(r"(^|\s)#.*", "", text).strip()
        if text:
            lines.append((start, text))
    if pending and pending[1].strip():
        lines.append(pending)
    return lines


def _named_as_requirements(path: Path) -> bool:
    return path.suffix in (".txt", ".in") and (
        "requirements" in path.stem.lower() or path.parent.name == "requirements"
    )


def requirements_files(project: Path) -> list[Path]:
    """Every requirements file of the project, anywhere in its tree, and those
    they include (-r); not the ones only used as constraints (-c)."""
    named = [
        path
        for pattern in ("*.txt", "*.in")
        for path in _searched_files(project, pattern)
        if _named_as_requirements(path)
    ]
    found: list[Path] = []
    constraints: set[Path] = set()
    included: set[Path] = set()
    queue = sorted(named, key=lambda p: (len(p.relative_to(project).parts), p))
    root = project.resolve()
    while queue:
        path = queue.pop(0)
        if path in found:
            continue
        found.append(path)
        for _, line in _logical_lines(path):
            for pattern, into in ((_INCLUDE, included), (_CONSTRAINT, constraints)):
                match = pattern.match(line)
                if not match:
                    continue
                target = (path.parent / match.group(2)).resolve()
                if target.is_file() and root in target.parents:
                    into.add(project / target.relative_to(root))
                    if (
                        into is included
                        and project / target.relative_to(root) not in found
                    ):
                        queue.append(project / target.relative_to(root))
    return [path for path in found if path not in constraints or path in included]


def requirement_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, requirement) of each requirement a requirements file
    declares: options, editable installs, paths and URLs left out."""
    found = []
    for number, line in _logical_lines(path):
        if line.startswith("-"):
            continue
        line = re.split(r"\s--?[a-z]", line, maxsplit=1)[0].strip()  # --hash=...
        try:
            Requirement(line)
        except InvalidRequirement:
            continue
        found.append((number, line))
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
    tool = document.get("tool", {})
    uv = tool.get("uv", {})
    lists.append(("[tool.uv] dev-dependencies", uv.get("dev-dependencies")))
    pdm = tool.get("pdm", {}).get("dev-dependencies", {})
    lists += [
        (f"[tool.pdm.dev-dependencies] {group}", entries)
        for group, entries in (pdm.items() if hasattr(pdm, "items") else [])
    ]
    for name, env in tool.get("hatch", {}).get("envs", {}).items():
        if hasattr(env, "get"):
            for key in ("dependencies", "extra-dependencies"):
                lists.append((f"[tool.hatch.envs.{name}] {key}", env.get(key)))
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


def possible_fixture_names(project: Path) -> frozenset[str] | None:
    """The names a fixture kept by project_fixtures can have: it is defined in
    a conftest.py or another module of the project that is not a test module,
    and named after its function (a `def` there) or by `name=` (a string
    written somewhere in the project). None when a file does not parse."""
    names: set[str] = set()
    for path in _searched_files(project, "*.py"):
        try:
            tree = ast.parse(path.read_text(errors="replace"))
        except (SyntaxError, ValueError):
            return None
        defines = path.name == "conftest.py" or not _is_test_file(path.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.add(node.value)
            elif defines and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names.add(node.name)
    return frozenset(names)


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
    `pytest_plugins`) and plugins its settings load (not a test module's own,
    which serves its tests alone).

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
        if _is_test_file(parts[-1]) and parts[-1] != "conftest.py":
            # A test module's own fixture serves its tests alone: the
            # harness's fixtures and the team's other tests never see it.
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


def _test_files_matching(project: Path, pattern: re.Pattern[str]) -> list[str]:
    """The test modules and conftest files in which `pattern` is found."""
    return [
        path.relative_to(project).as_posix()
        for path in _searched_files(project, "*.py")
        if (path.name.startswith("test") or path.name == "conftest.py")
        and pattern.search(path.read_text(errors="replace"))
    ]


def marked_test_files(project: Path, marker: str) -> list[str]:
    return _test_files_matching(project, re.compile(rf"\bmark\.{marker}\b"))


def _attribute_path(node: ast.expr) -> list[str]:
    """`app.state.redis` as ["app", "state", "redis"]; [] for anything else."""
    names = []
    while isinstance(node, ast.Attribute):
        names.insert(0, node.attr)
        node = node.value
    return [node.id, *names] if isinstance(node, ast.Name) and names else []


def _makes_a_redis_client(node: ast.expr | None) -> bool:
    """`Redis(...)`, `redis.asyncio.from_url(...)`, `await aioredis.from_url(...)`."""
    if isinstance(node, ast.Await):
        node = node.value
    if not isinstance(node, ast.Call):
        return False
    called = _attribute_path(node.func) or (
        [node.func.id] if isinstance(node.func, ast.Name) else []
    )
    return any("redis" in name.lower() for name in called) or called[-1:] == [
        "from_url"
    ]


def redis_attributes(project: Path) -> list[str]:
    """Where the project's code (its tests aside) keeps a Redis client on the
    app: `app.state.redis = Redis(...)` gives "state.redis", `app.redis = ...`
    "redis"."""
    found: list[str] = []
    for path in _searched_files(project, "*.py"):
        relative = path.relative_to(project).parts
        if "tests" in relative or path.name.startswith(("test_", "conftest")):
            continue
        try:
            tree = ast.parse(path.read_text(errors="replace"))
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Assign | ast.AnnAssign):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names = _attribute_path(target)[1:]
                if names[:1] == ["app"]:  # request.app.state.redis
                    names = names[1:]
                if (
                    names
                    and names[:-1] in ([], ["state"])
                    and _attribute_path(target)[0] not in ("self", "cls")
                    and _makes_a_redis_client(node.value)
                    and ".".join(names) not in found
                ):
                    found.append(".".join(names))
    return found


def app_client_files(project: Path) -> list[str]:
    """Test files calling `AsyncClient(app=...)` or `Client(app=...)`: httpx 0.27
    deprecated that argument and 0.28 removed it."""
    return _test_files_matching(project, re.compile(r"\b(?:Async)?Client\(\s*app\s*="))


def survey(project: Path | str) -> Survey:
    project = Path(project)
    return Survey(
        project=project,
        pytest_config=pytest_config(project),
        declared=declared_requirements(project),
        declarations=declarations(project),
        anyio_marked=marked_test_files(project, "anyio"),
        asyncio_marked=marked_test_files(project, "asyncio"),
        installed=installed_versions(project),
        redis_attributes=redis_attributes(project),
        app_clients=app_client_files(project),
    )


# ── Where the project keeps its test dependencies ─────────────────────────────


@dataclass
class DependencyHome:
    """Where the harness's requirements go: the place the project keeps its own
    test dependencies, or the one it would (created beside its dependencies)."""

    file: str  # relative to the project
    table: str  # in pyproject.toml or setup.cfg; "" for a requirements file
    why: str
    exists: bool = True
    includes: str = ""  # a new requirements file's first line: -r <includes>

    def where(self) -> str:
        return f"{self.file} {self.table}" if self.table else self.file

    def install_command(self) -> str:
        """How the project installs what is declared there."""
        name = _place_name(self.table)
        if self.file.endswith((".txt", ".in")):
            if self.file.endswith(".in"):
                return f"compile {self.file} (pip-compile), then install what it pins"
            return f"pip install -r {self.file}"
        if "[tool.poetry" in self.table:
            group = f" --with {name}" if ".group." in self.table else ""
            return f"poetry install{group}"
        if self.table.startswith("[tool.pdm."):
            return f"pdm install -G {name}"
        if self.table.startswith("[tool.hatch."):
            return f"hatch run {name}:pytest installs them"
        if self.table.startswith("[dependency-groups]"):
            return f"uv sync --group {name}, or pip install --group {name} on pip 25.1+"
        if "optional-dependencies" in self.table or "extras_require" in self.table:
            return f"pip install -e '.[{name}]'"
        if self.table == "[tool.uv] dev-dependencies":
            return "uv sync"
        return "pip install -e ."


def is_test_tool(name: str) -> bool:
    return name == "pytest" or name.startswith("pytest-")


def _place_name(table: str) -> str:
    """The group's or extra's name in `[dependency-groups] dev`,
    `[tool.poetry.group.dev.dependencies]`; else ''."""
    group = re.match(r"\[tool\.(?:poetry\.group|hatch\.envs)\.([^.\]]+)[.\]]", table)
    if group:
        return group.group(1)
    if table.startswith(
        (
            "[dependency-groups]",
            "[project.optional-dependencies]",
            "[tool.pdm.dev-dependencies]",
        )
    ):
        return table.split("] ", 1)[-1]
    if table.startswith("[options.extras_require]"):
        return table.split("] ", 1)[-1]
    return ""


def _test_rank(file: str, table: str) -> int:
    """2: named for tests (test, tests, testing); 1: for development (dev,
    uv's dev-dependencies, Poetry's dev-dependencies); 0: the app's own."""
    if table:
        words = [_place_name(table).lower()]
        if any(word.startswith("test") for word in words):
            return 2
        if table in (
            "[tool.uv] dev-dependencies",
            "[tool.poetry.dev-dependencies]",
        ) or table.startswith(
            ("[tool.pdm.dev-dependencies]", "[tool.hatch.envs.default]")
        ):
            return 1
    else:
        path = PurePosixPath(file)
        words = re.split(r"[^a-z]+", f"{path.parent.name} {path.stem}".lower())
    if any(word.startswith("test") for word in words):
        return 2
    if any(word in ("dev", "develop", "development") for word in words):
        return 1
    return 0


def _hashed(path: Path) -> bool:
    return any("--hash" in line for _, line in _logical_lines(path))


def dependency_home(survey: Survey) -> DependencyHome:
    """Where the project keeps its test dependencies: where it declares pytest
    (or a pytest plugin), else a list or file named for tests or development,
    else a new one beside its dependencies (a `dev` group in pyproject.toml, a
    requirements-dev.txt beside its requirements.txt, a `test` extra in
    setup.cfg)."""
    places: dict[tuple[str, str], list[Declaration]] = {}
    for declaration in survey.declarations:
        places.setdefault((declaration.file, declaration.table), []).append(declaration)
    project = survey.project

    def compiled_from(file: str) -> str:
        # pip-tools: requirements-dev.txt is compiled from requirements-dev.in.
        source = PurePosixPath(file).with_suffix(".in").as_posix()
        return (
            source if file.endswith(".txt") and (project / source).is_file() else file
        )

    ranked = sorted(
        places.items(),
        key=lambda item: (
            not any(is_test_tool(d.name) for d in item[1]),
            -_test_rank(*item[0]),
        ),
    )
    for (file, table), found in ranked:
        if not table and _hashed(project / compiled_from(file)):
            continue  # generated with --hash: a line without one breaks installs
        tools = [d.name for d in found if is_test_tool(d.name)]
        if tools:
            why = f"{tools[0]} is declared there"
        elif _test_rank(file, table):
            why = "it is named for test or development dependencies"
        else:
            break
        return DependencyHome(compiled_from(file), table, why)

    # A requirements file named for tests that declares nothing yet (only -r).
    for path in requirements_files(project):
        relative = path.relative_to(project).as_posix()
        if (
            _test_rank(relative, "")
            and (relative, "") not in places
            and not _hashed(project / compiled_from(relative))
        ):
            why = "it is named for test or development dependencies"
            return DependencyHome(compiled_from(relative), "", why)

    why = "it declares no test dependencies yet: {}"
    if ("pyproject.toml", "[tool.poetry.dependencies]") in places:
        table = "[tool.poetry.group.dev.dependencies]"
        why = why.format("a dev group beside its Poetry dependencies")
        return DependencyHome("pyproject.toml", table, why, False)
    if any(file == "pyproject.toml" for file, _ in places):
        table = "[dependency-groups] dev"
        why = why.format("a dev dependency group beside its dependencies")
        return DependencyHome("pyproject.toml", table, why, False)
    files = sorted(
        {compiled_from(file) for file, table in places if not table},
        key=lambda f: (
            PurePosixPath(f).stem != "requirements",
            len(PurePosixPath(f).parts),
            f,
        ),
    )
    if files:
        main = PurePosixPath(files[0])
        names = (
            ("test", "testing", "harness")
            if main.parent.name == "requirements"
            else ("requirements-dev", "requirements-test", "requirements-harness")
        )
        new = next(
            (
                candidate
                for name in names
                if not (
                    project / (candidate := main.parent / f"{name}{main.suffix}")
                ).exists()
            ),
            main.parent / f"{names[-1]}{main.suffix}",
        )
        why = why.format(f"a file beside {main.as_posix()}, which it includes")
        return DependencyHome(new.as_posix(), "", why, False, main.name)
    if any(file == "setup.cfg" for file, _ in places):
        table = "[options.extras_require] test"
        why = why.format("a test extra beside its install_requires")
        return DependencyHome("setup.cfg", table, why, False)
    return DependencyHome(
        "pyproject.toml",
        "[dependency-groups] dev",
        "it declares no dependencies: a dev dependency group in pyproject.toml",
        False,
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
    answers file records no environment_prefix). Its adopting answer is
    `harness` until an update's migration renames it `adopt`."""
    answers = project / ANSWERS_FILE
    if not answers.is_file():
        return False
    text = answers.read_text(errors="replace")
    return "environment_prefix:" not in text and bool(
        re.search(r"^scaffold: *['\"]?(adopt|harness)\b", text, re.M)
    )
