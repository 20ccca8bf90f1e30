"""Server URLs a newcomer may set: each form works, or is refused before any
test runs with a message naming a form that works (never a traceback).

The harness's modules are loaded as a project has them, beside a _project.py.
"""

import shutil
from pathlib import Path
from types import ModuleType

import pytest
import redis
from rendering import (
    REPO_ROOT,
    assert_suite_passes,
    import_harness_module,
    render,
    required_redis_url,
    run_suite,
    suite_environment,
)

HARNESS = REPO_ROOT / "template" / "{{ harness_directory }}"
REDIS_DATABASE = HARNESS / "{% if cache != 'none' %}redis_database.py{% endif %}"
LIFECYCLE = (
    HARNESS / "{% if async_db == 'postgresql' %}postgresql_lifecycle.py{% endif %}"
)


def harness_module(tmp_path: Path, source: Path, name: str) -> ModuleType:
    harness = tmp_path / "tests" / "harness"
    harness.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, harness / name)
    (harness / "_project.py").write_text(
        "SCAFFOLD = 'service'\nPACKAGE = 'shop'\nDIRECTORY = 'tests/harness'\n"
        "TEST_DATABASE_URL_VARIABLE = 'TEST_DATABASE_URL'\n"
        "TEST_REDIS_URL_VARIABLE = 'TEST_REDIS_URL'\n"
    )
    return import_harness_module(harness / name)


@pytest.fixture
def redis_database(tmp_path: Path) -> ModuleType:
    return harness_module(tmp_path, REDIS_DATABASE, "redis_database.py")


@pytest.mark.quick
@pytest.mark.parametrize(
    ("configured", "worker", "expected", "database"),
    [
        ("redis://127.0.0.1:6379/4", "gw1", "redis://127.0.0.1:6379/5", 5),
        ("redis://127.0.0.1:6379", "gw2", "redis://127.0.0.1:6379/2", 2),
        ("rediss://:pw@cache:6380/0", "gw0", "rediss://:pw@cache:6380/0", 0),
        # Redis clients read the query's db first.
        ("redis://cache/?db=12", "gw1", "redis://cache/?db=13", 13),
        ("redis://cache/12?db=12", "gw1", "redis://cache/13?db=13", 13),
        ("unix:///run/redis.sock?db=3", "gw1", "unix:///run/redis.sock?db=4", 4),
        ("unix:///run/redis.sock", "gw1", "unix:///run/redis.sock?db=1", 1),
    ],
)
def test_each_worker_gets_the_next_database_where_the_url_names_it(
    redis_database: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    configured: str,
    worker: str,
    expected: str,
    database: int,
) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
    url = redis_database.this_workers_redis_url(configured)

    assert url == expected
    # The database the client really uses.
    assert redis.connection.parse_url(url).get("db", 0) == database


@pytest.mark.quick
@pytest.mark.parametrize(
    ("configured", "reason"),
    [
        ("redis://cache/13?db=12", "names database 13 in its path and 12 in its query"),
        ("redis://cache/first", "its database index 'first' is not a number"),
    ],
)
def test_an_ambiguous_or_unreadable_index_is_refused_naming_the_form(
    redis_database: ModuleType, configured: str, reason: str
) -> None:
    with pytest.raises(pytest.fail.Exception) as refused:
        redis_database.this_workers_redis_url(configured)

    assert reason in str(refused.value)
    assert "redis://host:6379/2" in str(refused.value)


@pytest.mark.quick
def test_libpq_options_in_test_database_url_are_refused_naming_the_form(
    tmp_path: Path,
) -> None:
    lifecycle = harness_module(tmp_path, LIFECYCLE, "postgresql_lifecycle.py")
    url = "postgresql+asyncpg://postgres@127.0.0.1/shop_test?options=-csearch_path%3Dx"

    with pytest.raises(pytest.fail.Exception) as refused:
        lifecycle.configured_test_database_url(url)

    assert "sets options, which asyncpg" in str(refused.value)
    # What asyncpg takes passes.
    fine = lifecycle.configured_test_database_url(
        "postgresql+asyncpg://postgres@127.0.0.1/shop_test?command_timeout=5"
    )
    assert fine.query == {"command_timeout": "5"}


def test_a_suite_on_a_url_naming_its_database_in_the_query_passes(
    template: Path, tmp_path: Path
) -> None:
    """The query form end to end: two workers, each on its own database."""
    base = required_redis_url()
    host, index = base.rsplit("/", 1)
    project = render(template, tmp_path / "svc", {"cache": "redis"})
    env = suite_environment(project, TEST_REDIS_URL=f"{host}/?db={index}")

    assert_suite_passes(run_suite(project, "-n", "2", env=env), at_least=4)
