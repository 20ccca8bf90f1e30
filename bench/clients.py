"""What each client costs: per request, per test, and for 50 concurrent requests.

The floor is a raw ASGI call: the app itself, with no client around it. Against it,
httpx.AsyncClient over ASGITransport (the app on the caller's event loop),
Starlette's TestClient entered with `with` (the app on a portal thread's loop), and
the harness's inline client (`sync_client=inline`: the app on a loop of the
client's own, in the caller's thread), for `async def` and for `def` endpoints.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient

from bench.common import Result, median_per_call
from bench.project import load_harness_module

# The inline client exactly as the template ships it (a plain Python file).
INLINE_CLIENT_FILE = "{% if sync_client == 'inline' %}inline_client.py{% endif %}"
# Per request, against AsyncClient for async endpoints.
INLINE_TARGET_VERSUS_ASYNC_CLIENT = 1.5
# Per request, against TestClient for `def` endpoints: "clearly below" it.
INLINE_TARGET_VERSUS_TEST_CLIENT = 0.67

REQUESTS_PER_TEST = 3
CONCURRENT = 50
# A handler that waits on I/O, as one calling a database or another service does.
IO_WAIT_SECONDS = 0.001


def build_app() -> FastAPI:
    """The shape of the rendered service: a lifespan and small JSON routes."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.ready = True
        yield
        app.state.ready = False

    app = FastAPI(lifespan=lifespan)

    @app.get("/hello")
    async def hello(name: str = Query(min_length=1, max_length=50)) -> dict[str, str]:
        return {"message": f"Hello, {name}!"}

    @app.get("/sync-hello")
    def sync_hello(name: str = Query(min_length=1, max_length=50)) -> dict[str, str]:
        # A `def` endpoint: FastAPI runs it in the thread pool, as under a server.
        return {"message": f"Hello, {name}!"}

    @app.get("/slow-hello")
    async def slow_hello(name: str) -> dict[str, str]:
        await asyncio.sleep(IO_WAIT_SECONDS)
        return {"message": f"Hello, {name}!"}

    return app


def get_scope(path: str, query: bytes = b"") -> dict[str, Any]:
    """The ASGI scope of a plain GET, as a server would pass it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"test")],
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
        "state": {},
    }


async def _raw_asgi_get(app: FastAPI, path: str, query: bytes) -> int:
    scope = get_scope(path, query)
    status = 0

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])  # type: ignore[call-overload]

    await app(scope, receive, send)
    return status


@asynccontextmanager
async def _async_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # ASGITransport never runs the lifespan; LifespanManager does, as in the harness.
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


def _per_call(total_seconds: float, calls: int) -> float:
    return total_seconds / calls


def load_inline_client() -> ModuleType:
    """Import the template's inline_client.py as the module `inline_client`."""
    return load_harness_module("inline_client", INLINE_CLIENT_FILE)


def _sync_batch(client: httpx.Client, path: str, requests: int) -> float:
    """Per-request time of `requests` sequential GETs through a sync client."""
    start = time.perf_counter()
    for _ in range(requests):
        client.get(path, params={"name": "Ada"}).raise_for_status()
    return _per_call(time.perf_counter() - start, requests)


