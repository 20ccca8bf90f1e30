"""Each streaming transport of the harness (TestClient's, the inline client's,
async_client's), against an app built to stall: the plain streaming.py and
inline_client.py, run by pytester without rendering a project.

One run per behaviour (TRANSPORT_TESTS), through every transport: a stall
fails naming the request and the timeout, closing mid-stream tells the app the
client left and its cleanup has run, a finished response waits for the app's
background work, an error after the headers reaches the test, a response read
whole that never ends fails in time. The rendered project's own streaming
tests (the ticker) are in test_streaming.py.
"""

from __future__ import annotations

import pytest
from plain_modules import copy_plain_modules

pytestmark = pytest.mark.quick

# The app and the clients every inner test module imports (`from stalls import
# ...`): the harness's transports, as a project's `client` and `async_client`
# build them.
STALLS = '''\
"""An app built to stall, and each streaming transport of the harness."""

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs

import anyio
import httpx
import pytest
from fastapi import BackgroundTasks, FastAPI
from fastapi.responses import StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness.inline_client import InlineClient
from harness.streaming import (
    StreamingAsyncClient,
    StreamingTestClient,
    StreamingTransport,
)

# The `name` of each request whose app was told the client left
# (`http.disconnect`), and of each whose body's cleanup ran, in order.
disconnected: list[str] = []
cleaned_up: list[str] = []
background: list[str] = []
stalls = FastAPI()


def records_disconnects(app: ASGIApp) -> ASGIApp:
    async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
        async def receive_recorded() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect":
                query = parse_qs(scope["query_string"].decode())
                disconnected.append(query.get("name", [scope["path"]])[0])
            return message

        await app(scope, receive_recorded, send)

    return recorded


app = records_disconnects(stalls)


async def endless(name: str) -> AsyncIterator[bytes]:
    try:
        while True:
            await anyio.sleep(0.01)
            yield b"more\\n"
    finally:
        cleaned_up.append(name)


@stalls.get("/stalls-after-one")
async def stalls_after_one(name: str) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        try:
            yield b"first\\n"
            await anyio.sleep_forever()
            yield b"never"
        finally:
            cleaned_up.append(name)

    return StreamingResponse(chunks())


@stalls.get("/never-answers")
async def never_answers() -> None:
    await anyio.sleep_forever()


@stalls.get("/endless")
async def endless_stream(name: str) -> StreamingResponse:
    return StreamingResponse(endless(name))


@stalls.get("/breaks")
async def breaks() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"first\\n"
        raise RuntimeError("the feed broke")

    return StreamingResponse(chunks())


@stalls.post("/later")
async def later(tasks: BackgroundTasks) -> dict[str, bool]:
    async def work() -> None:
        await anyio.sleep(0.05)
        background.append("done")

    tasks.add_task(work)
    return {"queued": True}


@contextmanager
def sync_client(kind: str) -> Iterator[httpx.Client]:
    if kind == "testclient":
        client = StreamingTestClient(app)
    else:
        client = InlineClient(app, streaming=True)
    with client:
        yield client


SYNC_KINDS = pytest.mark.parametrize("kind", ["testclient", "inline"])


def async_client() -> httpx.AsyncClient:
    transport = StreamingTransport(app, httpx.ASGITransport(app=app))
    return StreamingAsyncClient(transport=transport, base_url="http://test")
'''


# What every module of TRANSPORT_TESTS starts with.
IMPORTS = """\
import pytest
from harness.streaming import StreamNeverEnded, StreamStalled
from stalls import (
    SYNC_KINDS,
    async_client,
    background,
    cleaned_up,
    disconnected,
    sync_client,
)
"""

