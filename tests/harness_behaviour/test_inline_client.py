"""`sync_client=inline`: `client` keeps TestClient's test-facing API while the app
runs on an event loop of the client's own, in the test's thread.

The behaviours are checked inside a rendered project, by a test module written
the way a team writes one, against a purpose-built app: each test there is one
behaviour, and every one of them must pass. Misuse (an `async def` test, a
loop-bound fixture) must fail at setup, naming the fix.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import copier
import pytest
from releases import commit_everything, versioned_template
from rendering import (
    EXISTING_APPS,
    assert_ruff_clean,
    assert_suite_passes,
    outcome_counts,
    real_redis_environment,
    render,
    run_suite,
    suite_environment,
)

INLINE_PROJECT = {
    "sync_client": "inline",
    "cache": "redis",
    "websockets": True,
    "asyncio_mode": "strict",
}

# The app under test in BEHAVIOUR_TESTS, and the tests themselves. The module
# replaces `_app_for_client` with this app, so the harness's own `client`
# fixture serves it: its lifespan, its loop and its thread are observable.
BEHAVIOUR_TESTS = '''\
"""What a team's tests rely on from `client`, checked one behaviour per test."""

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from fastapi import BackgroundTasks, Depends, FastAPI, Request, Response, WebSocket
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import RedirectResponse, StreamingResponse
from starlette.testclient import WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from tests.harness.inline_client import InlineClient

LIFESPAN_LOG = Path(os.environ["LIFESPAN_LOG"])
finished_in_background: list[str] = []
# Per thread: a worker thread that serves a second request remembers the first.
worker_memory = threading.local()


def greeting() -> str:
    return "hello"


