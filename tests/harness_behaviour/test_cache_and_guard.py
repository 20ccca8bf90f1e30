"""The cache fixture (fakeredis and a real Redis), the loop guard, and dependency
overrides that never outlive a failing test."""

import os
import textwrap
from pathlib import Path

import pytest
from rendering import (
    assert_suite_passes,
    outcome_counts,
    real_redis_environment,
    render,
    run_suite,
)

# sqlite too, so the guard is shown for both loop-bound resources.
REDIS_ANSWERS = {"cache": "redis", "async_db": "sqlite", "concurrency": True}


@pytest.fixture(scope="module")
def redis_project(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(template, tmp_path_factory.mktemp("redis") / "svc", REDIS_ANSWERS)


@pytest.fixture
def real_redis_env(redis_project: Path) -> dict[str, str]:
    return real_redis_environment(redis_project)


def add_test_file(project: Path, name: str, source: str) -> Path:
    path = project / "tests" / name
    path.write_text(textwrap.dedent(source))
    return path


def test_redis_project_passes_with_fakeredis(redis_project: Path) -> None:
    assert_suite_passes(run_suite(redis_project), at_least=10)


# Loaded with -p into a generated suite: each process records whether it
# imported fakeredis.
FAKEREDIS_RECORDER = """
import os
import sys


def pytest_sessionfinish(session):
    record = os.path.join(os.environ["FAKEREDIS_RECORD"], str(os.getpid()))
    with open(record, "w") as file:
        file.write(str("fakeredis" in sys.modules))
"""


@pytest.mark.parametrize("workers", [None, "2"], ids=["serial", "xdist-2"])
def test_redis_project_passes_against_a_real_redis(
    redis_project: Path,
    real_redis_env: dict[str, str],
    workers: str | None,
    tmp_path: Path,
) -> None:
    """On a real Redis, fakeredis is never imported: it is a sixth of a run's
    start."""
    (tmp_path / "fakeredis_recorder.py").write_text(FAKEREDIS_RECORDER)
    record = tmp_path / "record"
    record.mkdir()
    env = {
        **real_redis_env,
        "FAKEREDIS_RECORD": str(record),
        "PYTHONPATH": f"{real_redis_env['PYTHONPATH']}{os.pathsep}{tmp_path}",
    }
    args = ["-n", workers] if workers else []

    result = run_suite(redis_project, "-p", "fakeredis_recorder", *args, env=env)

    assert_suite_passes(result)
    imported = [path.read_text() for path in record.iterdir()]
    assert imported == ["False"] * (1 + int(workers or 0)), imported


def test_real_redis_holding_foreign_keys_is_never_flushed(
    redis_project: Path, real_redis_env: dict[str, str]
) -> None:
    import redis

    url = real_redis_env["TEST_REDIS_URL"]
    foreign = redis.Redis.from_url(url)
    try:
        foreign.set("someone-elses-data", "precious")

        result = run_suite(redis_project, env=real_redis_env)

        assert result.returncode != 0
        assert "Refusing to use Redis database" in result.stdout
        assert "keys this harness did not write" in result.stdout
        assert "TEST_REDIS_URL" in result.stdout
        assert foreign.get("someone-elses-data") == b"precious"
    finally:
        foreign.delete("someone-elses-data")
        foreign.close()


def test_guard_stops_client_mixed_with_cache_db_session_or_a_user_fixture(
    redis_project: Path,
) -> None:
    add_test_file(
        redis_project,
        "test_wrong_mix.py",
        """
        import pytest


        @pytest.fixture
        def my_async_resource():
            return object()


        def test_client_with_cache(client, cache):
            client.get("/health")


        def test_client_with_db_session(client, db_session):
            client.get("/health")


        def test_client_with_my_resource(client, my_async_resource):
            client.get("/health")


        def test_client_alone(client):
            assert client.get("/health").status_code == 200
        """,
    )
    pyproject = redis_project / "pyproject.toml"
    original = pyproject.read_text()
    pyproject.write_text(
        original.replace(
            "[tool.pytest.ini_options]\n",
            '[tool.pytest.ini_options]\nloop_bound_fixtures = ["my_async_resource"]\n',
        )
    )
    try:
        result = run_suite(redis_project, "tests/test_wrong_mix.py", "-rE")
    finally:
        pyproject.write_text(original)
        (redis_project / "tests" / "test_wrong_mix.py").unlink()

    output = result.stdout
    assert result.returncode == 1, output
    assert outcome_counts(output) == {"passed": 1, "errors": 3}, output
    assert "ERROR at setup of test_client_with_cache" in output
    assert "uses `client` together with loop-bound `cache`" in output
    # Only what the test asked for is named (db_session brings async_client).
    assert "uses `client` together with loop-bound `db_session`." in output
    assert "uses `client` together with loop-bound `my_async_resource`" in output
    assert "runs the app on its own event loop in another thread" in output
    assert "Fix: use `async_client` instead of `client`" in output
    assert "RuntimeError" not in output


@pytest.mark.parametrize("client_fixture", ["client", "async_client"])
def test_overrides_set_by_a_failing_test_do_not_reach_the_next(
    redis_project: Path, client_fixture: str
) -> None:
    is_async = client_fixture == "async_client"
    call = "await " if is_async else ""
    add_test_file(
        redis_project,
        "test_override_leak.py",
        f"""
        from my_service.routers.greetings import hello

        BEFORE = {{}}


        {"async " if is_async else ""}def test_breaks_halfway(app, {client_fixture}):
            BEFORE.update(app.dependency_overrides)
            app.dependency_overrides[hello] = lambda: {{"message": "overridden"}}
            app.dependency_overrides = {{hello: lambda: {{"message": "replaced"}}}}
            response = {call}{client_fixture}.get("/health")
            assert response.status_code == 500, "fails on purpose, overrides in place"


        {"async " if is_async else ""}def test_runs_next(app, {client_fixture}):
            assert hello not in app.dependency_overrides
            # The same dependencies overridden (the harness gives each test a fresh
            # fakeredis: a new function, the same key).
            assert app.dependency_overrides.keys() == BEFORE.keys()
            response = {call}{client_fixture}.get("/hello", params={{"name": "Ada"}})
            assert response.json() == {{"message": "Hello, Ada!"}}
        """,
    )
    try:
        result = run_suite(
            redis_project, "tests/test_override_leak.py", "-p", "no:xdist"
        )
    finally:
        (redis_project / "tests" / "test_override_leak.py").unlink()

    assert outcome_counts(result.stdout) == {"passed": 1, "failed": 1}, result.stdout
    assert "fails on purpose" in result.stdout


def test_without_the_guard_fakeredis_hides_the_loop_bug_a_real_redis_shows(
    redis_project: Path, real_redis_env: dict[str, str]
) -> None:
    """Why the guard exists: `client` plus `cache` passes on fakeredis and fails
    on a real Redis with the cross-loop error; the guard stops it on both."""
    add_test_file(
        redis_project,
        "test_naive_mix.py",
        """
        def test_client_with_cache(client, cache):
            assert client.post("/counters/naive/hits").json()["hits"] == 1
            assert client.post("/counters/naive/hits").json()["hits"] == 2
        """,
    )
    naive = ["tests/test_naive_mix.py", "-p", "no:tests.harness.loop_guard"]
    try:
        on_fakeredis = run_suite(redis_project, *naive)
        on_real_redis = run_suite(redis_project, *naive, env=real_redis_env)
        guarded = run_suite(
            redis_project, "tests/test_naive_mix.py", env=real_redis_env
        )
    finally:
        (redis_project / "tests" / "test_naive_mix.py").unlink()

    assert outcome_counts(on_fakeredis.stdout) == {"passed": 1}, on_fakeredis.stdout
    assert on_real_redis.returncode != 0
    assert "attached to a different loop" in on_real_redis.stdout
    assert guarded.returncode != 0
    assert "uses `client` together with loop-bound `cache`" in guarded.stdout
    assert "RuntimeError" not in guarded.stdout
