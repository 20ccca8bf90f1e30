"""Render the template and run what it renders: shared by every template test."""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import functools
import hashlib
import importlib.machinery
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import copier
import pytest
import redis
from forked_suites import run_pytest
from harness_template_hooks.project_survey import declared_requirements
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from sqlalchemy import URL, make_url

# What a template checkout consists of (TEMPLATE_PARTS), and copying it from
# the working tree: the benchmarks' own, which render the template alike.
from bench.project import TEMPLATE_PARTS as TEMPLATE_PARTS
from bench.project import copy_template as copy_template

REPO_ROOT = Path(__file__).resolve().parents[2]
# The example projects the adoption tests copy, and the template's hook scripts.
EXISTING_APPS = REPO_ROOT / "tests" / "existing_apps"
HOOKS = REPO_ROOT / "hooks"
# A new service records its answers under Copier's default name; the harness
# adopted into an existing project under a name of its own.
ANSWERS_FILE = ".copier-answers.yml"
HARNESS_ANSWERS_FILE = ".copier-answers.fastapi-harness.yml"
ON_CI = bool(os.environ.get("CI"))


def copy_of_existing_app(name: str, project: Path) -> Path:
    """existing_apps/`name` copied to `project`, which it returns."""
    shutil.copytree(EXISTING_APPS / name, project)
    return project


def load_extensions() -> ModuleType:
    """The template's Jinja extensions module (extensions.py), for its filters."""
    spec = importlib.util.spec_from_file_location(
        "template_extensions", REPO_ROOT / "extensions.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render(
    template: Path,
    destination: Path,
    answers: Mapping[str, Any] | None = None,
    **copier_options: Any,
) -> Path:
    """Render `template` into `destination` with `answers`, defaults for the rest;
    `copier_options` (vcs_ref, overwrite) as Copier's run_copy takes them."""
    copier.run_copy(
        str(template),
        str(destination),
        data=dict(answers or {}),
        defaults=True,
        unsafe=True,
        quiet=True,
        **copier_options,
    )
    return destination


