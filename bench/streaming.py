"""How soon a test reads the first event of an endless Server-Sent Events stream.

The app sends its first event as soon as the stream opens, then one every
10 ms, forever: through FastAPI's `EventSourceResponse` (`fastapi.sse`), and
as a `StreamingResponse` of `text/event-stream`. The floor is the app alone,
called as an ASGI app with no client, and the client alone: an
`httpx.AsyncClient` whose transport answers at once with one event, no app
behind it. Each measurement opens the stream and reads up to its first event:
the time a test waits before its first assertion (closing the stream after it
is not timed). The reference is the app
served by uvicorn on a local socket, read by an `httpx.Client` (a new
connection each time, as a closed stream cannot be reused); against it, the
harness's streaming clients with `streaming=true`, exactly as the template
ships them: `client` on TestClient (the app on its portal thread's loop),
`client` as the inline client (the app on a loop of its own in the test's
thread), and `async_client` (the app on the test's loop).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import socket
import statistics
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import anyio
import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.types import Message

from bench.clients import get_scope
from bench.common import Result
from bench.project import load_harness_module

# The harness modules the streaming clients are made of, under a package of
# their own here (the inline client imports `.streaming`).
MODULES = {
    "streaming": "{% if streaming %}streaming.py{% endif %}",
    "inline_client": "{% if sync_client == 'inline' %}inline_client.py{% endif %}",
}
PACKAGE = "bench_harness"
# The first event through the harness, against uvicorn and httpx over a socket.
TARGET_VERSUS_SOCKET = 0.2
TICK_SECONDS = 0.01


def build_app() -> FastAPI:
    app = FastAPI()

    @app.get("/events", response_class=EventSourceResponse)
    async def events() -> AsyncIterator[ServerSentEvent]:
        for tick in itertools.count(1):
            yield ServerSentEvent(data={"tick": tick}, id=str(tick))
            await anyio.sleep(TICK_SECONDS)

    @app.get("/ticks")
    async def ticks() -> StreamingResponse:
        async def lines() -> AsyncIterator[str]:
            for tick in itertools.count(1):
                yield f'id: {tick}\ndata: {{"tick": {tick}}}\n\n'
                await anyio.sleep(TICK_SECONDS)

        return StreamingResponse(lines(), media_type="text/event-stream")

    return app


async def _raw_first_event(app: FastAPI, path: str) -> float:
    """The app alone, no client: from calling it to its first body chunk."""
    chunks: asyncio.Queue[Message] = asyncio.Queue()
    left = asyncio.Event()
    requested = False

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await left.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        chunks.put_nowait(message)

    scope = get_scope(path)
    start = time.perf_counter()
    task = asyncio.get_running_loop().create_task(app(scope, receive, send))
    while not (await chunks.get()).get("body"):
        pass
    arrived = time.perf_counter() - start
    left.set()
    await task
    return arrived


def load_harness() -> dict[str, ModuleType]:
    """The template's streaming.py and inline_client.py, importable together."""
    package = ModuleType(PACKAGE)
    package.__path__ = []
    sys.modules[PACKAGE] = package
    return {
        name: load_harness_module(f"{PACKAGE}.{name}", file_name)
        for name, file_name in MODULES.items()
    }


def first_event(client: httpx.Client | Any, url: str) -> float:
    """Open the stream and read to its first event: the seconds that took.
    The stream is closed after, untimed."""
    start = time.perf_counter()
    with client.stream("GET", url) as response:
        line = next(line for line in response.iter_lines() if line)
        arrived = time.perf_counter() - start
        assert line.startswith(("data:", "id:")), line
    return arrived


async def first_event_async(client: httpx.AsyncClient, url: str) -> float:
    start = time.perf_counter()
    async with client.stream("GET", url) as response:
        async for line in response.aiter_lines():
            if line:
                arrived = time.perf_counter() - start
                assert line.startswith(("data:", "id:")), line
                break
    return arrived


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """The app on uvicorn, on a socket of this machine, in a thread."""
    listening = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]})
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        yield f"http://127.0.0.1:{listening.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        listening.close()


def _answered_at_once(request: httpx.Request) -> httpx.Response:
    """One event, with no app behind it: what the client itself costs."""
    return httpx.Response(
        200,
        headers={"content-type": "text/event-stream"},
        content=b'id: 1\ndata: {"tick": 1}\n\n',
    )


