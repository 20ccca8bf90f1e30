"""Data safety: attacks on the generated harness's PostgreSQL and Redis handling.

Each test performs one attack a careless or hostile user could make (a URL that
redirects the driver, a developer's own database under the test name, a killed
run, two runs at once, a password in a URL, a missing role) and checks that the
harness refuses or recovers, and that nothing it does not own is touched.
Isolation attacks (writes through every path, in both orders) are in
test_isolation.py.
"""

import asyncio
import os
import signal
import subprocess
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
import redis
from rendering import (
    admin,
    assert_suite_passes,
    database_url_for,
    outcome_counts,
    postgres_server_url,
    render,
    required_redis_url,
    run_suite,
    suite_command,
    suite_environment,
    template_test_worker,
)
from sqlalchemy import make_url

ANSWERS = {"async_db": "postgresql", "cache": "redis"}
# One quick test that needs the database, for attacks that stop at setup.
ONE_DATABASE_TEST = ("tests/test_items.py", "-k", "each_test_starts")
PASSWORD = "s3cr3t-pw"
# The first key of the harness's advisory locks (postgresql_lifecycle.py).
LOCK_NAMESPACE = 1_179_681_097


def databases() -> set[str]:
    return {row["datname"] for row in admin("SELECT datname FROM pg_database")}


