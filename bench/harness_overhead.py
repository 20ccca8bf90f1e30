"""What the harness fixtures cost over the least a hand-written suite can do.

A project is rendered with the template and 500 generated-style tests are written
into it: using `client` in a TestClient-only project (once with TestClient, once
with the inline client, `sync_client=inline`), and `async_client` in an async
project. Each is timed against a minimal baseline that uses the same app and
client without the harness: a module-level TestClient (or inline client) entered
once, and a session-loop AsyncClient. Every suite runs with pytest in a
subprocess, several times.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from bench.common import Result
from bench.project import copy_template, profile_pytest, render, run_pytest

TARGET_RATIO = 1.15
HARNESS_FILE = "tests/test_bench_generated.py"
BASELINE_FILE = "bench_baseline/test_bench_baseline.py"


def _tests(count: int, fixture: str, *, asynchronous: bool) -> str:
    define = "async def" if asynchronous else "def"
    call = "await " if asynchronous else ""
    return "\n".join(
        f"""
{define} test_hello_{n}({fixture}) -> None:
    response = {call}{fixture}.get("/hello", params={{"name": "user-{n}"}})
    assert response.status_code == 200
    assert response.json() == {{"message": "Hello, user-{n}!"}}
"""
        for n in range(count)
    )


def _sync_harness_suite(count: int) -> str:
    return '"""Generated-style tests on the harness `client`."""\n' + _tests(
        count, "client", asynchronous=False
    )


# The module-level client a TestClient-only baseline enters once: the module it
# comes from, and the baseline's docstring.
MODULE_CLIENTS = {
    "TestClient": (
        "fastapi.testclient",
        "one module-level TestClient, entered for the whole run",
    ),
    "InlineClient": (
        "tests.harness.inline_client",
        "one module-level inline client, entered for the run",
    ),
}


def _module_client_suite(client: str, package: str, count: int) -> str:
    module, described = MODULE_CLIENTS[client]
    return f'''"""Baseline: {described}."""

from {module} import {client}

from {package}.main import create_app
from {package}.settings import Settings

client = {client}(create_app(Settings(_env_file=None)))
client.__enter__()


def teardown_module() -> None:
    client.__exit__(None, None, None)

''' + _tests(count, "client", asynchronous=False).replace(
        "(client) -> None", "() -> None"
    )


def _sync_baseline_suite(package: str, count: int) -> str:
    return _module_client_suite("TestClient", package, count)


def _inline_baseline_suite(package: str, count: int) -> str:
    return _module_client_suite("InlineClient", package, count)


def _async_harness_suite(count: int) -> str:
    return '"""Generated-style tests on the harness `async_client`."""\n' + _tests(
        count, "async_client", asynchronous=True
    )


def _async_baseline_suite(package: str, count: int) -> str:
    return f'''"""Baseline: one AsyncClient on the session's event loop."""

import httpx
import pytest_asyncio
from asgi_lifespan import LifespanManager

from {package}.main import create_app
from {package}.settings import Settings


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def client():
    app = create_app(Settings(_env_file=None))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c

''' + _tests(count, "client", asynchronous=True)


# (tests, repeats) for each size.
SIZES = {"quick": (20, 1), "small": (500, 2), "full": (500, 5)}


def run(quick: bool, size: str = "full") -> list[Result]:
    count, repeats = SIZES["quick" if quick else size]
    result = Result(
        "harness_overhead",
        f"Harness overhead: {count} tests, CPU time of pytest in a subprocess",
    )
    with tempfile.TemporaryDirectory(prefix="bench-harness-") as scratch:
        root = Path(scratch)
        template = copy_template(root / "template")
        projects = {
            "TestClient-only project": (
                {},
                _sync_harness_suite(count),
                _sync_baseline_suite,
                "module-level `with TestClient(app)`",
            ),
            "TestClient-only project, inline client": (
                {"sync_client": "inline"},
                _sync_harness_suite(count),
                _inline_baseline_suite,
                "module-level inline client",
            ),
            "async project (concurrency)": (
                {"concurrency": True},
                _async_harness_suite(count),
                _async_baseline_suite,
                "session-loop AsyncClient",
            ),
        }
        for title, (
            answers,
            harness_suite,
            baseline_suite,
            baseline_name,
        ) in projects.items():
            package = "bench_service"
            project = render(
                template,
                root / f"project-{len(result.rows)}",
                {"project_name": "Bench Service", **answers},
            )
            (project / HARNESS_FILE).write_text(harness_suite)
            (project / BASELINE_FILE).parent.mkdir()
            (project / BASELINE_FILE).write_text(baseline_suite(package, count))

            fixture = "async_client" if answers.get("concurrency") else "client"
            suites = {"baseline": BASELINE_FILE, "harness": HARNESS_FILE}
            if not quick:  # quick mode's numbers mean nothing: no warm-up
                for path in suites.values():
                    run_pytest(project, path)  # warm-up: compiled-module caches
            walls: dict[str, list[float]] = {which: [] for which in suites}
            cpus: dict[str, list[float]] = {which: [] for which in suites}
            # Alternate the two so machine noise falls on both alike.
            for _ in range(repeats):
                for which, path in suites.items():
                    wall, cpu = run_pytest(project, path)
                    walls[which].append(wall)
                    cpus[which].append(cpu)
            wall = {which: statistics.median(walls[which]) for which in suites}
            cpu = {which: statistics.median(cpus[which]) for which in suites}
            baseline_label = f"{title}: baseline, {baseline_name}"
            harness_label = f"{title}: harness `{fixture}`"
            result.add(baseline_label, cpu["baseline"])
            result.add(harness_label, cpu["harness"], baseline_label)
            ratio = cpu["harness"] / cpu["baseline"]
            result.notes.append(
                f"{title}: the harness adds "
                f"{(cpu['harness'] - cpu['baseline']) / count * 1e6:.0f} µs of CPU "
                f"per test; wall time {wall['harness']:.2f} s vs "
                f"{wall['baseline']:.2f} s ({wall['harness'] / wall['baseline']:.2f}x)"
            )
            result.check(
                f"{title}: harness within {TARGET_RATIO}x of baseline "
                f"(CPU time, measured {ratio:.2f}x)",
                ratio <= TARGET_RATIO,
            )
            if ratio > TARGET_RATIO:
                result.evidence.append(
                    (
                        f"the harness suite of the {title}, the harness's own "
                        "functions by cumulative time",
                        profile_pytest(project, HARNESS_FILE, within="harness"),
                    )
                )
    testclient_harness = "TestClient-only project: harness `client`"
    inline_harness = "TestClient-only project, inline client: harness `client`"
    result.notes.append(
        f"{count} tests on the harness `client`: the inline client takes "
        f"{result.ratio(inline_harness, testclient_harness):.2f}x the CPU time of "
        "TestClient"
    )
    return [result]