def _per_event(client: httpx.Client | Any, path: str, events: int) -> float:
    return statistics.median(first_event(client, path) for _ in range(events))


ENDPOINTS = {
    "/events": "fastapi.sse",
    "/ticks": "StreamingResponse",
}
CLIENTS = {
    "floor": "raw ASGI call (floor)",
    "client_floor": "httpx.AsyncClient alone, answered at once (no app)",
    "socket": "uvicorn + httpx.Client over a socket",
    "testclient": "client (TestClient)",
    "inline": "client (inline client)",
    "async": "async_client",
}


def run(quick: bool) -> list[Result]:
    events = 3 if quick else 20
    rounds = 2 if quick else 25
    app = build_app()
    harness = load_harness()
    streaming, inline = harness["streaming"], harness["inline_client"]

    async def async_batch(measure: Callable[[], Awaitable[float]]) -> float:
        return statistics.median([await measure() for _ in range(events)])

    samples: dict[tuple[str, str], list[float]] = {}
    transport = streaming.StreamingTransport(app, httpx.ASGITransport(app=app))
    client_alone = httpx.AsyncClient(
        transport=httpx.MockTransport(_answered_at_once), base_url="http://test"
    )
    with (
        served(app) as server_url,
        httpx.Client(base_url=server_url) as over_socket,
        streaming.StreamingTestClient(app) as test_client,
        inline.InlineClient(app, streaming=True) as inline_client,
        asyncio.Runner() as runner,
    ):
        async_client = streaming.StreamingAsyncClient(
            transport=transport, base_url="http://test"
        )
        try:
            # Each round measures every client in turn, so that a busy moment
            # on the machine falls on all of them alike; the first only warms up.
            for round_number in range(rounds + 1):
                for path in ENDPOINTS:
                    measured = {
                        "floor": runner.run(
                            async_batch(functools.partial(_raw_first_event, app, path))
                        ),
                        "client_floor": runner.run(
                            async_batch(
                                functools.partial(first_event_async, client_alone, path)
                            )
                        ),
                        "socket": _per_event(over_socket, path, events),
                        "testclient": _per_event(test_client, path, events),
                        "inline": _per_event(inline_client, path, events),
                        "async": runner.run(
                            async_batch(
                                functools.partial(first_event_async, async_client, path)
                            )
                        ),
                    }
                    if round_number:
                        for key, seconds in measured.items():
                            samples.setdefault((path, key), []).append(seconds)
        finally:
            runner.run(async_client.aclose())
            runner.run(client_alone.aclose())
    median = {key: statistics.median(values) for key, values in samples.items()}

    result = Result(
        "streaming_first_event", "Streaming: the first event of an endless stream"
    )
    for path, endpoint in ENDPOINTS.items():
        reference = f"{endpoint}: {CLIENTS['socket']}"
        result.add(reference, median[(path, "socket")])
        floor = f"{endpoint}: {CLIENTS['floor']}"
        result.add(floor, median[(path, "floor")], reference)
        client_floor = f"{endpoint}: {CLIENTS['client_floor']}"
        result.add(client_floor, median[(path, "client_floor")], reference)
        lowest = (median[(path, "floor")] + median[(path, "client_floor")]) / median[
            (path, "socket")
        ]
        result.notes.append(
            f"{endpoint}: the app alone and an httpx client alone add up to "
            f"{lowest:.2f}x the socket's time: no client that runs the app in "
            "process and reads it through httpx can take less"
        )
        for key in ("testclient", "inline", "async"):
            label = f"{endpoint}: {CLIENTS[key]}"
            result.add(label, median[(path, key)], reference)
            ratio = median[(path, key)] / median[(path, "socket")]
            result.check(
                f"{label}: first event in at most {TARGET_VERSUS_SOCKET}x the "
                f"socket's time (measured {ratio:.2f}x)",
                ratio <= TARGET_VERSUS_SOCKET,
            )
    result.notes.append(
        f"each figure: from opening the stream to its first event (the close "
        f"after it untimed); the median over {rounds} rounds of the median of "
        f"{events} streams"
    )
    return [result]
