"""The pantry's own fixture: a TestClient with the lifespan running."""

import pytest
from fastapi.testclient import TestClient
from pantry.main import app


@pytest.fixture
def api():
    with TestClient(app) as client:
        yield client
