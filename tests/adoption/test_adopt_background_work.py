"""Adopting the harness, with `background_work=true`, into a project whose app
starts work that outlives the response (tests/existing_apps/report_queue: an
asyncio task kept in a set on `app.state.jobs`, a receipt sent through
BackgroundTasks).

Nothing names where the tasks are kept: the harness finds the set on
app.state when it waits. One adoption: the project's own suite (which polls)
passes as before; the team's tests wait with `background_work` through
`client` and `async_client`; a wait that runs out fails naming the task.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from adoption import AdoptedApp as Adopted
from adoption import adopt_app
from rendering import (
    EXISTING_APPS,
    outcome_counts,
    read_answers,
    run_suite,
    suite_environment,
)

REPORT_QUEUE = EXISTING_APPS / "report_queue"

TEAM_TESTS = """\
import asyncio

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient


def test_a_report_is_ready_once_the_work_is_done(
    client: TestClient, background_work
) -> None:
    number = client.post("/reports").json()["number"]

    background_work.wait()

    assert client.get(f"/reports/{number}").json() == {"status": "ready"}
    assert background_work.running() == []


def test_the_receipt_is_sent_before_the_response_returns(
    app: FastAPI, client: TestClient
) -> None:
    client.post("/reports")

    assert app.state.outbox == ["report 1 is on its way"]


@pytest.mark.asyncio(loop_scope="session")
async def test_reports_ordered_at_once_are_all_built(
    async_client: httpx.AsyncClient, background_work
) -> None:
    ordered = await asyncio.gather(*(async_client.post("/reports") for _ in range(5)))

    await background_work.wait_async()

    for response in ordered:
        number = response.json()["number"]
        report = await async_client.get(f"/reports/{number}")
        assert report.json() == {"status": "ready"}
"""
# A wait too short for the build: it must fail, naming the task.
TOO_SHORT = """\
def test_a_wait_that_runs_out(client, background_work):
    client.post("/reports")

    background_work.wait(seconds=0.001)
"""
TEAM_TEST_COUNT = 3
SMOKE_TESTS = 2


@pytest.fixture(scope="module")
def adopted(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Adopted:
    """The report queue's own suite, then the harness adopted with
    background_work (and concurrency, for async_client)."""
    project = tmp_path_factory.mktemp("report-queue") / "project"
    answers = {
        "app_import": "reports.main:app",
        "background_work": True,
        "concurrency": True,
    }
    adopted = adopt_app(template, REPORT_QUEUE, project, answers)
    (project / "tests/test_reports_with_the_harness.py").write_text(TEAM_TESTS)
    (project / "tests/test_too_short.py").write_text(TOO_SHORT)
    return adopted


def test_background_work_is_asked_when_adopting(adopted: Adopted) -> None:
    answers = read_answers(adopted.project)
    assert answers["scaffold"] == "adopt"
    assert answers["background_work"] is True


def test_the_work_is_waited_for_and_a_wait_that_runs_out_names_the_task(
    adopted: Adopted,
) -> None:
    result = run_suite(
        adopted.project, "-p", "no:xdist", "-v", env=suite_environment(adopted.project)
    )

    output = result.stdout + result.stderr
    passed = adopted.own_counts["passed"] + SMOKE_TESTS + TEAM_TEST_COUNT
    assert outcome_counts(result.stdout) == {"passed": passed, "failed": 1}, output
    assert "test_a_wait_that_runs_out FAILED" in output, output
    assert (
        "the app's background work did not finish cleanly:\n"
        "  still running after 0.001 s: report-1 (build)"
    ) in output, output
