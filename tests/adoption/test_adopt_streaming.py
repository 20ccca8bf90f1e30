"""Adopting the harness, with `streaming=true`, into a project that already
has an endless Server-Sent Events endpoint (tests/existing_apps/live_feed).

The newsroom app streams its headlines forever: a StreamingResponse of
text/event-stream, and the same feed through FastAPI's EventSourceResponse,
each listener removed in its generator's `finally`. One adoption per way
`client` runs (TestClient on pytest-asyncio, the inline client on anyio): the
project's own suite passes as before, beside the tests its team writes with
the harness, each under a second, setup and teardown included: three events
through `client` and three through `async_client`, with plain `stream()` and
with httpx-sse, then closed, and the feed's cleanup has run by the test's next
line.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from adoption import AdoptedApp as Adopted
from adoption import adopt_app
from harness_template_hooks import adoption_fit, merge_pyproject, project_survey
from rendering import (
    EXISTING_APPS,
    outcome_counts,
    read_answers,
    run_suite,
    suite_environment,
)

LIVE_FEED = EXISTING_APPS / "live_feed"

# The newsroom team's tests with the harness; {runner} is the async marker
# their runner takes.
TEAM_TESTS = '''\
"""The live headlines through the harness: read a few events, close, and the
feed has let the listener go."""

import json
from itertools import islice

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx_sse import aconnect_sse, connect_sse

ENDPOINTS = pytest.mark.parametrize(
    "endpoint", ["/headlines/live", "/headlines/events"]
)


def title(data: str) -> str:
    return json.loads(data)["title"]


@ENDPOINTS
def test_three_headlines_through_client(
    app: FastAPI, client: TestClient, endpoint: str
) -> None:
    feed = app.state.feed
    for headline in ("one", "two", "three"):
        client.post("/headlines", json={{"title": headline}})

    with client.stream("GET", endpoint) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        data = (line for line in response.iter_lines() if line.startswith("data:"))
        assert [title(line[5:]) for line in islice(data, 3)] == ["one", "two", "three"]
        assert len(feed.listeners) == 1
    assert (feed.listeners, feed.closed) == (set(), 1)

    with connect_sse(client, "GET", endpoint) as source:
        events = list(islice(source.iter_sse(), 3))
    assert [(event.event, event.id) for event in events] == [
        ("headline", "1"), ("headline", "2"), ("headline", "3")
    ]
    assert (feed.listeners, feed.closed) == (set(), 2)


@ENDPOINTS
{runner}
async def test_headlines_published_while_the_test_reads(
    app: FastAPI, async_client: httpx.AsyncClient, endpoint: str
) -> None:
    feed = app.state.feed
    await async_client.post("/headlines", json={{"title": "latest"}})

    async with async_client.stream(
        "GET", endpoint, params={{"replay": 1}}
    ) as response:
        lines = response.aiter_lines()
        seen = []
        async for line in lines:
            if line.startswith("data:"):
                seen.append(title(line[5:]))
                if len(seen) == 3:
                    break
                # Listening now: what is published next reaches this reader.
                published = {{"title": f"new {{len(seen)}}"}}
                await async_client.post("/headlines", json=published)
        assert seen == ["latest", "new 1", "new 2"]
    assert (feed.listeners, feed.closed) == (set(), 1)

    async with aconnect_sse(async_client, "GET", endpoint) as source:
        events = []
        async for event in source.aiter_sse():
            events.append(title(event.data))
            if len(events) == 3:
                break
    assert events == ["latest", "new 1", "new 2"]
    assert (feed.listeners, feed.closed) == (set(), 2)


def test_a_get_of_the_endless_feed_fails_instead_of_hanging(
    app: FastAPI, client: TestClient
) -> None:
    with pytest.raises(TimeoutError) as never_ended:
        client.get("/headlines/events", timeout=0.2)

    message = str(never_ended.value)
    assert "GET http://testserver/headlines/events: read whole" in message
    assert "still streaming 0.2 s later" in message
    assert (app.state.feed.listeners, app.state.feed.closed) == (set(), 1)


{runner}
async def test_a_get_of_the_endless_feed_fails_through_async_client(
    async_client: httpx.AsyncClient,
) -> None:
    with pytest.raises(TimeoutError, match="live: read whole.* 0.2 s later"):
        await async_client.get("/headlines/live", timeout=0.2)
'''
TEAM_TESTS_PATH = "tests/test_live_with_the_harness.py"
# Two endpoints, a test through each client; a get of the feed through each.
TEAM_TEST_COUNT = 6
SMOKE_TESTS = 2


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(("testclient", "pytest-asyncio"), id="testclient-asyncio"),
        pytest.param(("inline", "anyio"), id="inline-anyio"),
    ],
)
def adopted(
    request: pytest.FixtureRequest,
    template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Adopted:
    """The newsroom's own suite, then the harness adopted with streaming."""
    sync_client, runner = request.param
    project = tmp_path_factory.mktemp(f"live-feed-{sync_client}") / "project"
    adopted = adopt_app(
        template,
        LIVE_FEED,
        project,
        {
            "app_import": "newsroom.main:app",
            "streaming": True,
            "sync_client": sync_client,
            "async_runner": runner,
        },
    )
    marker = (
        "@pytest.mark.anyio"
        if runner == "anyio"
        else '@pytest.mark.asyncio(loop_scope="session")'
    )
    (project / TEAM_TESTS_PATH).write_text(TEAM_TESTS.format(runner=marker))
    return adopted