def build_app(lifespan_log: Path | None = None) -> FastAPI:
    def record(event: str) -> None:
        if lifespan_log is not None:
            with lifespan_log.open("a") as log:
                log.write(f"{event}\\n")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, object]]:
        record("startup")
        app.state.lifespan_loop = asyncio.get_running_loop()
        app.state.lifespan_queue = asyncio.Queue()
        yield {"opened_by_lifespan": "pool"}
        record("shutdown")

    app = FastAPI(lifespan=lifespan)
    app.add_middleware(GZipMiddleware, minimum_size=1000)

    @app.get("/where")
    async def where(request: Request) -> dict[str, object]:
        return {
            "thread": threading.get_ident(),
            "on_lifespan_loop": asyncio.get_running_loop()
            is request.app.state.lifespan_loop,
            "state": request.state.opened_by_lifespan,
            "url": str(request.url),
            "client": request.client.host if request.client else None,
            "user_agent": request.headers.get("user-agent"),
            "team": request.headers.get("x-team"),
            "cookie": request.cookies.get("flavour"),
        }

    @app.get("/sync-where")
    def sync_where() -> dict[str, int]:
        worker_memory.served = getattr(worker_memory, "served", 0) + 1
        return {"thread": threading.get_ident(), "served": worker_memory.served}

    @app.api_route("/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def echo(request: Request) -> dict[str, object]:
        return {"method": request.method, "body": (await request.body()).decode()}

    @app.get("/greeting")
    async def greet(text: str = Depends(greeting)) -> dict[str, str]:
        return {"text": text}

    @app.get("/set-cookie")
    async def set_cookie(response: Response) -> dict[str, bool]:
        response.set_cookie("flavour", "oat")
        return {"set": True}

    @app.get("/old")
    async def old() -> RedirectResponse:
        return RedirectResponse("/echo")

    @app.get("/boom")
    async def boom() -> None:
        raise LookupError("the app failed")

    async def slow_write(entry: str) -> None:
        await asyncio.sleep(0.05)
        finished_in_background.append(entry)

    @app.post("/later")
    async def later(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add_task(slow_write, "written")
        return {"queued": True}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def lines() -> AsyncIterator[str]:
            for number in range(3):
                await asyncio.sleep(0)
                yield f"line {number}\\n"

        return StreamingResponse(lines(), media_type="text/plain")

    @app.get("/large")
    async def large() -> dict[str, str]:
        return {"text": "x" * 5000}

    @app.websocket("/ws")
    async def chat(websocket: WebSocket) -> None:
        offered = websocket.scope["subprotocols"]
        await websocket.accept(subprotocol=offered[0] if offered else None)
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text") or message["bytes"].decode()
            if text == "fail":
                raise ValueError("the socket handler failed")
            if text == "bye":
                await websocket.close(code=4001, reason="asked to")
                return
            await websocket.send_text(text.upper())
            await websocket.send_json({"got": text})
            await websocket.send_bytes(text.encode())

    @app.websocket("/ws/private")
    async def private(websocket: WebSocket) -> None:
        await websocket.close(code=4403)

    @app.websocket("/ws/denied")
    async def denied(websocket: WebSocket) -> None:
        await websocket.send_denial_response(Response("go away", status_code=403))

    return app


@pytest.fixture(scope="session")
def _app_for_client() -> FastAPI:
    return build_app(LIFESPAN_LOG)


@pytest.fixture
def fresh_client() -> Iterator[InlineClient]:
    with InlineClient(build_app(), raise_server_exceptions=False) as fresh:
        yield fresh


def test_async_endpoints_run_in_the_tests_thread_on_the_lifespans_loop(client):
    seen = client.get("/where").json()

    assert seen["thread"] == threading.get_ident()
    assert seen["on_lifespan_loop"] is True
    assert seen["state"] == "pool"


def test_def_endpoints_run_in_the_thread_pool_whose_workers_are_kept(client):
    first = client.get("/sync-where").json()
    second = client.get("/sync-where").json()

    assert first["thread"] != threading.get_ident()
    # The same worker thread, not a new one under a reused thread id.
    assert second["thread"] == first["thread"]
    assert second["served"] == first["served"] + 1


def test_base_url_client_address_and_user_agent_are_testclients(client):
    seen = client.get("/where").json()

    assert seen["url"] == "http://testserver/where"
    assert seen["client"] == "testclient"
    assert seen["user_agent"] == "testclient"


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_every_request_method_reaches_the_app(client, method):
    content = "" if method == "GET" else "payload"

    response = client.request(method, "/echo", content=content)

    assert response.json() == {"method": method, "body": content}


def test_json_and_form_bodies_are_sent(client):
    assert client.post("/echo", json={"a": 1}).json()["body"] == '{"a":1}'
    assert client.post("/echo", data={"a": "1"}).json()["body"] == "a=1"


def test_redirects_are_followed_unless_told_not_to(client):
    followed = client.get("/old")
    kept = client.get("/old", follow_redirects=False)

    assert followed.json()["method"] == "GET"
    assert [step.status_code for step in followed.history] == [307]
    assert kept.status_code == 307


def test_app_exceptions_are_raised_in_the_test(client):
    with pytest.raises(LookupError, match="the app failed"):
        client.get("/boom")


def test_raise_server_exceptions_false_returns_a_500(fresh_client):
    assert fresh_client.get("/boom").status_code == 500


def test_background_tasks_finish_before_the_call_returns(client):
    finished_in_background.clear()

    client.post("/later")

    assert finished_in_background == ["written"]


def test_streaming_responses_are_read(client):
    with client.stream("GET", "/stream") as response:
        lines = list(response.iter_lines())

    assert lines == ["line 0", "line 1", "line 2"]
    assert client.get("/stream").text == "line 0\\nline 1\\nline 2\\n"


def test_compressed_responses_are_decoded_once(client):
    response = client.get("/large", headers={"accept-encoding": "gzip"})

    assert response.headers["content-encoding"] == "gzip"
    assert response.json() == {"text": "x" * 5000}


def test_what_a_test_sets_on_the_client_or_app_is_set(client, app):
    client.headers["x-team"] = "payments"
    client.get("/set-cookie")
    app.dependency_overrides[greeting] = lambda: "overridden"

    seen = client.get("/where").json()

    assert (seen["team"], seen["cookie"]) == ("payments", "oat")
    assert client.get("/greeting").json() == {"text": "overridden"}


def test_and_never_reaches_the_next_test(client):
    seen = client.get("/where").json()

    assert (seen["team"], seen["cookie"]) == (None, None)
    assert client.get("/greeting").json() == {"text": "hello"}


def test_websocket_text_json_and_bytes_both_ways_then_close(client):
    with client.websocket_connect("/ws", subprotocols=["chat.v1"]) as websocket:
        assert websocket.accepted_subprotocol == "chat.v1"
        websocket.send_text("hi")
        assert websocket.receive_text() == "HI"
        assert websocket.receive_json() == {"got": "hi"}
        assert websocket.receive_bytes() == b"hi"
        websocket.send_json({"a": 1})
        assert websocket.receive_text() == '{"A":1}'
        assert websocket.receive_json() == {"got": '{"a":1}'}
        assert websocket.receive_bytes() == b'{"a":1}'
        websocket.send_bytes(b"raw")
        assert websocket.receive() == {"type": "websocket.send", "text": "RAW"}
        websocket.close()


def test_websocket_closed_by_the_app_raises_disconnect_with_its_code(client):
    with client.websocket_connect("/ws") as websocket:
        websocket.send_text("bye")
        with pytest.raises(WebSocketDisconnect) as closed:
            websocket.receive_text()

    assert (closed.value.code, closed.value.reason) == (4001, "asked to")


def test_websocket_refused_before_accept_raises_on_connect(client):
    with pytest.raises(WebSocketDisconnect) as refused:
        client.websocket_connect("/ws/private").__enter__()
    with pytest.raises(WebSocketDenialResponse) as denied:
        client.websocket_connect("/ws/denied").__enter__()

    assert refused.value.code == 4403
    assert (denied.value.status_code, denied.value.text) == (403, "go away")


def test_websocket_handler_errors_are_raised_in_the_test(client):
    with (
        pytest.raises(ValueError, match="the socket handler failed"),
        client.websocket_connect("/ws") as websocket,
    ):
        websocket.send_text("fail")
        websocket.receive_text()


def test_run_awaits_on_the_apps_loop_where_lifespan_resources_live(client):
    queue = client.app.state.lifespan_queue

    client.run(lambda: queue.put("from the test"))

    assert client.run(queue.get) == "from the test"


def test_a_failing_lifespan_raises_on_entering_and_leaves_nothing_open():
    @asynccontextmanager
    async def broken(app: FastAPI) -> AsyncIterator[None]:
        raise ConnectionRefusedError("no database")
        yield

    with (
        pytest.raises(ConnectionRefusedError, match="no database"),
        InlineClient(FastAPI(lifespan=broken)),
    ):
        pass


def test_a_client_not_entered_refuses_requests_naming_the_fix():
    with pytest.raises(RuntimeError, match="enter it with"):
        InlineClient(build_app()).get("/where")


@pytest.mark.asyncio
async def test_async_client_on_the_tests_loop_still_works_beside_it(async_client):
    response = await async_client.get("/health")

    assert response.status_code == 200


def test_client_after_an_async_test_still_works(client):
    assert client.get("/where").json()["on_lifespan_loop"] is True


def test_the_lifespan_started_once_for_the_whole_session(client):
    assert LIFESPAN_LOG.read_text() == "startup\\n"
'''

BEHAVIOURS = [
    line.split("(")[0].removeprefix("def ").removeprefix("async def ")
    for line in BEHAVIOUR_TESTS.splitlines()
    if line.startswith(("def test_", "async def test_"))
]

MISUSE_TESTS = """\
import pytest


@pytest.mark.asyncio
async def test_async_test_using_client(client):
    client.get("/health")


def test_client_with_the_tests_cache(client, cache):
    client.get("/health")
"""


@pytest.fixture(scope="module")
def inline_project(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(template, tmp_path_factory.mktemp("inline") / "svc", INLINE_PROJECT)


def test_the_harness_module_is_lint_clean_and_the_only_addition(
    inline_project: Path,
) -> None:
    assert_ruff_clean(inline_project)
    harness = sorted(p.name for p in (inline_project / "tests/harness").iterdir())
    assert "inline_client.py" in harness
    source = (inline_project / "tests/harness/inline_client.py").read_text()
    # Built on httpx2's ASGITransport and asgi-lifespan, not a vendored TestClient.
    assert "httpx2.ASGITransport(" in source
    assert "LifespanManager(" in source
    assert "BlockingPortal" not in source


def test_client_keeps_testclients_api_with_the_app_in_the_tests_thread(
    inline_project: Path, tmp_path: Path
) -> None:
    (inline_project / "tests/test_inline_behaviour.py").write_text(BEHAVIOUR_TESTS)
    log = tmp_path / "lifespan.log"
    try:
        result = run_suite(
            inline_project,
            "-v",
            "tests/test_inline_behaviour.py",
            env=suite_environment(inline_project, LIFESPAN_LOG=str(log)),
        )
    finally:
        (inline_project / "tests/test_inline_behaviour.py").unlink()

    assert_suite_passes(result, at_least=len(BEHAVIOURS))
    passed = {
        line.split("::")[1].split(" ")[0].split("[")[0]
        for line in result.stdout.splitlines()
        if " PASSED" in line
    }
    assert set(BEHAVIOURS) <= passed, result.stdout
    # The session's end shut the lifespan down, once.
    assert log.read_text() == "startup\nshutdown\n"


def test_misuse_fails_at_setup_naming_the_fix(inline_project: Path) -> None:
    (inline_project / "tests/test_inline_misuse.py").write_text(MISUSE_TESTS)
    try:
        result = run_suite(inline_project, "tests/test_inline_misuse.py")
    finally:
        (inline_project / "tests/test_inline_misuse.py").unlink()

    assert result.returncode != 0
    assert outcome_counts(result.stdout) == {"errors": 2}, result.stdout
    output = " ".join(result.stdout.split())
    assert (
        "test_async_test_using_client is `async def` and uses `client`: the inline "
        "client runs the app on an event loop of its own" in output
    )
    assert "Fix: use `async_client` in async tests" in output
    assert "uses `client` together with loop-bound `cache`" in output
    assert "`client` (the inline client) runs the app on its own event loop" in output


def test_on_a_real_redis_the_apps_own_client_serves_every_test(
    inline_project: Path,
) -> None:
    # fakeredis cannot show a cross-loop bug; a real server's connections can.
    result = run_suite(inline_project, env=real_redis_environment(inline_project))

    assert_suite_passes(result, at_least=10)


def test_an_adopted_app_object_with_websockets_passes_with_inline(
    template: Path, tmp_path: Path
) -> None:
    project = tmp_path / "shop"
    shutil.copytree(EXISTING_APPS / "src_routers", project)
    copier.run_copy(
        str(template),
        str(project),
        data={
            "scaffold": "adopt",
            "app_import": "shop.app:app",
            "websockets": True,
            "sync_client": "inline",
        },
        defaults=True,
        overwrite=True,
        unsafe=True,
        quiet=True,
    )
    pyproject = (project / "pyproject.toml").read_text()
    assert '"asgi-lifespan>=2.1"' in pyproject
    assert (project / "tests/harness/fastapi_harness/inline_client.py").exists()

    result = run_suite(project, "-v")

    assert_suite_passes(result, at_least=4)
    assert "test_harness_smoke.py::test_client_serves_the_app PASSED" in result.stdout


def test_copier_update_switches_an_existing_project_to_inline(tmp_path: Path) -> None:
    template = versioned_template(tmp_path / "template")
    project = tmp_path / "svc"
    copier.run_copy(
        str(template),
        str(project),
        vcs_ref="1.0.0",
        defaults=True,
        unsafe=True,
        quiet=True,
    )
    commit_everything(project, "a new service")
    harness = project / "tests" / "harness"
    assert not (harness / "inline_client.py").exists()

    copier.run_update(
        str(project),
        data={"sync_client": "inline"},
        overwrite=True,
        unsafe=True,
        defaults=True,
        quiet=True,
    )

    assert (harness / "inline_client.py").exists()
    assert "InlineClient" in (harness / "sync_client.py").read_text()
    assert '"asgi-lifespan>=2.1"' in (project / "pyproject.toml").read_text()
    assert_suite_passes(run_suite(project))