# A test module a behaviour: `test_sync` through TestClient's and the inline
# client's transports (`kind`), `test_async` through async_client's.
TRANSPORT_TESTS = {
    # A stall fails naming the request and the timeout; the response closes.
    "stalled body": """
@SYNC_KINDS
def test_sync(kind):
    with sync_client(kind) as client:
        url = f"/stalls-after-one?name=sync-{kind}"
        with client.stream("GET", url, timeout=0.2) as response:
            lines = response.iter_lines()
            assert next(lines) == "first"
            with pytest.raises(StreamStalled) as stalled:
                next(lines)
        # Closed: the app saw the client leave, and its cleanup ran.
        assert disconnected[-1] == cleaned_up[-1] == f"sync-{kind}"
    message = str(stalled.value)
    assert f"GET http://testserver{url}" in message
    assert "0.2 s" in message


@pytest.mark.anyio
async def test_async():
    async with async_client() as client:
        url = "/stalls-after-one?name=async"
        async with client.stream("GET", url, timeout=0.2) as response:
            lines = response.aiter_lines()
            assert await anext(lines) == "first"
            with pytest.raises(StreamStalled) as stalled:
                await anext(lines)
        assert disconnected[-1] == cleaned_up[-1] == "async"
    assert f"GET http://test{url}: waited 0.2 s" in str(stalled.value)
""",
    # An app that sends no response fails naming the request and the timeout.
    "never answers": """
@SYNC_KINDS
def test_sync(kind):
    with sync_client(kind) as client, pytest.raises(StreamStalled) as stalled:
        client.get("/never-answers", timeout=0.2)
    assert "GET http://testserver/never-answers: waited 0.2 s for its response" in (
        str(stalled.value)
    )


@pytest.mark.anyio
async def test_async():
    async with async_client() as client:
        with pytest.raises(StreamStalled) as stalled:
            await client.get("/never-answers", timeout=0.2)
    assert "GET http://test/never-answers: waited 0.2 s for its response" in (
        str(stalled.value)
    )
""",
    # Closing mid-stream tells the app the client left; its cleanup has run.
    "closed unread": """
@SYNC_KINDS
def test_sync(kind):
    with sync_client(kind) as client:
        with client.stream("GET", f"/endless?name=unread-{kind}") as response:
            assert response.status_code == 200
        assert disconnected[-1] == cleaned_up[-1] == f"unread-{kind}"


@pytest.mark.anyio
async def test_async():
    async with async_client() as client:
        async with client.stream("GET", "/endless?name=unread-async") as response:
            assert response.status_code == 200
        assert disconnected[-1] == cleaned_up[-1] == "unread-async"
""",
    # An endless stream read whole fails in time, naming the request, the
    # timeout and `stream()`; its response closes.
    "read whole": """
@SYNC_KINDS
def test_sync(kind):
    with sync_client(kind) as client:
        url = f"/endless?name=whole-{kind}"
        with pytest.raises(StreamNeverEnded) as never_ended:
            client.get(url, timeout=0.3)
        # Its response closed: the app saw the client leave.
        assert disconnected[-1] == cleaned_up[-1] == f"whole-{kind}"
    message = str(never_ended.value)
    assert f"GET http://testserver{url}: read whole" in message
    assert "still streaming 0.3 s later" in message
    assert "client.stream(...)" in message


@pytest.mark.anyio
async def test_async():
    async with async_client() as client:
        with pytest.raises(StreamNeverEnded) as never_ended:
            await client.get("/endless?name=async-whole", timeout=0.3)
        assert disconnected[-1] == cleaned_up[-1] == "async-whole"
    assert (
        "GET http://test/endless?name=async-whole: read whole, but the response "
        "was still streaming 0.3 s later"
    ) in str(never_ended.value)
""",
    # A response the test never closed ends with its client.
    "left open": """
@SYNC_KINDS
def test_sync(kind):
    with sync_client(kind) as client:
        response = client.send(
            client.build_request("GET", f"/endless?name=left-{kind}"), stream=True
        )
        # Held: an iterator dropped half-read closes its response.
        chunks = response.iter_raw()
        assert next(chunks) == b"more\\n"
        assert cleaned_up[-1:] != [f"left-{kind}"]
    assert disconnected[-1] == cleaned_up[-1] == f"left-{kind}"


@pytest.mark.anyio
async def test_async():
    async with async_client() as client:
        response = await client.send(
            client.build_request("GET", "/endless?name=async-left"), stream=True
        )
        chunks = response.aiter_raw()
        assert await anext(chunks) == b"more\\n"
        assert cleaned_up[-1:] != ["async-left"]
    assert disconnected[-1] == cleaned_up[-1] == "async-left"
""",
    # A response returns once the app's background work is done.
    "background work": """
@SYNC_KINDS
def test_sync(kind):
    background.clear()
    with sync_client(kind) as client:
        assert client.post("/later").json() == {"queued": True}
        assert background == ["done"]


@pytest.mark.anyio
async def test_async():
    background.clear()
    async with async_client() as client:
        assert (await client.post("/later")).json() == {"queued": True}
        assert background == ["done"]
""",
    # An error the app raises after its headers reaches the test.
    "error after headers": """
@SYNC_KINDS
def test_sync(kind):
    with sync_client(kind) as client, client.stream("GET", "/breaks") as response:
        lines = response.iter_lines()
        assert next(lines) == "first"
        with pytest.raises(RuntimeError, match="the feed broke"):
            next(lines)


@pytest.mark.anyio
async def test_async():
    async with async_client() as client:
        async with client.stream("GET", "/breaks") as response:
            lines = response.aiter_lines()
            assert await anext(lines) == "first"
            with pytest.raises(RuntimeError, match="the feed broke"):
                await anext(lines)
""",
}


@pytest.mark.parametrize("behaviour", TRANSPORT_TESTS)
def test_each_streaming_transport(pytester: pytest.Pytester, behaviour: str) -> None:
    copy_plain_modules(pytester, "streaming.py", "inline_client.py")
    pytester.makepyfile(
        stalls=STALLS, test_transports=IMPORTS + TRANSPORT_TESTS[behaviour]
    )
    result = pytester.runpytest()
    # All three transports: TestClient's, the inline client's, async_client's.
    result.assert_outcomes(passed=3)