def drop_database(name: str) -> None:
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_url(database: str, **parts: Any) -> str:
    return (
        postgres_server_url()
        .set(database=database, **parts)
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="module")
def project(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    postgres_server_url()  # the machine's server, or an embedded one
    return render(template, tmp_path_factory.mktemp("safety") / "svc", ANSWERS)


@pytest.fixture
def attack_file(project: Path) -> Any:
    """Add a test module to the generated project for one test; removed after."""
    added: list[Path] = []

    def add(name: str, source: str) -> Path:
        path = project / "tests" / name
        path.write_text(textwrap.dedent(source))
        added.append(path)
        return path

    yield add
    for path in added:
        path.unlink()


@pytest.fixture
def redis_url() -> str:
    """The first of this worker's Redis databases, found empty (each test
    deletes the keys it wrote)."""
    return required_redis_url()


def env_for(project: Path, label: str, **extra: str) -> dict[str, str]:
    """The suite's environment with a PostgreSQL test database of its own."""
    return suite_environment(
        project, TEST_DATABASE_URL=database_url_for(label), **extra
    )


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def start_suite(project: Path, env: dict[str, str], *args: str) -> subprocess.Popen:
    """Start the generated suite in its own process group (to be killed whole)."""
    return subprocess.Popen(
        suite_command(project, *args),
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def kill_once_started(
    project: Path, env: dict[str, str], what: str, *args: str
) -> None:
    """Run the suite and kill it (SIGKILL: no teardown) once its test has
    written the `started` file."""
    (project / "started").unlink(missing_ok=True)
    killed = start_suite(project, env, *args)
    try:
        wait_for((project / "started").exists, what)
    finally:
        os.killpg(killed.pid, signal.SIGKILL)
        killed.communicate()
        (project / "started").unlink(missing_ok=True)


def wait_for(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("database", "{victim}"),
        ("dbname", "{victim}"),
        ("dsn", "postgresql://127.0.0.1/{victim}"),
    ],
    ids=["database", "dbname", "dsn"],
)
def test_query_options_cannot_redirect_the_suite_to_another_database(
    project: Path, option: str, value: str
) -> None:
    victim = f"harness_victim_w{template_test_worker()}"
    drop_database(victim)
    admin(f'CREATE DATABASE "{victim}"')
    url = (
        make_url(database_url_for("redirect"))
        .set(password=PASSWORD)
        .update_query_dict({option: value.format(victim=victim)})
        .render_as_string(hide_password=False)
    )
    try:
        result = run_suite(
            project,
            *ONE_DATABASE_TEST,
            env=suite_environment(project, TEST_DATABASE_URL=url),
        )
        tables = admin(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
            database=victim,
        )
    finally:
        drop_database(victim)

    output = output_of(result)
    assert result.returncode != 0, output
    assert "passed" not in outcome_counts(result.stdout), output
    assert "Refusing TEST_DATABASE_URL=" in output
    assert "its query string sets" in output
    assert PASSWORD not in output
    assert tables == [], f"the suite created tables in {victim}: {tables}"


def test_a_same_named_database_the_harness_did_not_create_is_never_dropped(
    project: Path,
) -> None:
    url = database_url_for("developers_own")
    name = make_url(url).database or ""
    drop_database(name)
    admin(f'CREATE DATABASE "{name}"')
    admin("CREATE TABLE notes (body text)", database=name)
    admin("INSERT INTO notes VALUES ('keep me')", database=name)
    try:
        result = run_suite(
            project,
            *ONE_DATABASE_TEST,
            env=suite_environment(project, TEST_DATABASE_URL=url),
        )
        notes = admin("SELECT body FROM notes", database=name)
    finally:
        drop_database(name)

    output = output_of(result)
    assert result.returncode != 0, output
    assert f"Refusing to drop database '{name}'" in output
    assert "was not created by this test harness" in output
    assert "DROP DATABASE" in output, "the message names what to do"
    assert [row["body"] for row in notes] == ["keep me"]


SLEEPS_IN_THE_DATABASE = """\
    import asyncio
    from pathlib import Path


    async def test_holds_the_database(db_session, async_client):
        Path("started").touch()
        await asyncio.sleep(120)
    """


def test_databases_of_a_killed_xdist_worker_are_dropped_by_a_plain_rerun(
    project: Path, attack_file: Any
) -> None:
    """xdist worker gw3 is killed (SIGKILL, no teardown) inside a test; a plain
    rerun drops its `_gw3` database. The worker is a plain pytest process told
    it is gw3, as xdist tells its workers: the harness names databases by it."""
    attack_file("test_killed.py", SLEEPS_IN_THE_DATABASE)
    url = database_url_for("killed")
    base = make_url(url).database or ""
    stale = f"{base}_gw3"
    env = suite_environment(project, TEST_DATABASE_URL=url)
    kill_once_started(
        project,
        {**env, "PYTEST_XDIST_WORKER": "gw3"},
        "the worker to start its test",
        "tests/test_killed.py",
    )
    assert stale in databases(), "the killed worker left its database behind"
    # The server notices the killed connection and frees its lock.
    wait_for(
        lambda: (
            not admin(
                "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1"
                " AND objid = hashtext($2)::oid",
                LOCK_NAMESPACE,
                stale,
            )
        ),
        "the killed worker's lock to be released",
    )

    rerun = run_suite(project, *ONE_DATABASE_TEST, env=env)

    assert_suite_passes(rerun)
    assert not {stale, base} & databases()


def test_a_run_waiting_for_another_runs_database_says_what_it_waits_for(
    project: Path,
) -> None:
    url = database_url_for("waiting")
    name = make_url(url).database or ""
    loop = asyncio.new_event_loop()
    holder = loop.run_until_complete(
        asyncpg.connect(
            server_url("postgres").replace("+asyncpg", ""),
            server_settings={"application_name": "other run"},
        )
    )
    try:
        loop.run_until_complete(
            holder.execute(
                "SELECT pg_advisory_lock($1, hashtext($2))", LOCK_NAMESPACE, name
            )
        )
        waiting = start_suite(
            project,
            suite_environment(project, TEST_DATABASE_URL=url),
            *ONE_DATABASE_TEST,
        )
        assert waiting.stderr is not None
        announced = ""
        while "Waiting" not in announced and waiting.poll() is None:
            announced = waiting.stderr.readline()
        # Still waiting: its database does not exist while the lock is held.
        time.sleep(1)
        assert waiting.poll() is None
        assert name not in databases()
    finally:
        loop.run_until_complete(holder.close())
        loop.close()
    stdout, stderr = waiting.communicate(timeout=120)

    assert f"Waiting for test database '{name}'" in announced
    assert "another test run uses it (other run)" in announced
    assert "set TEST_DATABASE_URL to another database name" in announced
    assert waiting.returncode == 0, stdout + stderr
    assert name not in databases()


HOLDS_A_CONNECTION_PAST_THE_END = """\
    import subprocess
    import sys
    import time

    from sqlalchemy import make_url, text

    # A process of its own (the shell detaches it) keeps a connection to the
    # test database open past the end of the run, as a leaked pool would.
    HOLD = '''
    import asyncio, sys, asyncpg
    async def hold():
        connection = await asyncpg.connect(sys.argv[1])
        await connection.execute("SELECT pg_sleep(60)")
    asyncio.run(hold())
    '''
    DETACHED = '"$0" -c "$1" "$2" >/dev/null 2>&1 &'


    async def test_leaves_a_connection_open(test_database_url, db_engine):
        dsn = make_url(test_database_url).set(drivername="postgresql")
        dsn = dsn.render_as_string(hide_password=False)
        subprocess.run(
            ["sh", "-c", DETACHED, sys.executable, HOLD, dsn],
            check=True,
        )
        for _ in range(100):
            async with db_engine.connect() as connection:
                others = await connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE "
                        "datname = current_database() AND pid <> pg_backend_pid() "
                        "AND query LIKE '%pg_sleep%'"
                    )
                )
            if others:
                return
            time.sleep(0.1)
        raise AssertionError("the other connection never arrived")
    """


def test_the_database_is_dropped_although_connections_to_it_remain(
    project: Path, attack_file: Any
) -> None:
    attack_file("test_left_open.py", HOLDS_A_CONNECTION_PAST_THE_END)
    url = database_url_for("left_open")
    name = make_url(url).database or ""

    result = run_suite(
        project,
        "tests/test_left_open.py",
        env=suite_environment(project, TEST_DATABASE_URL=url),
    )

    assert_suite_passes(result)
    assert "is being accessed by other users" not in output_of(result)
    assert name not in databases()


def test_a_name_postgresql_would_cut_short_is_refused_before_any_database(
    project: Path,
) -> None:
    # 60 bytes: `_gw0` makes 64, and PostgreSQL keeps 63, so both workers'
    # names would be cut to one database.
    name = f"harness_long_w{template_test_worker()}_".ljust(55, "x") + "_test"
    assert len(name) == 60
    result = run_suite(
        project,
        "-p",
        "xdist",
        "-n",
        "2",
        *ONE_DATABASE_TEST,
        env=suite_environment(project, TEST_DATABASE_URL=server_url(name)),
    )

    output = output_of(result)
    assert result.returncode != 0, output
    assert "passed" not in outcome_counts(result.stdout), output
    # Refused once, before any worker starts: a worker refusing it as it
    # started would be taken for a crash and replaced, again and again.
    assert output.count("PostgreSQL keeps only 63") == 1, output
    assert "crashed" not in output, output
    assert "Traceback" not in output, output
    assert "at most 59 bytes" in output
    assert not {db for db in databases() if db.startswith(name[:50])}


@pytest.mark.parametrize(
    ("url_for", "expected"),
    [
        (
            lambda: f"mysql+aiomysql://root:{PASSWORD}@127.0.0.1/svc_test",
            "is not a PostgreSQL URL",
        ),
        (
            lambda: server_url(
                "svc_test", username="no_such_role_here", password=PASSWORD
            ),
            "refused the tests' connection as user 'no_such_role_here': role "
            '"no_such_role_here" does not exist',
        ),
    ],
    ids=["not-postgresql", "missing-role"],
)
def test_failures_name_the_fix_and_never_print_the_password(
    project: Path, url_for: Any, expected: str
) -> None:
    url = url_for()
    result = run_suite(
        project,
        *ONE_DATABASE_TEST,
        env=suite_environment(project, TEST_DATABASE_URL=url),
    )

    output = output_of(result)
    assert result.returncode != 0, output
    assert expected in output
    assert "***" in output, "the URL is shown, its password hidden"
    assert PASSWORD not in output
    assert "Traceback" not in output
    assert "asyncpg.exceptions" not in output


def test_redis_password_is_never_printed(project: Path) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:1/0"
    result = run_suite(
        project,
        "tests/test_counters.py",
        env=env_for(project, "redis_password", TEST_REDIS_URL=url),
    )

    output = output_of(result)
    assert result.returncode != 0, output
    assert "no Redis answers at redis://:***@127.0.0.1:1/0" in output
    assert PASSWORD not in output


def held_test(signature: str, before: str = "", after: str = "") -> str:
    """A generated test module: its test runs `before`, writes the `started`
    file, waits for a `release` file, then runs `after`; more tests may follow
    in `after` (unindented)."""
    waits = """\
    Path("started").touch()
    for _ in range(600):
        if Path("release").exists():
            break
        await asyncio.sleep(0.1)
"""
    return (
        f"import asyncio\nfrom pathlib import Path\n\n\nasync def {signature}:\n"
        f"{before}{waits}{after}"
    )


@contextmanager
def held_run(
    project: Path, env: dict[str, str], test_file: str, what: str
) -> Iterator[subprocess.Popen]:
    """The suite on `test_file` (a held_test), once its test has written
    `started`; killed if still running on leaving."""
    for flag in ("started", "release"):
        (project / flag).unlink(missing_ok=True)
    run = start_suite(project, env, test_file)
    try:
        wait_for(lambda: (project / "started").exists() or run.poll() is not None, what)
        if not (project / "started").exists():
            stdout, stderr = run.communicate()
            pytest.fail(f"the run ended before {what}:\n{stdout}{stderr}")
        yield run
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        # Read or not, the pipes are closed here, not left to the collector.
        for stream in (run.stdout, run.stderr):
            if stream is not None:
                stream.close()
        run.wait()
        for flag in ("started", "release"):
            (project / flag).unlink(missing_ok=True)


def released(project: Path, run: subprocess.Popen) -> tuple[str, str]:
    """Let a held run's test finish; the run's output."""
    (project / "release").touch()
    stdout, stderr = run.communicate(timeout=120)
    return stdout, stderr


USES_THE_CACHE_UNTIL_RELEASED = held_test(
    "test_holds_the_cache(async_client, cache)",
    before='    await cache.set("written-by-the-first-run", "1")\n',
    after='    assert await cache.get("written-by-the-first-run") == "1"\n',
)


def test_two_runs_on_one_redis_database_never_flush_each_others_keys(
    project: Path, attack_file: Any, redis_url: str
) -> None:
    attack_file("test_holds_cache.py", USES_THE_CACHE_UNTIL_RELEASED)
    env = env_for(project, "first_run", TEST_REDIS_URL=redis_url)
    what = "the first run to write its key"
    with held_run(project, env, "tests/test_holds_cache.py", what) as first:
        second = run_suite(
            project,
            "tests/test_counters.py",
            env=env_for(project, "second_run", TEST_REDIS_URL=redis_url),
        )
        stdout, stderr = released(project, first)

    assert second.returncode != 0
    assert "another test run" in second.stdout
    assert "is using it right now" in second.stdout
    assert outcome_counts(stdout) == {"passed": 1}, stdout + stderr
    # The first run gave the database up empty.
    assert redis.Redis.from_url(redis_url).dbsize() == 0


def test_keys_written_after_a_run_are_never_flushed_by_the_next(
    project: Path, redis_url: str
) -> None:
    env = env_for(project, "after_a_run", TEST_REDIS_URL=redis_url)
    service = redis.Redis.from_url(redis_url)

    assert_suite_passes(run_suite(project, "tests/test_counters.py", env=env))
    # The app's own service writes there after the run (same URL).
    service.set("service:session", "precious")
    try:
        rerun = run_suite(project, "tests/test_counters.py", env=env)

        assert rerun.returncode != 0
        assert "holds keys this harness did not write (1 of them)" in rerun.stdout
        assert service.get("service:session") == b"precious"
        assert service.dbsize() == 1, "nothing added or left behind either"
    finally:
        service.delete("service:session")
        service.close()


def test_keys_left_by_a_killed_run_are_refused_not_flushed(
    project: Path, attack_file: Any, redis_url: str
) -> None:
    attack_file("test_holds_cache.py", USES_THE_CACHE_UNTIL_RELEASED)
    env = env_for(project, "killed_redis", TEST_REDIS_URL=redis_url)
    kill_once_started(
        project, env, "the run to write its key", "tests/test_holds_cache.py"
    )
    client = redis.Redis.from_url(redis_url)
    wait_for(
        lambda: (
            not [
                c
                for c in client.client_list()
                if c["name"].startswith("fastapi-harness")
            ]
        ),
        "the killed run's connection to close",
    )

    refused = run_suite(project, "tests/test_counters.py", env=env)
    left = client.get("written-by-the-first-run")
    client.delete("written-by-the-first-run")
    # Closed: a client left on the database is not the next run's.
    client.close()
    # With only its claim left, the database is taken over.
    recovered = run_suite(project, "tests/test_counters.py", env=env)

    assert refused.returncode != 0
    assert "ended there without cleaning up" in refused.stdout
    assert "flushdb" in refused.stdout
    assert left == b"1"
    assert_suite_passes(recovered)


WRITES_WHILE_A_SERVICE_WRITES = held_test(
    "test_writes_beside_a_service(async_client, cache)",
    before='    await cache.set("written-by-the-test", "1")\n',
    after=(
        "\n\nasync def test_writes_after_it(async_client, cache):\n"
        '    await cache.set("written-by-the-next-test", "1")\n'
    ),
)


def test_a_client_using_the_claimed_database_mid_run_loses_nothing(
    project: Path, attack_file: Any, redis_url: str
) -> None:
    """A dev server pointed at the claimed database writes while a test runs:
    the run fails naming it, and nothing is flushed, then or later."""
    attack_file("test_beside_a_service.py", WRITES_WHILE_A_SERVICE_WRITES)
    env = env_for(project, "beside_a_service", TEST_REDIS_URL=redis_url)
    # The service's client stays connected, as a pool's connections do.
    service = redis.Redis.from_url(redis_url, decode_responses=True)
    written = ("service:session", "written-by-the-test", "written-by-the-next-test")
    what = "the run's test to write its key"
    try:
        with held_run(project, env, "tests/test_beside_a_service.py", what) as run:
            service.set("service:session", "precious")
            address = service.client_info()["addr"]
            stdout, _ = released(project, run)

        output = " ".join(stdout.split())
        assert run.returncode != 0, output
        assert "is used by a client that is not this test run's" in output
        assert address in output
        assert outcome_counts(stdout) == {"passed": 2, "errors": 2}, output
        assert service.get("service:session") == "precious"
        # Nothing flushed for the rest of the run either; the claim given up.
        assert service.mget(written[1:]) == ["1", "1"]
        assert set(service.keys()) == set(written)
    finally:
        service.delete(*written)
        service.close()


HOLDS_THE_DATABASE_UNTIL_RELEASED = held_test("test_holds_the_database(async_client)")


def test_a_run_whose_connections_dropped_keeps_its_claim(
    project: Path, attack_file: Any, redis_url: str
) -> None:
    """Every connection of a run is dropped (a network blip, a proxy, CLIENT
    KILL) while its test runs: a second run is still refused."""
    attack_file("test_holds_database.py", HOLDS_THE_DATABASE_UNTIL_RELEASED)
    env = env_for(project, "dropped_first", TEST_REDIS_URL=redis_url)
    what = "the first run to hold its database"
    with held_run(project, env, "tests/test_holds_database.py", what) as first:
        # Closed at once: a client left on the database is not the run's.
        with redis.Redis.from_url(redis_url, decode_responses=True) as server:
            dropped = [
                entry["id"]
                for entry in server.client_list()
                if entry["name"].startswith("fastapi-harness-run-")
            ]
            for client_id in dropped:
                server.client_kill_filter(_id=client_id)

        second = run_suite(
            project,
            "tests/test_counters.py",
            env=env_for(project, "dropped_second", TEST_REDIS_URL=redis_url),
        )
        stdout, stderr = released(project, first)

    assert dropped
    assert second.returncode != 0, second.stdout
    assert "is using it right now" in second.stdout
    assert outcome_counts(stdout) == {"passed": 1}, stdout + stderr
    with redis.Redis.from_url(redis_url) as server:
        assert server.dbsize() == 0, "the first run gave its database up empty"


def test_testing_md_example_redis_url_is_not_the_apps_own(project: Path) -> None:
    readme = (project / "TESTING.md").read_text()
    settings = (project / "src" / "my_service" / "features.py").read_text()
    example = readme.split("TEST_REDIS_URL=", 1)[1].split()[0]
    default = settings.split('redis_url: str = "', 1)[1].split('"')[0]

    assert example.startswith("redis://")
    assert example != default
    # Nor any worker's database: the example's index plus the worker number.
    assert int(urlsplit(example).path.strip("/")) > int(
        urlsplit(default).path.strip("/")
    )


DOCS_STYLE_TEST = """\
    from fastapi.testclient import TestClient

    from my_service.main import app


    def test_written_the_way_fastapis_docs_show():
        with TestClient(app) as client:
            assert client.post("/items", json={"name": "docs"}).status_code == 201
            assert client.post("/counters/docs/hits").json()["hits"] == 1
    """


def test_a_test_importing_the_app_itself_never_reaches_the_developers_data(
    project: Path, attack_file: Any, redis_url: str
) -> None:
    """DATABASE_URL and REDIS_URL name a developer's database and Redis, in
    the shell and in .env; a test uses the app module's own `app`."""
    developers = f"harness_developers_w{template_test_worker()}"
    drop_database(developers)
    admin(f'CREATE DATABASE "{developers}"')
    admin(
        "CREATE TABLE items (id serial PRIMARY KEY, name varchar(100) NOT NULL,"
        " quantity integer NOT NULL DEFAULT 0)",
        database=developers,
    )
    admin("INSERT INTO items (name) VALUES ('precious')", database=developers)
    developers_url = server_url(developers)
    # A Redis database the generated suites never use, holding the developer's key.
    developers_redis = urlsplit(redis_url)._replace(path="/15").geturl()
    own = redis.Redis.from_url(developers_redis, decode_responses=True)
    key = f"developers-key-{os.getpid()}"
    own.set(key, "precious")
    before = set(own.keys())
    dotenv = project / ".env"
    dotenv.write_text(f"DATABASE_URL={developers_url}\nREDIS_URL={developers_redis}\n")
    attack_file("test_docs_style.py", DOCS_STYLE_TEST)
    env = env_for(
        project,
        "docs_style",
        TEST_REDIS_URL=redis_url,
        DATABASE_URL=developers_url,
        REDIS_URL=developers_redis,
    )
    try:
        result = run_suite(
            project, "tests/test_docs_style.py", "-p", "no:xdist", env=env
        )

        assert_suite_passes(result, at_least=1)
        rows = admin("SELECT name FROM items", database=developers)
        assert [row["name"] for row in rows] == ["precious"]
        assert set(own.keys()) == before
        assert own.get(key) == "precious"
    finally:
        dotenv.unlink(missing_ok=True)
        own.delete(key)
        own.close()
        drop_database(developers)
