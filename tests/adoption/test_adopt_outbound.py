"""Adopting the harness, with `outbound_http=true`, into a project whose app
calls other services through an httpx.AsyncClient it keeps
(tests/existing_apps/weather_desk: opened by the lifespan, kept on
`app.state`, handed to routes by a dependency).

One adoption: the project's own suite (which mocks with httpx.MockTransport
through a dependency override) passes as before; the team's tests answer the
app's calls with `outbound` through `client` and `async_client`; a test that
forgot to mock a call fails naming its URL, through either client, and the
service that URL names, a socket listening on this machine, is never
connected to.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from adoption import AdoptedApp as Adopted
from adoption import adopt_app
from harness_template_hooks import adoption_fit, project_survey
from rendering import (
    EXISTING_APPS,
    outcome_counts,
    read_answers,
    run_suite,
    suite_environment,
)

WEATHER_DESK = EXISTING_APPS / "weather_desk"

TEAM_TESTS = """\
import httpx
import pytest
from fastapi.testclient import TestClient

from forecasts.settings import Settings

MAPS = Settings().geocoder_url
WEATHER = Settings().weather_url + "/forecast"


def test_a_forecast_through_client(client: TestClient, outbound) -> None:
    outbound.get(MAPS).respond(json={"lat": 59.9, "lon": 10.7})
    weather = outbound.get(WEATHER).respond(json={"summary": "rain"})

    response = client.get("/forecast/oslo")

    assert response.json() == {"city": "oslo", "summary": "rain"}
    assert weather.calls.last.request.url.params["lat"] == "59.9"


@pytest.mark.asyncio(loop_scope="session")
async def test_a_forecast_through_async_client(
    async_client: httpx.AsyncClient, outbound
) -> None:
    outbound.get(MAPS).respond(json={"lat": 41.9, "lon": 12.5})
    outbound.get(WEATHER).respond(json={"summary": "sunny"})

    response = await async_client.get("/forecast/rome")

    assert response.json() == {"city": "rome", "summary": "sunny"}


def test_an_unknown_city_is_404(client: TestClient, outbound) -> None:
    outbound.get(MAPS).respond(404)

    assert client.get("/forecast/atlantis").status_code == 404
"""
# Tests that forget to mock the weather service: each must fail, naming it.
FORGOTTEN = """\
import httpx
import pytest
from fastapi.testclient import TestClient

from forecasts.settings import Settings


def test_forgot_the_weather_through_client(client: TestClient, outbound) -> None:
    outbound.get(Settings().geocoder_url).respond(json={"lat": 1.5, "lon": 2.5})

    client.get("/forecast/nowhere")


@pytest.mark.asyncio(loop_scope="session")
async def test_forgot_the_weather_through_async_client(
    async_client: httpx.AsyncClient, outbound
) -> None:
    outbound.get(Settings().geocoder_url).respond(json={"lat": 1.5, "lon": 2.5})

    await async_client.get("/forecast/nowhere")
"""
TEAM_TEST_COUNT = 3
FORGOTTEN_COUNT = 2
SMOKE_TESTS = 2


@pytest.fixture(scope="module")
def adopted(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Adopted:
    """The weather desk's own suite, then the harness adopted with outbound_http."""
    project = tmp_path_factory.mktemp("weather-desk") / "project"
    answers = {"app_import": "forecasts.main:app", "outbound_http": True}
    adopted = adopt_app(template, WEATHER_DESK, project, answers)
    (project / "tests/test_forecast_with_the_harness.py").write_text(TEAM_TESTS)
    (project / "tests/test_forgotten_mocks.py").write_text(FORGOTTEN)
    return adopted


@pytest.fixture
def weather_service() -> Iterator[socket.socket]:
    """A service listening on this machine that no test may reach."""
    with socket.create_server(("127.0.0.1", 0)) as listening:
        listening.setblocking(False)
        yield listening


def test_adopting_asks_for_outbound_http_and_declares_respx(adopted: Adopted) -> None:
    answers = read_answers(adopted.project)
    assert answers["scaffold"] == "adopt"
    assert answers["outbound_http"] is True
    assert '"respx>=' in (adopted.project / "pyproject.toml").read_text()


def test_mocked_calls_pass_and_unmocked_ones_fail_naming_the_url_locally(
    adopted: Adopted, weather_service: socket.socket
) -> None:
    port = weather_service.getsockname()[1]
    weather = f"http://127.0.0.1:{port}/v1"
    environment = suite_environment(adopted.project, FORECASTS_WEATHER_URL=weather)

    result = run_suite(adopted.project, "-p", "no:xdist", "-v", env=environment)

    output = result.stdout + result.stderr
    passed = adopted.own_counts["passed"] + SMOKE_TESTS + TEAM_TEST_COUNT
    # Each fails where the app raised, and again after it (a call the app
    # caught would fail there only).
    assert outcome_counts(result.stdout) == {
        "passed": passed,
        "failed": FORGOTTEN_COUNT,
        "errors": FORGOTTEN_COUNT,
    }, output
    for name in ("client", "async_client"):
        assert f"test_forgot_the_weather_through_{name} FAILED" in output, output
    unmocked = (
        f"outbound call nobody mocked: GET {weather}/forecast?lat=1.5&lon=2.5 "
        "(it never left the machine)"
    )
    assert output.count(unmocked) >= FORGOTTEN_COUNT, output
    # Nothing ever connected to the service the URL names.
    with pytest.raises(BlockingIOError):
        weather_service.accept()


def test_a_project_with_its_own_outbound_fixture_gets_the_prefix(
    tmp_path: Path,
) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "conftest.py").write_text(
        "import pytest\n\n\n@pytest.fixture\ndef outbound():\n    return []\n"
    )
    survey = project_survey.survey(tmp_path)

    assert (
        adoption_fit.fitting(survey, "fixture_prefix", {"outbound_http": False}) == ""
    )
    assert (
        adoption_fit.fitting(survey, "fixture_prefix", {"outbound_http": True})
        == "harness_"
    )
