"""`async_client` with WebSockets: why the harness enters the client in a task
of its own, shown by the naive fixture failing where the harness passes."""

from pathlib import Path

import pytest
from rendering import assert_suite_passes, render, run_suite

HARNESS_ENTRY = """\
    async with _entered_in_own_task(_serve(_app_for_async_client)) as client:
        yield client"""
NAIVE_ENTRY = """\
    async with _serve(_app_for_async_client) as client:
        yield client"""


@pytest.fixture(scope="module")
def websocket_project(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(template, tmp_path_factory.mktemp("ws") / "svc", {"websockets": True})


def test_harness_serves_websockets_and_tears_down_cleanly(
    websocket_project: Path,
) -> None:
    result = run_suite(websocket_project, "tests/test_notifications.py")

    assert_suite_passes(result, at_least=3)


def test_naive_fixture_fails_at_teardown_with_the_cancel_scope_error(
    websocket_project: Path,
) -> None:
    harness = websocket_project / "tests" / "harness" / "async_client.py"
    original = harness.read_text()
    assert HARNESS_ENTRY in original
    harness.write_text(original.replace(HARNESS_ENTRY, NAIVE_ENTRY))
    try:
        result = run_suite(websocket_project, "tests/test_notifications.py")
    finally:
        harness.write_text(original)

    assert result.returncode != 0
    assert "ERROR at teardown" in result.stdout
    assert (
        "Attempted to exit cancel scope in a different task than it was entered in"
        in result.stdout
    )
