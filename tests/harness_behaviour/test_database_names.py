"""The PostgreSQL test database's name when TEST_DATABASE_URL names only a server.

Teams point TEST_DATABASE_URL at one shared dev or CI server. Two projects whose
package is `app` (a common name), adopted side by side, run at the same time on
that server with the same server-only URL and `-n 2`: each uses databases of its
own (package, then a hash of its path), both pass, neither waits for the other,
and none of their databases is left. The name is the same for every run of one
checkout, differs between checkouts, and fits PostgreSQL's 63 bytes with a
worker's suffix however long the package's name and the path.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import asyncpg
import pytest
from adoption import ENV_ENGINE_ANSWERS
from adoption import adopt as adopt_harness
from rendering import (
    EXISTING_APPS,
    REPO_ROOT,
    import_harness_module,
    outcome_counts,
    postgres_server_url,
    suite_command,
    suite_environment,
)

LIFECYCLE = (
    "template/{{ harness_directory }}/"
    "{% if async_db == 'postgresql' %}postgresql_lifecycle.py{% endif %}"
)
LAYOUT = "env_engine"  # package `app`, its engine built at import
# The longest package name the questionnaire accepts.
LONGEST_PACKAGE = "p" * 50
# Appended to each project's conftest.py: every worker writes down its database.
RECORD_EACH_WORKERS_DATABASE = """

@pytest.fixture(scope="session", autouse=True)
def _record_the_database(harness_test_database_url):
    import os
    from pathlib import Path

    from sqlalchemy import make_url

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    record = Path(os.environ["DATABASE_RECORD"]) / worker
    record.write_text(make_url(harness_test_database_url).database)
"""


def load(project: Path) -> ModuleType:
    """`project`'s postgresql_lifecycle.py, its _project.py beside it: in
    tests/harness/, or adopted, in tests/harness/fastapi_harness/."""
    harness = project / "tests" / "harness"
    if (harness / "fastapi_harness").is_dir():
        harness = harness / "fastapi_harness"
    return import_harness_module(harness / "postgresql_lifecycle.py")


def rendered_lifecycle(project: Path, package_name: str) -> ModuleType:
    """postgresql_lifecycle.py as `project`'s harness would have it: in its
    tests/harness/, the answers it reads beside it."""
    harness = project / "tests" / "harness"
    harness.mkdir(parents=True)
    shutil.copyfile(REPO_ROOT / LIFECYCLE, harness / "postgresql_lifecycle.py")
    (harness / "_project.py").write_text(
        f"SCAFFOLD = 'service'\nPACKAGE = {package_name!r}\n"
        "DIRECTORY = 'tests/harness'\n"
        "TEST_DATABASE_URL_VARIABLE = 'TEST_DATABASE_URL'\n"
    )
    return load(project)


def databases() -> set[str]:
    async def query() -> set[str]:
        server = postgres_server_url().set(drivername="postgresql", database="postgres")
        connection = await asyncpg.connect(server.render_as_string(hide_password=False))
        try:
            return {
                row["datname"]
                for row in await connection.fetch("SELECT datname FROM pg_database")
            }
        finally:
            await connection.close()

    return asyncio.run(query())


def test_the_name_is_stable_for_a_checkout_and_differs_between_checkouts(
    tmp_path: Path,
) -> None:
    one = rendered_lifecycle(tmp_path / "one" / "project", "app")
    other = rendered_lifecycle(tmp_path / "other" / "project", "app")

    name = one.default_database_name()
    assert name == one.default_database_name()
    assert name == other.default_database_name(tmp_path / "one" / "project")
    assert name != other.default_database_name()
    assert name.startswith("app_test_")
    # A server-only URL, or one naming the maintenance database, gets it; a
    # database the team named is kept.
    server = "postgresql+asyncpg://postgres@db.example:5432"
    for url in (server, f"{server}/", f"{server}/postgres"):
        assert one.configured_test_database_url(url).database == name
    assert one.configured_test_database_url(f"{server}/ci_test").database == "ci_test"


def test_the_name_fits_with_a_workers_suffix_however_long_package_and_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = tmp_path.joinpath(*["d" * 200] * 3) / "project"
    lifecycle = rendered_lifecycle(deep, LONGEST_PACKAGE)
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw999")

    url = lifecycle.configured_test_database_url("postgresql://postgres@db.example")
    worker = lifecycle.this_workers_database(url)  # refuses names over 63 bytes

    name = url.database
    assert worker.database == f"{name}_gw999"
    assert len(worker.database.encode()) <= 63
    # The readable part gave way; the hash that tells checkouts apart is whole.
    assert re.fullmatch(r"p{30,}_test_[0-9a-f]{8}", name)
    assert name != lifecycle.default_database_name(tmp_path / "elsewhere")


def adopt(template: Path, project: Path) -> Path:
    shutil.copytree(EXISTING_APPS / LAYOUT, project)
    adopt_harness(template, project, ENV_ENGINE_ANSWERS)
    with (project / "tests" / "conftest.py").open("a") as conftest:
        conftest.write(RECORD_EACH_WORKERS_DATABASE)
    return project


def start(project: Path, record: Path, server: str) -> subprocess.Popen[str]:
    record.mkdir()
    env = suite_environment(
        project,
        HARNESS_TEST_DATABASE_URL=server,
        DATABASE_RECORD=str(record),
        # The app's own database: never reached (the harness points it away).
        DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:1/production",
    )
    return subprocess.Popen(
        suite_command(project, "-n", "2"),
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_app_projects_run_at_once_on_one_server_with_a_server_only_url(
    template: Path, tmp_path: Path
) -> None:
    projects = [adopt(template, tmp_path / team / "app") for team in ("red", "blue")]
    # No database in the path: only the server.
    server = (
        postgres_server_url().set(database="").render_as_string(hide_password=False)
    )

    runs = [
        start(project, tmp_path / f"record-{index}", server)
        for index, project in enumerate(projects)
    ]
    outputs = [run.communicate(timeout=600) for run in runs]

    names = []
    for project, run, (stdout, stderr), index in zip(
        projects, runs, outputs, range(2), strict=True
    ):
        assert run.returncode == 0, stdout + stderr
        assert outcome_counts(stdout) == {"passed": 5}, stdout + stderr
        assert "Waiting for test database" not in stderr
        name = load(project).default_database_name()
        record = tmp_path / f"record-{index}"
        used = {path.read_text() for path in record.iterdir()}
        assert used == {f"{name}_gw0", f"{name}_gw1"}
        names.append(name)
    assert names[0] != names[1]
    assert not {db for db in databases() if db.startswith(tuple(names))}
