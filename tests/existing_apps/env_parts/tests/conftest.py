"""The scoreboard's own fixtures: a TestClient per module, lifespan running."""

import pytest
from app.main import app
from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def client():
    with TestClient(app) as test_client:
        yield test_client
