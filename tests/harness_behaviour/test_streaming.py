"""`streaming=true`: `client` and `async_client` hand a response over at the
app's headers and its body as the app sends it.

One rendered project carries every transport: `client` is the inline client and
async tests run on anyio (the generated tests read the ticker through both);
the team module below drives each of the harness's streaming transports
(TestClient's, the inline client's, async_client's) against a purpose-built
app, one behaviour per test: a stall fails naming the request and the timeout,
closing mid-stream runs the app's cleanup, a finished response waits for the
app's background work, an error after the headers reaches the test.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from rendering import assert_ruff_clean, assert_suite_passes, render, run_suite

STREAMING_PROJECT = {
    "streaming": True,
    "sync_client": "inline",
    "async_runner": "anyio",
}

TRANSPORT_TESTS = '''\
"""Each streaming transport of the harness, against an app built to stall."""

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import anyio
import httpx
import pytest
from fastapi import BackgroundTasks, FastAPI
from fastapi.responses import StreamingResponse
from httpx_sse import aconnect_sse

from tests.harness.inline_client import InlineClient
from tests.harness.streaming import (
    StreamingAsyncClient,
    StreamingTestClient,
    StreamingTransport,
    StreamNeverEnded,
    StreamStalled,
)

cleaned_up: list[str] = []
background: list[str] = []
stalls = FastAPI()


async def endless(name: str, *, first: bytes = b"") -> AsyncIterator[bytes]:
    try:
        if first:
            yield first
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
    client_class = StreamingTestClient if kind == "testclient" else InlineClient
    options = {} if kind == "testclient" else {"streaming": True}
    with client_class(stalls, **options) as client:
        yield client


SYNC_KINDS = pytest.mark.parametrize("kind", ["testclient", "inline"])


@SYNC_KINDS
def test_a_stalled_body_fails_naming_the_request_and_timeout(kind):
    with sync_client(kind) as client:
        url = f"/stalls-after-one?name=sync-{kind}"
        with client.stream("GET", url, timeout=0.2) as response:
            lines = response.iter_lines()
            assert next(lines) == "first"
            with pytest.raises(StreamStalled) as stalled:
                next(lines)
        # Closed: the app saw the client leave, and its cleanup ran.
        assert cleaned_up[-1] == f"sync-{kind}"
    message = str(stalled.value)
    assert f"GET http://testserver{url}" in message
    assert "0.2 s" in message


@SYNC_KINDS
def test_an_app_that_never_answers_fails_naming_the_request(kind):
    with sync_client(kind) as client, pytest.raises(StreamStalled) as stalled:
        client.get("/never-answers", timeout=0.2)
    assert "GET http://testserver/never-answers: waited 0.2 s for its response" in (
        str(stalled.value)
    )


@SYNC_KINDS
def test_an_endless_stream_closed_unread_is_cleaned_up(kind):
    with sync_client(kind) as client:
        with client.stream("GET", f"/endless?name=unread-{kind}") as response:
            assert response.status_code == 200
        assert cleaned_up[-1] == f"unread-{kind}"


@SYNC_KINDS
def test_an_endless_stream_read_whole_fails_naming_the_request_and_timeout(kind):
    with sync_client(kind) as client:
        url = f"/endless?name=whole-{kind}"
        with pytest.raises(StreamNeverEnded) as never_ended:
            client.get(url, timeout=0.3)
        # Its response closed: the app saw the client leave.
        assert cleaned_up[-1] == f"whole-{kind}"
    message = str(never_ended.value)
    assert f"GET http://testserver{url}: read whole" in message
    assert "still streaming 0.3 s later" in message
    assert "client.stream(...)" in message


@SYNC_KINDS
def test_a_stream_left_open_ends_with_its_client(kind):
    with sync_client(kind) as client:
        response = client.send(
            client.build_request("GET", f"/endless?name=left-{kind}"), stream=True
        )
        assert next(response.iter_raw()) == b"more\\n"
    assert cleaned_up[-1] == f"left-{kind}"


@SYNC_KINDS
def test_a_response_returns_once_its_background_work_is_done(kind):
    background.clear()
    with sync_client(kind) as client:
        assert client.post("/later").json() == {"queued": True}
        assert background == ["done"]


@SYNC_KINDS
def test_an_error_after_the_headers_reaches_the_test(kind):
    with sync_client(kind) as client, client.stream("GET", "/breaks") as response:
        lines = response.iter_lines()
        assert next(lines) == "first"
        with pytest.raises(RuntimeError, match="the feed broke"):
            next(lines)


def async_client() -> httpx.AsyncClient:
    transport = StreamingTransport(stalls, httpx.ASGITransport(app=stalls))
    return StreamingAsyncClient(transport=transport, base_url="http://test")


@pytest.mark.anyio
async def test_async_a_stalled_body_fails_naming_the_request_and_timeout():
    async with async_client() as client:
        url = "/stalls-after-one?name=async"
        async with client.stream("GET", url, timeout=0.2) as response:
            lines = response.aiter_lines()
            assert await anext(lines) == "first"
            with pytest.raises(StreamStalled) as stalled:
                await anext(lines)
        assert cleaned_up[-1] == "async"
    assert f"GET http://test{url}: waited 0.2 s" in str(stalled.value)


@pytest.mark.anyio
async def test_async_an_app_that_never_answers_fails_naming_the_request():
    async with async_client() as client:
        with pytest.raises(StreamStalled, match=r"never-answers: waited 0\\.2 s"):
            await client.get("/never-answers", timeout=0.2)


@pytest.mark.anyio
async def test_async_an_endless_stream_read_whole_fails_naming_it():
    async with async_client() as client:
        with pytest.raises(StreamNeverEnded) as never_ended:
            await client.get("/endless?name=async-whole", timeout=0.3)
        assert cleaned_up[-1] == "async-whole"
    assert (
        "GET http://test/endless?name=async-whole: read whole, but the response "
        "was still streaming 0.3 s later"
    ) in str(never_ended.value)


@pytest.mark.anyio
async def test_async_a_stream_left_open_ends_with_its_client():
    async with async_client() as client:
        response = await client.send(
            client.build_request("GET", "/endless?name=async-left"), stream=True
        )
        assert await anext(response.aiter_raw()) == b"more\\n"
    assert cleaned_up[-1] == "async-left"


@pytest.mark.anyio
async def test_the_tickers_cleanup_has_run_after_every_close(app, async_client):
    """However fast the ticker, wherever a close finds it: never a stream left
    counted open."""
    streams = app.state.open_streams
    for every in ("0.01", "0.001", "0.0001") * 10:
        url = f"/ticker?every={every}"
        async with aconnect_sse(async_client, "GET", url) as events:
            async for event in events.aiter_sse():
                if event.id == "3":
                    break
        assert streams.open == 0


def test_the_ticker_read_whole_through_client_fails_in_time(client):
    with pytest.raises(StreamNeverEnded, match=r"ticker\\?every=0.01: read whole"):
        client.get("/ticker?every=0.01", timeout=0.3)


@pytest.mark.anyio
async def test_the_ticker_read_whole_through_async_client_fails_in_time(
    app, async_client
):
    with pytest.raises(StreamNeverEnded, match=r"ticker\\?every=0.01: read whole"):
        await async_client.get("/ticker?every=0.01", timeout=0.3)
    assert app.state.open_streams.open == 0


@pytest.mark.anyio
async def test_async_a_response_returns_once_its_background_work_is_done():
    background.clear()
    async with async_client() as client:
        assert (await client.post("/later")).json() == {"queued": True}
        assert background == ["done"]
'''


@pytest.fixture(scope="module")
def streaming_project(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = render(
        template, tmp_path_factory.mktemp("streaming") / "svc", STREAMING_PROJECT
    )
    (project / "tests" / "test_stream_transports.py").write_text(TRANSPORT_TESTS)
    return project


def test_streams_read_through_every_client_and_each_test_takes_under_a_second(
    streaming_project: Path, tmp_path: Path
) -> None:
    report = tmp_path / "report.xml"
    result = run_suite(streaming_project, f"--junitxml={report}")

    assert_suite_passes(result, at_least=25)
    assert_ruff_clean(streaming_project)
    cases = ElementTree.parse(report).getroot().iter("testcase")
    durations = {
        case.get("name"): float(case.get("time", "0"))
        for case in cases
        if case.get("classname", "").endswith("test_streams")
    }
    # The generated ticker tests: three events through each client (plain
    # stream() and httpx-sse), closed, the cleanup checked: setup, call and
    # teardown included.
    assert set(durations) >= {
        "test_ticker_events_arrive_as_the_app_sends_them",
        "test_ticker_events_arrive_on_the_tests_loop",
    }
    assert all(seconds < 1 for seconds in durations.values()), durations
