"""The ledger's own test setup: a throwaway database and an in-memory Redis."""

import os

import pytest
from fakeredis import FakeAsyncRedis, FakeServer


@pytest.fixture(scope="session", autouse=True)
def _ledger_database(tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("ledger") / "ledger.db"
    os.environ["LEDGER_DATABASE_URL"] = f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def fake_redis_factory():
    server = FakeServer()
    return lambda: FakeAsyncRedis(server=server, decode_responses=True)
