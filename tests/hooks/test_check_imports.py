"""harness_template_hooks/check_imports.py on its own: the import check run in
the project's interpreter, as a hook after rendering (`main`) and at the prompt
(`refusal`, one kept interpreter for all of Copier's questions)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness_template_hooks import check_imports
from rendering import HOOKS

pytestmark = pytest.mark.quick

# An app as real ones are: it prints and logs while it is imported.
APP = """\
import sys

from fastapi import Depends, FastAPI

print("connecting to the configuration service...")
print("warming caches", file=sys.stderr)


async def get_session():
    yield None


async def get_cache():
    return None


app = FastAPI()


@app.get("/")
async def home(session=Depends(get_session)):
    return {}
"""

# Routes in routers, as most apps keep them: one nested in a router the app
# includes with a prefix, a WebSocket whose router is included with a
# dependency of its own.
ROUTERS_APP = """\
from fastapi import APIRouter, Depends, FastAPI, WebSocket


async def get_session():
    yield None


async def get_cache():
    return None


async def get_user():
    return None


async def get_unused():
    return None


stock = APIRouter()
live = APIRouter()


@stock.get("/level")
async def level(session=Depends(get_session)):
    return {}


@live.websocket("/feed")
async def feed(websocket: WebSocket, cache=Depends(get_cache)):
    await websocket.close()


api = APIRouter(prefix="/api")
api.include_router(stock, prefix="/stock")
app = FastAPI()
app.include_router(api)
app.include_router(live, dependencies=[Depends(get_user)])
"""


def kept_probers() -> list[check_imports.Prober]:
    return [prober for _, prober in check_imports._probers.values()]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "main.py").write_text(APP)
    yield tmp_path
    check_imports._close_probers()


def test_an_app_that_prints_while_imported_passes_the_check(project: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(HOOKS / "check_imports.py"), "app_import=main:app",
         "db_session_dependency=main:get_session", "--environment={}"],
        cwd=project, capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "JSONDecodeError" not in result.stdout + result.stderr


def test_the_dependencies_of_routes_in_included_routers_are_found(
    tmp_path: Path,
) -> None:
    """FastAPI 0.137 on keeps an included router as one entry of app.routes:
    its routes, and the dependencies its inclusion adds, are found behind it."""
    (tmp_path / "main.py").write_text(ROUTERS_APP)

    def refused(question: str, dependency: str) -> str:
        answers = {"app_import": "main:app", question: f"main:{dependency}"}
        return check_imports.refusal(tmp_path, question, answers)

    try:
        assert refused("db_session_dependency", "get_session") == ""
        assert refused("cache_dependency", "get_cache") == ""
        assert refused("cache_dependency", "get_user") == ""
        assert "no route of the app depends on get_unused" in " ".join(
            refused("cache_dependency", "get_unused").split()
        )
    finally:
        check_imports._close_probers()


def test_one_interpreter_answers_every_question_until_a_source_changes(
    project: Path,
) -> None:
    def refused(question: str, path: str) -> str:
        answers = {"app_import": "main:app", question: path}
        return check_imports.refusal(project, question, answers)

    assert refused("db_session_dependency", "main:get_session") == ""
    (kept,) = kept_probers()
    assert "answer the dependency your routes use" in refused(
        "cache_dependency", "main:get_cache"
    )
    assert "no attribute 'get_redis'" in refused("cache_dependency", "main:get_redis")
    # Every question so far went to the interpreter started for the first.
    assert kept_probers() == [kept]

    # Its imports are the old source's: a changed file gets a new interpreter.
    (project / "main.py").write_text(APP.replace("get_session", "open_session"))
    assert "no attribute 'get_session'" in refused(
        "db_session_dependency", "main:get_session"
    )
    (renewed,) = kept_probers()
    assert renewed is not kept


def test_an_interpreter_that_dies_leaves_the_answer_to_the_hook(
    project: Path,
) -> None:
    # The app ends the process as it is imported: nothing to judge at the
    # prompt; the hook after rendering reports it with the output.
    (project / "main.py").write_text("import os\nos._exit(3)\n")

    app = {"app_import": "main:app"}
    assert check_imports.refusal(project, "app_import", app) == ""
    # Asked again, it does not start another to die the same way.
    cache = {**app, "cache_dependency": "main:get_cache"}
    assert check_imports.refusal(project, "cache_dependency", cache) == ""
    (dead,) = kept_probers()
    with pytest.raises(check_imports.ProbeError, match="import check"):
        dead.reports(app)
    with pytest.raises(check_imports.ProbeError, match="import check"):
        check_imports.probe(project, {"app_import": "main:app"})
