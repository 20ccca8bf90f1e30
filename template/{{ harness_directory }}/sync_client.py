"""`client`: the default client, for every test that need not share the test's
event loop with the app (async_client.py says which tests must).

Synchronous and readable, so a plain `def` test needs no event-loop wiring.
What serves it (SYNC_CLIENT in _project.py):

- "testclient": fastapi.testclient.TestClient, the app on TestClient's own
  thread and event loop.
- "inline": the inline client (inline_client.py), TestClient's API with the
  app on an event loop of its own in the test's thread, several times cheaper
  per request; `async def` tests use `async_client` instead.

Where the project streams (STREAMING), either one hands over a response's body
as the app sends it (streaming.py).
"""

import functools
import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from . import _project
from .app import SHARES_ONE_APP_INSTANCE
from .definitions import harness_fixture, named

INLINE = _project.SYNC_CLIENT == "inline"


def _client_class() -> Any:
    if INLINE:
        from .inline_client import InlineClient

        return functools.partial(InlineClient, streaming=_project.STREAMING)
    if _project.STREAMING:
        from .streaming import StreamingTestClient

        return StreamingTestClient
    return TestClient


# Entered per test when the app is the project's one object, shared with every
# client (two lifespans must never run at once on it); otherwise once per
# session: the lifespan starts before the first test that uses `client` and
# shuts down after the last one.
@harness_fixture(scope="function" if SHARES_ONE_APP_INSTANCE else "session")
def _running_test_client(_app_for_client: FastAPI) -> Iterator[TestClient]:
    with _client_class()(_app_for_client) as test_client:
        yield test_client


@harness_fixture()
def client(
    request: pytest.FixtureRequest, app: FastAPI, _running_test_client: TestClient
) -> Iterator[TestClient]:
    """The client for `app`, its lifespan started; for synchronous tests.

    Requesting `app` here is what restores its dependency overrides afterwards.
    """
    if INLINE and inspect.iscoroutinefunction(getattr(request, "function", None)):
        pytest.fail(
            f"{request.node.nodeid} is `async def` and uses `{named('client')}`: "
            "the inline client runs the app on an event loop of its own in the "
            "test's thread, which cannot run while the test's loop does.\n"
            f"Fix: use `{named('async_client')}` in async tests, or make this "
            "test a plain `def`.",
            pytrace=False,
        )
    headers = _running_test_client.headers.copy()
    yield _running_test_client
    # What one test set on the client never reaches the next.
    _running_test_client.cookies.clear()
    _running_test_client.headers = headers