def rendered_once(fixture_name: str, answers: Mapping[str, Any]) -> Any:
    """A module-scoped fixture, `fixture_name`: a service rendered with `answers`
    once for the module's tests."""

    @pytest.fixture(scope="module", name=fixture_name)
    def rendered(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
        return render(template, tmp_path_factory.mktemp(fixture_name) / "svc", answers)

    return rendered


def pyproject_of(project: Path) -> dict[str, Any]:
    """The project's pyproject.toml, parsed."""
    return tomllib.loads((project / "pyproject.toml").read_text())


def read_answers(project: Path) -> dict[str, Any]:
    import yaml

    answers_file = project / ANSWERS_FILE
    if not answers_file.exists():
        answers_file = project / HARNESS_ANSWERS_FILE
    return yaml.safe_load(answers_file.read_text())


def harness_variable(project: Path, name: str) -> str:
    """The name the project's harness reads `name` (TEST_DATABASE_URL,
    TEST_REDIS_URL) by: adopted, with its environment_prefix."""
    if not (project / HARNESS_ANSWERS_FILE).exists():
        return name
    return str(read_answers(project).get("environment_prefix") or "") + name


# Where the generated suites' bytecode goes: set once a run (keep_library_bytecode).
suite_bytecode: dict[str, Path] = {}


def keep_library_bytecode(run: Path) -> None:
    """Let the generated suites of this run share one bytecode prefix, in `run`.

    Every suite imports the same libraries and loads the same pytest plugins,
    whose modules pytest rewrites for its assertions. Without a place to write
    bytecode each run compiled and rewrote them again (about 0.15 CPU-s a run);
    with this prefix the first run does, for the run's suites and their xdist
    workers. A project's own modules are never kept there (suite_environment).
    """
    suite_bytecode["prefix"] = run / "suite-bytecode"


def _compile_afresh(project: Path, prefix: Path) -> None:
    """Make the project's place in the bytecode prefix a file, where no
    directory and so no .pyc can be made: its modules are compiled from what
    the test left on every run. A .pyc is checked against its source's size and
    whole-second mtime, so a module edited in place at the same size within a
    second would otherwise be read stale."""
    for path in {project.absolute(), project.resolve()}:
        place = prefix / path.relative_to(path.anchor)
        if any(above.is_file() for above in place.parents):
            continue  # in a project already compiled afresh
        if place.is_dir():
            shutil.rmtree(place)
        place.parent.mkdir(parents=True, exist_ok=True)
        place.touch()


def suite_environment(project: Path, **extra: str) -> dict[str, str]:
    """Environment for running a generated suite inside this test environment.

    Where the run keeps the libraries' bytecode, the project's modules are
    made to be compiled afresh on every run (_compile_afresh)."""
    env = {**os.environ, **extra}
    # The project is not installed here; its src/ layout is put on the path.
    env["PYTHONPATH"] = str(project / "src")
    # Like `-p no:cacheprovider` below: a test's run of the suite leaves no
    # files behind, so the project's git state is what the test made it, whether
    # or not the shell sets PYTHONDONTWRITEBYTECODE. Whether a project ignores
    # the bytecode its own runs write is tested as a user meets it, in
    # tests/generation/test_quickstart.py.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if "prefix" in suite_bytecode:
        env["PYTHONPYCACHEPREFIX"] = str(suite_bytecode["prefix"])
        _compile_afresh(project, suite_bytecode["prefix"])
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    # A Redis the shell names for a generated project's tests is never the
    # template tests': they pass the one they chose (`extra`).
    for name in [name for name in env if name.endswith("TEST_REDIS_URL")]:
        if name not in extra and name != "TEMPLATE_TESTS_REDIS_URL":
            env.pop(name)
    return env


def pytest_plugin_flags(project: Path) -> list[str]:
    """Disable the pytest plugins installed here that the project would not have.

    This environment holds every dependency any project can declare, and pytest
    loads every plugin installed: a project that does not use pytest-asyncio
    must not have it loaded (it would warn), and Faker's plugin, which only
    polyfactory brings, costs every run half a second. A plugin loads when its
    package is among what the project declares (pyproject.toml, setup.cfg,
    requirements files, as the adopt hooks read them) or what those require,
    as installed here; xdist always, for the tests that pass `-n`.
    """
    wanted = _required_closure(declared_requirements(project).values())
    return [
        flag
        for name, distribution in _pytest_plugins()
        if distribution not in wanted | {"pytest-xdist"}
        for flag in ("-p", f"no:{name}")
    ]


# What is installed here does not change during a run: each is read once.
@functools.cache
def _pytest_plugins() -> list[tuple[str, str]]:
    """Every pytest plugin installed here: its name and its distribution's."""
    return [
        (entry.name, canonicalize_name(entry.dist.name if entry.dist else ""))
        for entry in metadata.entry_points(group="pytest11")
    ]


@functools.cache
def _installed_requires(name: str) -> tuple[str, ...]:
    """What the installed distribution `name` requires (none if not installed)."""
    try:
        return tuple(metadata.distribution(name).requires or [])
    except metadata.PackageNotFoundError:
        return ()


def _required_closure(requirements: Iterable[str]) -> set[str]:
    """The packages `requirements` name, and everything they require in turn
    (their extras' too), as installed here."""
    pending: list[tuple[str, frozenset[str]]] = []
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        pending.append((requirement.name, frozenset(requirement.extras)))
    seen: set[tuple[str, frozenset[str]]] = set()
    found: set[str] = set()
    while pending:
        name, extras = pending.pop()
        if (canonicalize_name(name), extras) in seen:
            continue
        seen.add((canonicalize_name(name), extras))
        found.add(canonicalize_name(name))
        for text in _installed_requires(name):
            requirement = Requirement(text)
            environments = [{"extra": extra} for extra in extras or {""}]
            if requirement.marker is None or any(
                requirement.marker.evaluate(environment) for environment in environments
            ):
                pending.append((requirement.name, frozenset(requirement.extras)))
    return found


# How every generated suite is run: warnings are errors, no cache left behind.
PYTEST_WARNINGS_AS_ERRORS = ("-m", "pytest", "-W", "error", "-p", "no:cacheprovider")


def suite_command(project: Path, *pytest_args: str) -> list[str]:
    """The command line that runs a generated project's tests here."""
    return [
        sys.executable,
        *PYTEST_WARNINGS_AS_ERRORS,
        *pytest_plugin_flags(project),
        *pytest_args,
    ]


def run_suite(
    project: Path, *pytest_args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a generated project's own tests with warnings as errors."""
    return run_pytest(
        suite_command(project, *pytest_args),
        cwd=project,
        env=env if env is not None else suite_environment(project),
        timeout=600,
    )


def bare_suite(project: Path, **test_files: str) -> Path:
    """`project` holding nothing but tests/ with `test_files` (name: source)."""
    (project / "tests").mkdir(parents=True)
    for name, source in test_files.items():
        (project / "tests" / name).write_text(source)
    return project


def outcome_counts(output: str) -> dict[str, int]:
    """Parse pytest's closing line into {'passed': N, 'failed': N, ...}."""
    summary = output.strip().splitlines()[-1] if output.strip() else ""
    return {
        word: int(count)
        for count, word in re.findall(r"(\d+) (passed|failed|skipped|errors?)", summary)
    }


def assert_suite_passes(
    result: subprocess.CompletedProcess[str], *, at_least: int = 1
) -> dict[str, int]:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    counts = outcome_counts(result.stdout)
    assert counts.get("passed", 0) >= at_least, output
    assert "skipped" not in counts, f"generated suite skipped tests:\n{output}"
    return counts


def ruff(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_ruff_clean(project: Path) -> None:
    check = ruff(project, "check", "--no-cache", ".")
    assert check.returncode == 0, check.stdout + check.stderr
    formatting = ruff(project, "format", "--no-cache", "--check", ".")
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr


def template_test_worker() -> int:
    """This template-test worker's number (0 without xdist)."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def redis_url_for_generated_suites() -> str:
    """TEST_REDIS_URL for a generated suite run by this template-test worker.

    Generated suites add their own xdist worker number to the database index.
    On a server TEMPLATE_TESTS_REDIS_URL names, each template-test worker
    starts 4 indexes further on, so suites run in parallel by different
    workers never share a database; a private server is one worker's alone.
    """
    return generated_suites_redis_urls()[0]


def required_redis_url() -> str:
    """redis_url_for_generated_suites(): skipped without a server, a failure
    on CI (generated_suites_redis_urls)."""
    return redis_url_for_generated_suites()


def real_redis_environment(project: Path) -> dict[str, str]:
    """suite_environment with the project's TEST_REDIS_URL on this machine's
    Redis (required_redis_url: skipped without a server, a failure on CI)."""
    variable = harness_variable(project, "TEST_REDIS_URL")
    return suite_environment(project, **{variable: required_redis_url()})


# The keys a generated harness writes in a Redis database besides its tests'
# (its cache.py: the claim, and the mark earlier versions left), and the name
# its run's connections carry (redis_database.py).
HARNESS_MARKS = ("fastapi-harness:claimed-by", "fastapi-harness:test-database")
HARNESS_RUN_PREFIX = "fastapi-harness-run-"
# This template-test process's Redis databases, once checked, or why not.
_generated_suites_redis: dict[str, Any] = {}


def generated_suites_redis_urls() -> list[str]:
    """The Redis databases this template-test worker's generated suites may use:
    the first, and one more for each of up to 3 xdist workers of a suite.

    On the server TEMPLATE_TESTS_REDIS_URL names, from its index on; unset, a
    redis-server of this process's own (private_redis_url), so a contributor's
    Redis is never reached. Each database must be empty, or hold nothing but a generated
    harness's claim left by a killed run (removed, key by key): one holding
    any other key is refused, never flushed, and every test needing Redis
    fails saying which.
    """
    if "urls" not in _generated_suites_redis:
        _generated_suites_redis.update(_checked_redis_databases())
    if "refusal" in _generated_suites_redis:
        pytest.fail(_generated_suites_redis["refusal"], pytrace=False)
    return list(_generated_suites_redis["urls"])


def _checked_redis_databases() -> dict[str, Any]:
    configured = os.environ.get("TEMPLATE_TESTS_REDIS_URL")
    # Without one named, never the machine's Redis, even on CI: its database 0
    # is every app's default REDIS_URL, so a client of anything else run beside
    # the tests (an app's own suite, a developer's server) would share it.
    base = configured or private_redis_url("generated suites")
    parts = urlsplit(base)
    require_server(parts.hostname or "127.0.0.1", parts.port or 6379, "Redis")
    # A private server is this worker's alone; a named one is shared by all.
    offset = 4 * template_test_worker() if configured else 0
    first = int(parts.path.strip("/") or 0) + offset
    urls = [
        urlunsplit(parts._replace(path=f"/{index}"))
        for index in range(first, first + 4)
    ]
    for url in urls:
        refusal = _refusal_of(url, configured)
        if refusal:
            return {"urls": urls, "refusal": refusal}
    return {"urls": urls}


def _refusal_of(url: str, configured: str | None) -> str | None:
    """Why the template's tests may not use the Redis database `url`, if they
    may not; a killed earlier run's harness claim is removed first."""
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        keys = set(client.scan_iter(count=1000))
        if keys and keys <= set(HARNESS_MARKS):
            claim = client.get(HARNESS_MARKS[0])
            running = {entry.get("name") for entry in client.client_list()}
            if f"{HARNESS_RUN_PREFIX}{claim}" in running:
                return (
                    f"Redis database {url} is claimed by a generated suite that is "
                    f"running ({claim}): another run of the template's tests on "
                    "the same TEMPLATE_TESTS_REDIS_URL? Give each run its own "
                    "database range (8 per run with -n 2) or its own server."
                )
            client.delete(*keys)
            return None
        if keys:
            return (
                f"Refusing to use Redis database {url} "
                f"(TEMPLATE_TESTS_REDIS_URL={configured}): it holds "
                f"{len(keys)} keys the template's tests did not write, and they "
                "never flush a database they did not fill. Point "
                "TEMPLATE_TESTS_REDIS_URL at an index whose 4 databases per "
                "xdist worker are empty (`redis-server --databases 32` gives room "
                "above 15), or unset it to have the tests start a redis-server "
                "of their own."
            )
        return None
    except redis.ResponseError as error:
        return (
            f"Redis refused database {url} ({error}): the template's tests use 4 "
            "databases per xdist worker from TEMPLATE_TESTS_REDIS_URL's index "
            "on; choose a lower index or a server with more databases."
        )
    finally:
        client.close()


# prctl(2): the signal a child gets when the thread that started it dies.
PR_SET_PDEATHSIG = 1


def _stop_with_this_process() -> None:
    """Run in a child before it starts: Linux sends it SIGTERM when this
    process dies, a killed run's included (atexit runs only on a clean exit)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


# This process's own redis-server for each purpose, started on first use.
_private_redis: dict[str, str] = {}


def private_redis_url(purpose: str) -> str:
    """Database 0 of a redis-server of this process's own for `purpose` (the
    generated suites; a project whose own tests FLUSHALL theirs): no data is
    kept, and it stops when the process ends. Needs the `redis-server`
    binary: skipped without it, a failure on CI."""
    refuse_in_quick_tier(f"a redis-server ({purpose})")
    if purpose not in _private_redis:
        server = shutil.which("redis-server")
        if server is None:
            message = (
                "redis-server is not installed (the template's tests start one "
                "unless TEMPLATE_TESTS_REDIS_URL names a server)"
            )
            if ON_CI:
                pytest.fail(f"{message}; CI provides one, so this is a failure")
            pytest.skip(message)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        # No data kept on disk: it lives as long as this process.
        options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(
            [server, "--port", str(port), *options],
            stdout=subprocess.DEVNULL,
            preexec_fn=_stop_with_this_process if sys.platform == "linux" else None,
        )
        atexit.register(process.terminate)
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        _private_redis[purpose] = f"redis://127.0.0.1:{port}/0"
    return _private_redis[purpose]


# Where the template's tests find PostgreSQL: the machine's server when one is
# named (TEMPLATE_TESTS_DATABASE_URL), or on CI, where one runs; otherwise an
# embedded server, started as generated projects start theirs, so a
# contributor needs nothing but Python. Each test names its own database.
MACHINE_POSTGRES_URL = os.environ.get("TEMPLATE_TESTS_DATABASE_URL") or (
    "postgresql+asyncpg://postgres@127.0.0.1:5432/" if ON_CI else None
)
POSTGRES_SERVER_URL = make_url(
    MACHINE_POSTGRES_URL or "postgresql+asyncpg://postgres@127.0.0.1:5432/"
)
HARNESS = REPO_ROOT / "template" / "{{ harness_directory }}"
EMBEDDED_POSTGRES_MODULE = (
    HARNESS / "{% if async_db == 'postgresql' %}postgres_server.py{% endif %}"
)
# Set by tests/conftest.py: this run's temporary directory, where the embedded
# server's lock lives, and whether this process joined the server.
embedded_postgres: dict[str, Any] = {}


def postgres_server_url() -> URL:
    """The PostgreSQL server for the template's tests, no database named."""
    refuse_in_quick_tier("PostgreSQL")
    if MACHINE_POSTGRES_URL:
        url = make_url(MACHINE_POSTGRES_URL)
        require_server(url.host or "127.0.0.1", url.port or 5432, "PostgreSQL")
        return url
    if "url" not in embedded_postgres:
        module = embedded_postgres_module()
        run = embedded_postgres["run"]
        directory = module.server_directory(run)
        embedded_postgres["leave"] = lambda: module.leave_server(
            directory, run / "embedded-postgres.lock"
        )
        embedded_postgres["url"] = module.join_server(
            directory, run / "embedded-postgres.lock"
        )
    return make_url(embedded_postgres["url"]).set(database="postgres")


def embedded_postgres_module() -> Any:
    """The harness's embedded-server module, imported as a generated service's
    (its answers stubbed: the module reads only SCAFFOLD)."""
    answers = embedded_postgres["run"] / f"embedded_postgres_w{template_test_worker()}"
    answers.mkdir(exist_ok=True)
    (answers / "_project.py").write_text(
        'SCAFFOLD = "service"\nTEST_DATABASE_URL_VARIABLE = "TEST_DATABASE_URL"\n'
    )
    return import_harness_module(EMBEDDED_POSTGRES_MODULE, answers, HARNESS)


def import_harness_module(path: Path, *package: Path) -> ModuleType:
    """The harness module at `path` (whatever its file is named), imported as
    part of a package whose other modules (`from . import _project`,
    `.definitions`) are found in the `package` directories, by default the
    one `path` is in."""
    name = "harness_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
    parent = ModuleType(name)
    parent.__path__ = [str(directory) for directory in package or (path.parent,)]
    sys.modules[name] = parent
    loader = importlib.machinery.SourceFileLoader(f"{name}.module", str(path))
    module = ModuleType(loader.name)
    module.__file__ = str(path)
    module.__package__ = name
    sys.modules[loader.name] = module
    # The modules live in template/: a __pycache__ written beside them would be
    # read by the tests that list the harness's modules, and rendered.
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = writes_bytecode
    return module


def database_url_for(name: str) -> str:
    """TEST_DATABASE_URL for one template test (per template-test worker)."""
    return (
        postgres_server_url()
        .set(database=f"harness_{name}_w{template_test_worker()}_test")
        .render_as_string(hide_password=False)
    )


def server_environment(
    project: Path, answers: Mapping[str, Any], label: str
) -> dict[str, str]:
    """Suite environment with the real servers the answers need, checked first.

    PostgreSQL projects get a database of their own (named after `label`);
    Redis projects run against fakeredis; callers set TEST_REDIS_URL (under
    harness_variable's name) themselves.
    """
    extra: dict[str, str] = {}
    if answers.get("async_db") == "postgresql":
        variable = harness_variable(project, "TEST_DATABASE_URL")
        extra[variable] = database_url_for(label.replace("-", "_"))
    return suite_environment(project, **extra)


# Set while a test of the quick tier runs (tests/conftest.py): such a test
# needs no server, and one that reaches for a server fails saying so.
quick_tier: dict[str, str] = {}


def refuse_in_quick_tier(what: str) -> None:
    if quick_tier:
        pytest.fail(
            f"{quick_tier['test']} is marked quick but needs {what}: quick tests "
            "run with no server. Remove its `quick` mark.",
            pytrace=False,
        )


def require_server(host: str, port: int, what: str) -> None:
    """Skip when no server listens at host:port, except on CI where it fails."""
    refuse_in_quick_tier(f"{what} at {host}:{port}")
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as error:
        message = f"no {what} reachable at {host}:{port} ({error})"
        if ON_CI:
            pytest.fail(f"{message}; CI provides one, so this is a failure")
        pytest.skip(f"{message}; start one to run this test")


def uv_environment(env: Mapping[str, str]) -> dict[str, str]:
    """`env` for uv commands run in a generated project: no outer virtualenv or
    path leaks in, and uv uses an installed Python, never downloads one."""
    clean = {
        key: value
        for key, value in env.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTEST_XDIST_WORKER"}
    }
    clean["UV_PYTHON_DOWNLOADS"] = "never"
    return clean


def run_captured(
    command: Sequence[str | Path], *, timeout: float | None = None, **options: Any
) -> subprocess.CompletedProcess[str]:
    """Run `command` (`options` as subprocess.run takes them), its output
    captured as text; its return code is the caller's to check."""
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, **options
    )


def run_uv(project: Path, env: Mapping[str, str], *uv_args: str) -> None:
    """`uv <uv_args>` in `project`, in the environment its team's shell would give
    it (uv_environment); it must succeed."""
    result = run_captured(
        [sys.executable, "-m", "uv", *uv_args],
        timeout=600,
        cwd=project,
        env=uv_environment(env),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def sync_own_environment(
    project: Path, python: str | Path, env: Mapping[str, str], *uv_args: str
) -> None:
    """`uv sync` the project's own declarations into its .venv, on `python`."""
    run_uv(project, env, "sync", "--python", str(python), *uv_args)


def install_own_pins(
    project: Path, requirements: list[str], env: Mapping[str, str], *uv_args: str
) -> None:
    """`uv pip install` `requirements` into the project's .venv (created on this
    Python if need be), as its team installs its pins: an adopted project that
    keeps old releases runs on them, not on this test environment's."""
    venv = project / ".venv"
    commands = [["pip", "install", "--python", str(venv), *uv_args, *requirements]]
    if not venv.exists():
        commands.insert(0, ["venv", "--python", sys.executable, str(venv)])
    for command in commands:
        run_uv(project, env, *command)


def run_own_suite(
    project: Path, env: Mapping[str, str], *pytest_args: str
) -> subprocess.CompletedProcess[str]:
    """Run the project's suite in its own .venv, warnings as errors.

    uv installs no bytecode; a team's first run writes it, and later runs and
    xdist's workers read it. Here it is written beside the project, never into
    it, so the project's files stay as the test made them."""
    python = project / ".venv" / "bin" / "python"
    own = uv_environment(env)
    own.pop("PYTHONDONTWRITEBYTECODE", None)
    own["PYTHONPYCACHEPREFIX"] = str(project.parent / f".{project.name}-bytecode")
    return subprocess.run(
        [python, *PYTEST_WARNINGS_AS_ERRORS, *pytest_args],
        cwd=project,
        env=own,
        capture_output=True,
        text=True,
        timeout=600,
    )


def admin(sql: str, *args: Any, database: str = "postgres") -> list[asyncpg.Record]:
    """Run one statement on the template tests' PostgreSQL server."""

    async def run() -> list[asyncpg.Record]:
        server = postgres_server_url().set(drivername="postgresql", database=database)
        connection = await asyncpg.connect(server.render_as_string(hide_password=False))
        try:
            return await connection.fetch(sql, *args)
        finally:
            await connection.close()

    return asyncio.run(run())