def test_adopting_asks_for_streaming_and_declares_httpx_sse(adopted: Adopted) -> None:
    answers = read_answers(adopted.project)
    assert answers["scaffold"] == "adopt"
    assert answers["streaming"] is True
    pyproject = (adopted.project / "pyproject.toml").read_text()
    assert '"httpx-sse>=' in pyproject


def test_endless_streams_read_through_both_clients_each_under_a_second(
    adopted: Adopted, tmp_path: Path
) -> None:
    report = tmp_path / "report.xml"
    result = run_suite(
        adopted.project,
        "-p",
        "no:xdist",
        f"--junitxml={report}",
        env=suite_environment(adopted.project),
    )

    expected = adopted.own_counts["passed"] + SMOKE_TESTS + TEAM_TEST_COUNT
    assert outcome_counts(result.stdout) == {"passed": expected}, (
        result.stdout + result.stderr
    )
    durations = {
        f"{case.get('name')}": float(case.get("time", "0"))
        for case in ElementTree.parse(report).getroot().iter("testcase")
        if case.get("classname", "").endswith("test_live_with_the_harness")
    }
    assert len(durations) == TEAM_TEST_COUNT, durations
    assert all(seconds < 1 for seconds in durations.values()), durations


def test_streaming_on_a_fastapi_before_starlette_1_10_is_refused_naming_the_fix(
    tmp_path: Path,
) -> None:
    """The streaming clients build on TestClient over httpx2 (Starlette 1.10):
    a project pinning an older FastAPI is told what to raise, before anything
    is written; without streaming, it keeps its Starlette."""
    (tmp_path / "requirements.txt").write_text("fastapi==0.95.2\n")
    survey = project_survey.survey(tmp_path)
    dependencies = merge_pyproject.harness_dependencies
    answers = {
        "needs_async_client": True,
        "async_runner": "anyio",
        "websockets": False,
        "concurrency": False,
        "async_db": "none",
        "cache": "none",
    }

    assert (
        adoption_fit.verdict(survey, {**answers, "streaming": False}, dependencies)
        == []
    )
    problems = adoption_fit.verdict(
        survey, {**answers, "streaming": True}, dependencies
    )
    assert problems == [
        "streaming=True: the clients that stream build on the TestClient of "
        "Starlette 1.10, but you declare fastapi==0.95.2. Raise FastAPI to 0.133 "
        "or later (on Starlette 1.10), or answer streaming=false."
    ]
