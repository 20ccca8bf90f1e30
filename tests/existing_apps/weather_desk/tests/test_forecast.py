import httpx
from fastapi.testclient import TestClient
from forecasts.main import app, get_http


def fake_services(request: httpx.Request) -> httpx.Response:
    if request.url.host == "maps.example":
        if request.url.params["q"] == "atlantis":
            return httpx.Response(404)
        return httpx.Response(200, json={"lat": 48.85, "lon": 2.35})
    return httpx.Response(200, json={"summary": "sunny"})


def test_a_forecast_for_a_known_city() -> None:
    app.dependency_overrides[get_http] = lambda: httpx.AsyncClient(
        transport=httpx.MockTransport(fake_services)
    )
    try:
        with TestClient(app) as client:
            response = client.get("/forecast/paris")
    finally:
        app.dependency_overrides.clear()

    assert response.json() == {"city": "paris", "summary": "sunny"}


def test_health() -> None:
    with TestClient(app) as client:
        assert client.get("/health").json() == {"status": "ok"}
