"""harness_template_hooks/dependencies.py on its own: the semantic sync of
requirements and settings into a pyproject.toml, on files shaped as `uv add` and
teams leave them."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomlkit
from answer_sets import ANSWER_SETS
from harness_template_hooks.adoption_fit import _NO_FEATURES, harness_fixture_names
from harness_template_hooks.dependencies import (
    ADOPTED_FLOORS,
    REQUIREMENTS,
    harness_requirements,
    package_name,
    service_requirements,
    sync_requirements,
    sync_settings,
)
from harness_template_hooks.merge_pyproject import harness_dependencies
from harness_template_hooks.project_survey import survey

# As `uv add` leaves a project: its entries appended, one per line.
TEAM_PYPROJECT = """\
[project]
name = "orders"
dependencies = [
    "fastapi>=0.115",
    "zstandard>=0.23.0",
]

[dependency-groups]
dev = [
    "pytest>=8.3",
    "pytest-cov>=6.0",  # coverage in CI
]

[tool.pytest.ini_options]
testpaths = ["tests"]
markers = ["slow: takes more than a second"]
"""


def sync(text: str, wanted: dict[str, list[str]]) -> tuple[str, list[str]]:
    document = tomlkit.parse(text)
    targets = {
        "runtime": document["project"]["dependencies"],
        "dev": document["dependency-groups"]["dev"],
    }
    changes = sync_requirements(document, targets, wanted)
    return tomlkit.dumps(document), changes


def listed(text: str) -> tuple[list[str], list[str]]:
    document = tomlkit.parse(text).unwrap()
    return document["project"]["dependencies"], document["dependency-groups"]["dev"]


@pytest.mark.quick
def test_missing_requirements_are_appended_and_the_teams_entries_left_alone() -> None:
    text, changes = sync(
        TEAM_PYPROJECT,
        {"runtime": ["fastapi>=0.120", "redis>=5.2"], "dev": ["fakeredis>=2.26"]},
    )

    runtime, dev = listed(text)
    # fastapi is the team's entry (not recorded as the template's): kept as is.
    assert runtime == ["fastapi>=0.115", "zstandard>=0.23.0", "redis>=5.2"]
    assert dev == ["pytest>=8.3", "pytest-cov>=6.0", "fakeredis>=2.26"]
    assert "# coverage in CI" in text
    assert changes == ["added redis>=5.2", "added fakeredis>=2.26"]
    assert tomlkit.parse(text)["tool"]["copier-fastapi-harness"][
        "added-dependencies"
    ].unwrap() == ["redis>=5.2", "fakeredis>=2.26"]
    # Run again: nothing to do.
    assert sync(text, {"runtime": ["redis>=5.2"], "dev": ["fakeredis>=2.26"]}) == (
        text,
        [],
    )


@pytest.mark.quick
def test_only_recorded_entries_are_raised_or_removed() -> None:
    text, _ = sync(
        TEAM_PYPROJECT,
        {"runtime": ["redis>=5.2", "asyncpg>=0.30"], "dev": ["fakeredis>=2.26"]},
    )
    # The team pins asyncpg itself, as `uv add asyncpg==0.30.0` rewrites it.
    text = text.replace('"asyncpg>=0.30"', '"asyncpg==0.30.0"', 1)

    # A release raises redis's floor and asyncpg's; the answers drop fakeredis.
    raised, changes = sync(
        text, {"runtime": ["redis>=6.0", "asyncpg>=0.31"], "dev": []}
    )

    runtime, dev = listed(raised)
    assert runtime == [
        "fastapi>=0.115",
        "zstandard>=0.23.0",
        "redis>=6.0",
        "asyncpg==0.30.0",
    ]
    assert dev == ["pytest>=8.3", "pytest-cov>=6.0"]
    assert changes == ["redis>=5.2 -> redis>=6.0", "removed fakeredis>=2.26"]

    # Turning everything off removes the template's entry, never the team's.
    off, changes = sync(raised, {"runtime": [], "dev": []})

    runtime, _ = listed(off)
    assert runtime == ["fastapi>=0.115", "zstandard>=0.23.0", "asyncpg==0.30.0"]
    assert changes == ["removed redis>=6.0"]
    assert "copier-fastapi-harness" not in off


@pytest.mark.quick
def test_an_entry_of_the_templates_moves_where_the_answers_want_it() -> None:
    async_client = {"needs_async_client": True, "async_runner": "pytest-asyncio"}
    answers = {**_NO_FEATURES, **async_client, "concurrency": True}
    text, _ = sync(TEAM_PYPROJECT, service_requirements(answers))
    assert "httpx>=0.28" in listed(text)[1]

    # outbound_http: the app itself imports httpx.
    moved, changes = sync(
        text, service_requirements({**answers, "outbound_http": True})
    )

    runtime, dev = listed(moved)
    assert "httpx>=0.28" in runtime
    assert "httpx>=0.28" not in dev
    assert "moved httpx>=0.28 to the runtime dependencies" in changes
    # Off again: back among the test dependencies (at the end of the list).
    back, _ = sync(moved, service_requirements(answers))
    assert listed(back)[0] == listed(text)[0]
    assert sorted(listed(back)[1]) == sorted(listed(text)[1])


@pytest.mark.quick
def test_settings_are_set_changed_and_removed_only_while_as_set() -> None:
    document = tomlkit.parse(TEAM_PYPROJECT)
    table = document["tool"]["pytest"]["ini_options"]
    wanted = {"asyncio_mode": "auto", "asyncio_default_test_loop_scope": "session"}

    assert sync_settings(table, document, wanted) == [
        'set asyncio_mode = "auto"',
        'set asyncio_default_test_loop_scope = "session"',
    ]
    table["asyncio_default_test_loop_scope"] = "function"  # the team's choice
    strict = {**wanted, "asyncio_mode": "strict"}
    assert sync_settings(table, document, strict) == ['set asyncio_mode = "strict"']
    assert table["asyncio_default_test_loop_scope"] == "function"

    assert sync_settings(table, document, {}) == ["removed asyncio_mode"]
    assert "asyncio_mode" not in table
    assert table["asyncio_default_test_loop_scope"] == "function"
    assert table["markers"] == ["slow: takes more than a second"]


@pytest.mark.quick
def test_the_table_is_the_one_source_for_both_kinds_of_project() -> None:
    answers = {
        "websockets": True,
        "needs_async_client": True,
        "async_runner": "pytest-asyncio",
        "async_db": "postgresql",
        "cache": "redis",
    }
    service = service_requirements(answers)
    harness = harness_requirements(answers)

    assert set(harness) <= set(service["runtime"] + service["dev"])
    assert "fastapi>=0.133" in service["runtime"]
    assert "fastapi>=0.133" not in harness
    assert {"asyncpg>=0.30", "fakeredis>=2.32.1", "httpx-ws>=0.9"} <= set(harness)
    # Where a project's pins exclude those, the older floors it runs on.
    older = harness_requirements(answers, excluded=lambda spec: True)
    assert {"asyncpg>=0.27", "fakeredis>=2.10", "pytest>=7.2"} <= set(older)
    # httpx-ws 0.9 needs httpx 0.25.1: WebSockets raise httpx's older floor.
    assert "httpx>=0.25.1" in older
    names = [package_name(requirement.spec) for requirement in REQUIREMENTS]
    assert len(names) == len(set(names)), "a package listed twice"
    assert set(ADOPTED_FLOORS) <= set(names), "an adopted floor of no requirement"


@pytest.mark.quick
def test_streaming_raises_fastapis_floor_and_adds_httpx_sse_only_while_on() -> None:
    answers = {**_NO_FEATURES, "needs_async_client": True, "async_runner": "anyio"}

    off = service_requirements(answers)
    on = service_requirements({**answers, "streaming": True})

    # fastapi.sse arrived in FastAPI 0.135.
    assert "fastapi>=0.133" in off["runtime"]
    assert "fastapi>=0.135" in on["runtime"]
    assert "fastapi>=0.133" not in on["runtime"]
    assert "httpx-sse>=0.4" in on["dev"]
    assert not any(package_name(spec) == "httpx-sse" for spec in off["dev"])


@pytest.mark.parametrize("starlette", ["1.10.0", "0.46.2", "0.36.3"])
@pytest.mark.parametrize("answer_set", sorted(ANSWER_SETS))
def test_every_floor_an_adopted_harness_adds_is_the_tables(
    tmp_path: Path, answer_set: str, starlette: str
) -> None:
    # The project's installed Starlette decides httpx2 or plain httpx, and
    # before 0.37 (its TestClient calls httpx.Client(app=...)) httpx below 0.28.
    site = tmp_path / ".venv" / "lib" / "python3.11" / "site-packages"
    (site / f"starlette-{starlette}.dist-info").mkdir(parents=True)
    answers = {**_NO_FEATURES, **ANSWER_SETS[answer_set]}
    answers["needs_async_client"] = "async_client" in harness_fixture_names(answers)
    table = {
        spec
        for requirement in REQUIREMENTS
        for spec in (requirement.spec, requirement.adopted_spec, *requirement.brings)
    }
    app_testclient = starlette == "0.36.3"

    adopted = harness_dependencies(answers, survey(tmp_path))

    assert {spec.removesuffix(",<0.28") for spec in adopted} <= table
    assert len(adopted) == len(set(adopted))
    assert adopted == harness_requirements(
        answers, old_starlette=starlette != "1.10.0", app_testclient=app_testclient
    )
    httpx = [spec for spec in adopted if spec.startswith("httpx>")]
    if starlette == "0.46.2":
        assert httpx == ["httpx>=0.28"]
    if app_testclient:
        assert httpx in (["httpx>=0.23.1,<0.28"], ["httpx>=0.25.1,<0.28"])
    if starlette == "1.10.0":
        assert {"httpx2>=2.16", "starlette>=1.10"} <= set(adopted)
    else:
        assert not {"httpx2>=2.16", "starlette>=1.10"} & set(adopted)


@pytest.mark.quick
@pytest.mark.parametrize("variable", ["database_url_env", "redis_url_env"])
def test_pytest_84_where_the_harness_is_loaded_with_p(variable: str) -> None:
    """With an app that reads its variables at import, `-p tests.harness` loads
    the harness, which pytest finds on `pythonpath` from 8.4 on; otherwise
    tests/conftest.py loads it, and pytest 7.2 does."""
    answers = {**_NO_FEATURES, "needs_async_client": True}

    older = {"excluded": lambda spec: True}

    assert "pytest>=7.2" in harness_requirements(answers, **older)
    assert "pytest>=8.4" in harness_requirements(
        {**answers, variable: "APP_URL"}, **older
    )
