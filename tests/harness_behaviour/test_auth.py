"""auth=bearer: the promises of the signed-in fixtures, checked inside rendered
projects by a test module written as a team writes one.

A signed-in test that fails leaves the next test signed out (`as_user` on
`client` and `async_client`, `authenticated_as`); the user a `client` test
commits is gone afterwards; the token reaches WebSocket handshakes; misuse fails
naming the fix. The example tests a project gets (GET /me) run in the answer-set
matrix (tests/support/answer_sets.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from answer_sets import answer_set_params
from rendering import (
    EXISTING_APPS,
    HOOKS,
    assert_ruff_clean,
    outcome_counts,
    read_answers,
    render,
    run_suite,
    suite_environment,
)

PROMISES = '''\
"""What the harness promises signed-in tests; every pass and fail is expected."""

from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI, WebSocket
from fastapi.testclient import TestClient
from httpx_ws import aconnect_ws
{imports}
from {package}.users import User

SignIn = Callable[[Any, User], None]


def echo_authorization(app: FastAPI) -> None:
    """A WebSocket route that sends back the handshake's Authorization header."""
    if any(getattr(route, "path", "") == "/echo" for route in app.routes):
        return

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.headers.get("authorization", "none"))
        await websocket.close()

    app.add_api_websocket_route("/echo", echo)


def test_signed_in_then_failing(
    client: TestClient, user: User, as_user: SignIn
) -> None:
    as_user(client, user)
    assert client.get("/me").status_code == 200
    raise AssertionError("fails on purpose, signed in")


def test_the_next_test_is_signed_out(client: TestClient) -> None:
    assert "authorization" not in client.headers
    assert client.get("/me").status_code == 401


async def test_async_signed_in_then_failing(
    async_client: httpx.AsyncClient, user: User, as_user: SignIn
) -> None:
    as_user(async_client, user)
    assert (await async_client.get("/me")).status_code == 200
    raise AssertionError("fails on purpose, async signed in")


async def test_the_next_async_test_is_signed_out(
    async_client: httpx.AsyncClient,
) -> None:
    assert "authorization" not in async_client.headers
    assert (await async_client.get("/me")).status_code == 401


def test_overridden_then_failing(
    client: TestClient, user: User, authenticated_as: Callable[[User], None]
) -> None:
    authenticated_as(user)
    assert client.get("/me").json()["id"] == user.id
    raise AssertionError("fails on purpose, overridden")


def test_the_override_is_gone(client: TestClient) -> None:
    assert client.get("/me").status_code == 401


def test_a_second_sign_in_replaces_the_first(
    client: TestClient, user: User, as_user: SignIn
) -> None:
    client.headers["authorization"] = "Bearer the-tests-own"
    as_user(client, user)
    as_user(client, user)
    assert client.get("/me").status_code == 200


def test_the_websocket_handshake_carries_the_token(
    app: FastAPI, client: TestClient, user: User, as_user: SignIn
) -> None:
    echo_authorization(app)
    as_user(client, user)
    with client.websocket_connect("/echo") as websocket:
        assert websocket.receive_text() == client.headers["authorization"]


async def test_the_async_websocket_handshake_carries_the_token(
    app: FastAPI, async_client: httpx.AsyncClient, user: User, as_user: SignIn
) -> None:
    echo_authorization(app)
    as_user(async_client, user)
    async with aconnect_ws("/echo", async_client) as websocket:
        assert await websocket.receive_text() == async_client.headers["authorization"]


def test_client_and_user_swapped(
    client: TestClient, user: User, as_user: SignIn
) -> None:
    as_user(user, client)