def run(quick: bool) -> list[Result]:
    tests = 5 if quick else 150
    repeats = 3 if quick else 7
    app = build_app()

    per_request = Result("clients_per_request", "Clients: cost of one request")
    per_test = Result("clients_per_test", "Clients: cost of one test")
    concurrency = Result(
        "clients_concurrency", f"Clients: {CONCURRENT} requests in one test"
    )

    # ── per request ─────────────────────────────────────────────────────────
    # Each round measures every client once, in turn, in short batches, so that
    # bursts of other work on the machine fall on all of them alike; the first
    # round only warms up.
    batch = 20 if quick else 100
    rounds = 3 if quick else 40
    paths = ("/hello", "/sync-hello")

    async def raw_batch() -> float:
        start = time.perf_counter()
        for _ in range(batch):
            assert await _raw_asgi_get(app, "/hello", b"name=Ada") == 200
        return _per_call(time.perf_counter() - start, batch)

    async def async_client_batch(client: httpx.AsyncClient, path: str) -> float:
        start = time.perf_counter()
        for _ in range(batch):
            (await client.get(path, params={"name": "Ada"})).raise_for_status()
        return _per_call(time.perf_counter() - start, batch)

    samples: dict[str, list[float]] = {}
    inline_client_class = load_inline_client().InlineClient
    with (
        asyncio.Runner() as runner,
        TestClient(app) as test_client,
        inline_client_class(app) as inline_client,
    ):
        # Entered and left in separate runs on the runner's one loop.
        async_client_context = _async_client(app)
        async_client = runner.run(async_client_context.__aenter__())
        try:
            for round_number in range(rounds + 1):
                measured = {"raw": runner.run(raw_batch())}
                for path in paths:
                    measured[f"async {path}"] = runner.run(
                        async_client_batch(async_client, path)
                    )
                    measured[f"test {path}"] = _sync_batch(test_client, path, batch)
                    measured[f"inline {path}"] = _sync_batch(inline_client, path, batch)
                if round_number:
                    for key, seconds in measured.items():
                        samples.setdefault(key, []).append(seconds)
        finally:
            runner.run(async_client_context.__aexit__(None, None, None))
    median = {key: statistics.median(values) for key, values in samples.items()}
    raw = median["raw"]
    via_async_client, def_via_async_client = (median[f"async {p}"] for p in paths)
    via_test_client, def_via_test_client = (median[f"test {p}"] for p in paths)
    via_inline, def_via_inline = (median[f"inline {p}"] for p in paths)

    floor = "raw ASGI call (floor)"
    per_request.add(floor, raw)
    per_request.add("AsyncClient over ASGITransport", via_async_client, floor)
    per_request.add("TestClient inside `with`", via_test_client, floor)
    per_request.add(
        "inline client (sync_client=inline)",
        via_inline,
        "AsyncClient over ASGITransport",
    )
    def_async = "`def` endpoint: AsyncClient over ASGITransport"
    def_test_client = "`def` endpoint: TestClient inside `with`"
    per_request.add(def_async, def_via_async_client)
    per_request.add(def_test_client, def_via_test_client, def_async)
    per_request.add("`def` endpoint: inline client", def_via_inline, def_test_client)
    per_request.notes.append(
        f"per request, AsyncClient is {_faster(via_async_client, via_test_client)} "
        f"than TestClient (TestClient/AsyncClient = "
        f"{via_test_client / via_async_client:.2f}x; the common claim is ~5%)"
    )
    inline_versus_async = via_inline / via_async_client
    per_request.check(
        f"inline client within {INLINE_TARGET_VERSUS_ASYNC_CLIENT}x of AsyncClient "
        f"for async endpoints (measured {inline_versus_async:.2f}x)",
        inline_versus_async <= INLINE_TARGET_VERSUS_ASYNC_CLIENT,
    )
    def_versus_test_client = def_via_inline / def_via_test_client
    per_request.check(
        f"inline client at most {INLINE_TARGET_VERSUS_TEST_CLIENT}x of TestClient "
        f"for `def` endpoints (measured {def_versus_test_client:.2f}x)",
        def_versus_test_client <= INLINE_TARGET_VERSUS_TEST_CLIENT,
    )
    per_request.notes.append(
        f"per request, the inline client is {_faster(via_inline, via_test_client)} "
        f"than TestClient for async endpoints and "
        f"{_faster(def_via_inline, def_via_test_client)} for `def` endpoints"
    )

    # ── per test: entering and exiting each client, lifespan included ───────
    def test_client_setup_batch() -> float:
        start = time.perf_counter()
        for _ in range(tests):
            with TestClient(app):
                pass
        return _per_call(time.perf_counter() - start, tests)

    async def async_client_setup_batch() -> float:
        start = time.perf_counter()
        for _ in range(tests):
            async with _async_client(app):
                pass
        return _per_call(time.perf_counter() - start, tests)

    def async_client_setup_new_loop_batch() -> float:
        # pytest-asyncio's default: a new event loop for every test.
        async def enter_and_exit() -> None:
            async with _async_client(app):
                pass

        start = time.perf_counter()
        for _ in range(tests):
            asyncio.run(enter_and_exit())
        return _per_call(time.perf_counter() - start, tests)

    async def on_loop() -> float:
        await async_client_setup_batch()
        return statistics.median(
            [await async_client_setup_batch() for _ in range(repeats)]
        )

    test_client_batch_setup = median_per_call(test_client_setup_batch, repeats)
    async_setup = asyncio.run(on_loop())
    async_setup_new_loop = median_per_call(async_client_setup_new_loop_batch, repeats)

    setup_ref = "AsyncClient + LifespanManager enter/exit"
    per_test.add(setup_ref, async_setup)
    per_test.add(
        "AsyncClient enter/exit on a new event loop per test",
        async_setup_new_loop,
        setup_ref,
    )
    per_test.add("TestClient `with` enter/exit", test_client_batch_setup, setup_ref)
    typical_async = async_setup_new_loop + REQUESTS_PER_TEST * via_async_client
    typical_sync = test_client_batch_setup + REQUESTS_PER_TEST * via_test_client
    session_async = REQUESTS_PER_TEST * via_async_client
    session_sync = REQUESTS_PER_TEST * via_test_client
    fresh_async = f"test, fresh AsyncClient + {REQUESTS_PER_TEST} requests"
    per_test.add(fresh_async, typical_async)
    per_test.add(
        f"test, fresh TestClient + {REQUESTS_PER_TEST} requests",
        typical_sync,
        fresh_async,
    )
    session_label = f"test, session AsyncClient, {REQUESTS_PER_TEST} requests"
    per_test.add(session_label, session_async)
    per_test.add(
        f"test, session TestClient, {REQUESTS_PER_TEST} requests",
        session_sync,
        session_label,
    )
    per_test.notes.append(
        f"a typical test ({REQUESTS_PER_TEST} requests) with a client per test: "
        f"AsyncClient is {_faster(typical_async, typical_sync)} than TestClient; "
        f"with session clients, as the harness uses: "
        f"{_faster(session_async, session_sync)}"
    )

    # ── 50 requests in one test ─────────────────────────────────────────────
    async def gather_batch(client: httpx.AsyncClient, path: str) -> float:
        start = time.perf_counter()
        responses = await asyncio.gather(
            *(client.get(path, params={"name": f"u{n}"}) for n in range(CONCURRENT))
        )
        assert all(response.status_code == 200 for response in responses)
        return time.perf_counter() - start

    async def sequential_async_batch(client: httpx.AsyncClient, path: str) -> float:
        start = time.perf_counter()
        for n in range(CONCURRENT):
            (await client.get(path, params={"name": f"u{n}"})).raise_for_status()
        return time.perf_counter() - start

    async def measure_gather() -> dict[str, float]:
        async with _async_client(app) as client:
            measured = {}
            for path in ("/hello", "/slow-hello"):
                await gather_batch(client, path)
                measured[f"gather {path}"] = statistics.median(
                    [await gather_batch(client, path) for _ in range(repeats * 2)]
                )
                measured[f"sequential {path}"] = statistics.median(
                    [
                        await sequential_async_batch(client, path)
                        for _ in range(repeats * 2)
                    ]
                )
            return measured

    gathered = asyncio.run(measure_gather())
    with TestClient(app) as test_client:

        def sequential_sync(path: str) -> float:
            start = time.perf_counter()
            for n in range(CONCURRENT):
                test_client.get(path, params={"name": f"u{n}"}).raise_for_status()
            return time.perf_counter() - start

        sequential = {}
        for path in ("/hello", "/slow-hello"):
            sequential_sync(path)
            sequential[path] = median_per_call(
                lambda p=path: sequential_sync(p), repeats * 2
            )

    for path, what in (("/hello", "instant handler"), ("/slow-hello", "1 ms I/O wait")):
        reference = f"{what}: gather via AsyncClient"
        concurrency.add(reference, gathered[f"gather {path}"])
        concurrency.add(
            f"{what}: sequential AsyncClient", gathered[f"sequential {path}"], reference
        )
        concurrency.add(f"{what}: sequential TestClient", sequential[path], reference)

    return [per_request, per_test, concurrency]


def _faster(fast: float, slow: float) -> str:
    if fast <= slow:
        return f"{(1 - fast / slow) * 100:.0f}% faster"
    return f"{(fast / slow - 1) * 100:.0f}% slower"
