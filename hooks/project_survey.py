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
    # Attributes of the app the project's code sets to a Redis client, from
    # the app ("state.redis" for `app.state.redis = Redis(...)`).
    redis_attributes: list[str] = field(default_factory=list)
    # Test files that hand httpx the app itself (`AsyncClient(app=app)`).
    app_clients: list[str] = field(default_factory=list)

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
    pattern = re.compile(r"\b(?:Async)?Client\(\s*app\s*=")
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
        fixtures=conftest_fixtures(project),
        anyio_marked=marked_test_files(project, "anyio"),
        asyncio_marked=marked_test_files(project, "asyncio"),
        installed=installed_versions(project),
        redis_attributes=redis_attributes(project),
        app_clients=app_client_files(project),
    )
