"""`client`: fastapi.testclient.TestClient, the default client.

Right for every test that needs no forcing scenario: readable, synchronous, and
the app runs on TestClient's own thread and event loop, so the test needs no
event-loop wiring.
"""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient


@pytest.fixture(scope="session")
def _running_test_client(_app_for_client: FastAPI) -> Iterator[TestClient]:
    # Entered once per session: the lifespan starts before the first test that
    # uses `client` and shuts down after the last one.
    with TestClient(_app_for_client) as test_client:
        yield test_client


@pytest.fixture
def client(app: FastAPI, _running_test_client: TestClient) -> Iterator[TestClient]:
    """TestClient for `app`, its lifespan started; for synchronous tests.

    Requesting `app` here is what restores its dependency overrides afterwards.
    """
    headers = _running_test_client.headers.copy()
    yield _running_test_client
    # What one test set on the client never reaches the next.
    _running_test_client.cookies.clear()
    _running_test_client.headers = headers
