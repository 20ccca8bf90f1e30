"""The greeter's own fixtures."""

import pytest
from fastapi.testclient import TestClient
from greeter.main import create_app


@pytest.fixture
def polite_client():
    with TestClient(create_app("Good day")) as client:
        yield client
