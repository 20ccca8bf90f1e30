"""`streaming=true`: `client` and `async_client` hand a response over at the
app's headers and its body as the app sends it.

One rendered project carries every transport: `client` is the inline client and
async tests run on anyio. Its generated tests read the ticker through both, and
the module below closes the ticker wherever a close finds it and reads it whole
through the project's own fixtures. Each transport's behaviour with any app
(stalls, closes, background work, errors after the headers) is tested against
the plain modules, without rendering: test_streaming_transports.py.
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

# Read through the project's own `client` and `async_client`, against its
# ticker: what the transports do with any app is tested against the plain
# modules (test_streaming_transports.py).
TICKER_TESTS = '''\
"""The ticker, closed wherever a close finds it and read whole in time."""

import pytest
from httpx_sse import aconnect_sse

from tests.harness.streaming import StreamNeverEnded


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
'''


@pytest.fixture(scope="module")
def streaming_project(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = render(
        template, tmp_path_factory.mktemp("streaming") / "svc", STREAMING_PROJECT
    )
    (project / "tests" / "test_ticker_closes.py").write_text(TICKER_TESTS)
    return project


def test_streams_read_through_every_client_and_each_test_takes_under_a_second(
    streaming_project: Path, tmp_path: Path
) -> None:
    report = tmp_path / "report.xml"
    result = run_suite(streaming_project, f"--junitxml={report}")

    assert_suite_passes(result, at_least=13)
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