def test_a_user_without_an_id(client: TestClient, as_user: SignIn) -> None:
    as_user(client, object())
{database_tests}'''

DATABASE_TESTS = """

def test_a_client_tests_user_is_committed(
    client: TestClient, user: User, as_user: SignIn
) -> None:
    as_user(client, user)
    assert client.get("/me").json() == {"id": user.id, "email": user.email}


async def test_no_user_outlives_its_test(db_session: AsyncSession) -> None:
    assert await db_session.scalar(select(func.count()).select_from(User)) == 0
"""

PROJECTS = {
    "testclient-sqlite": {"auth": "bearer", "async_db": "sqlite", "websockets": True},
    "inline-store": {"auth": "bearer", "sync_client": "inline", "websockets": True},
}
EXPECTED_FAILURES = {
    "test_signed_in_then_failing": "fails on purpose, signed in",
    "test_async_signed_in_then_failing": "fails on purpose, async signed in",
    "test_overridden_then_failing": "fails on purpose, overridden",
    "test_client_and_user_swapped": "as_user(client, user) takes the client first",
    "test_a_user_without_an_id": "as_user signs in a user the app knows",
}


CREATE_SCHEMA = """
import asyncio, sys
from sqlalchemy import inspect
from my_service.db import create_schema, open_engine

async def main():
    async with open_engine(f"sqlite+aiosqlite:///{sys.argv[1]}") as engine:
        await create_schema(engine)
        async with engine.connect() as connection:
            print(*await connection.run_sync(lambda c: inspect(c).get_table_names()))

asyncio.run(main())
"""


def tables_create_schema_makes(project: Path) -> list[str]:
    """The tables `db.create_schema` creates, the app never imported: what a
    team's script creating the schema for the service gets."""
    result = subprocess.run(
        [sys.executable, "-c", CREATE_SCHEMA, str(project / "schema.db")],
        env={**suite_environment(project)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.parametrize(("name", "answers"), answer_set_params(PROJECTS))
def test_signed_in_fixtures_keep_their_promises(
    template: Path, tmp_path: Path, name: str, answers: dict[str, object]
) -> None:
    project = render(template, tmp_path / name, answers)
    database = "async_db" in answers
    (project / "tests/test_auth_promises.py").write_text(
        PROMISES.format(
            package="my_service",
            imports=(
                "from sqlalchemy import func, select\n"
                "from sqlalchemy.ext.asyncio import AsyncSession\n"
                if database
                else ""
            ),
            database_tests=DATABASE_TESTS if database else "",
        )
    )
    assert_ruff_clean(project)

    result = run_suite(
        project, "tests/test_auth_promises.py", "-p", "no:xdist", "-rf", "-vv"
    )

    output = result.stdout + result.stderr
    counts = outcome_counts(result.stdout)
    assert counts.get("failed") == len(EXPECTED_FAILURES), output
    assert counts.get("passed") == 6 + 2 * database, output
    assert "error" not in counts, output
    if database:
        assert "users" in tables_create_schema_makes(project), output
    for test, message in EXPECTED_FAILURES.items():
        assert f"::{test} - " in output, test
        line = next(line for line in output.splitlines() if f"::{test} - " in line)
        assert message in line, line


def test_a_secret_key_too_short_to_sign_safely_is_refused_at_startup(
    template: Path, tmp_path: Path
) -> None:
    project = render(template, tmp_path / "svc", {"auth": "bearer"})
    build = "from my_service.settings import Settings; Settings(_env_file=None)"

    def settings_with(key: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", build],
            env={**suite_environment(project), "AUTH_SECRET_KEY": key},
            capture_output=True,
            text=True,
            check=False,
        )

    for key in ("", "a", "k" * 31):
        refused = settings_with(key)
        assert refused.returncode != 0, key
        assert "AUTH_SECRET_KEY must be at least 32 bytes" in refused.stderr, key
    assert settings_with("k" * 32).returncode == 0


# ── Adopted: the project's own current-user dependency and tokens ────────────
ADOPTED_TESTS = '''\
"""The accounts team signs its own users in through the harness."""

from collections.abc import Callable
from typing import Any

from accounts.main import Account
from fastapi.testclient import TestClient


def test_as_user_signs_in_with_the_projects_token(
    {p}client: TestClient, user: Account, {p}as_user: Callable[[Any, Account], None]
) -> None:
    {p}as_user({p}client, user)
    assert {p}client.get("/whoami").json() == {{"name": "ada"}}


def test_authenticated_as_overrides_the_projects_dependency(
    {p}client: TestClient, {p}authenticated_as: Callable[[Account], None]
) -> None:
    {p}authenticated_as(Account("grace"))
    assert "authorization" not in {p}client.headers
    assert {p}client.get("/whoami").json() == {{"name": "grace"}}


def test_signed_out_again({p}client: TestClient) -> None:
    assert {p}client.get("/whoami").status_code == 401
'''


@pytest.mark.parametrize(
    ("token_function", "prefix"),
    [(True, ""), (False, "harness_")],
    ids=["tokens", "no-tokens-prefixed"],
)
def test_adopted_harness_signs_in_through_the_projects_own_auth(
    template: Path, tmp_path: Path, token_function: bool, prefix: str
) -> None:
    project = tmp_path / "accounts"
    shutil.copytree(EXISTING_APPS / "accounts", project)
    answers = {
        "scaffold": "adopt",
        "app_import": "accounts.main:app",
        "auth": "bearer",
        "current_user_dependency": "accounts.main:current_account",
        "fixture_prefix": prefix,
    }
    if token_function:
        answers["auth_token_function"] = "accounts.main:make_token"
    render(template, project, answers)
    (project / "tests/test_signed_in.py").write_text(ADOPTED_TESTS.format(p=prefix))
    # The team's `user` fixture is the one the tests get, prefix or not.
    assert read_answers(project)["fixture_prefix"] == prefix

    result = run_suite(project, "-p", "no:xdist", "-rf", "-vv")

    output = result.stdout + result.stderr
    counts = outcome_counts(result.stdout)
    # The project's own test, the harness's smoke test and the three above.
    if token_function:
        assert counts == {"passed": 5}, output
        return
    assert counts == {"passed": 4, "failed": 1}, output
    assert "::test_as_user_signs_in_with_the_projects_token - " in output
    assert f"{prefix}as_user needs your app's tokens" in output
    assert "Fix: answer auth_token_function=package.module:name" in output


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            "current_user_dependency=accounts.main:make_token",
            "no route of the app depends on make_token",
        ),
        ("auth_token_function=accounts.main:SECRET", "SECRET is not callable"),
        ("auth_token_function=accounts.main:no_such", "no attribute 'no_such'"),
    ],
)
def test_auth_answers_naming_the_wrong_object_are_refused(
    tmp_path: Path, answer: str, message: str
) -> None:
    shutil.copytree(EXISTING_APPS / "accounts", tmp_path / "accounts")
    fitting = [
        "current_user_dependency=accounts.main:current_account",
        "auth_token_function=accounts.main:make_token",
    ]

    def check(*answers: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(HOOKS / "check_imports.py"), *answers],
            cwd=tmp_path / "accounts",
            capture_output=True,
            text=True,
            check=False,
        )

    result = check("app_import=accounts.main:app", answer)

    assert result.returncode == 1, result.stdout
    assert f"error: {answer}: " in result.stdout
    assert message in result.stdout
    assert check("app_import=accounts.main:app", *fitting).returncode == 0
