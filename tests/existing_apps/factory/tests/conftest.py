"""The greeter's own fixtures."""

import pytest
from fakeredis import FakeAsyncRedis, FakeServer
from fastapi.testclient import TestClient
from greeter.main import create_app, get_redis


@pytest.fixture
def polite_client():
    app = create_app("Good day")
    server = FakeServer()
    app.dependency_overrides[get_redis] = lambda: FakeAsyncRedis(
        server=server, decode_responses=True
    )
    with TestClient(app) as client:
        yield client
