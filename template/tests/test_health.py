"""Smoke tests: the app starts, its lifespan runs, and it answers."""

from fastapi.testclient import TestClient


def test_health_reports_ok_once_lifespan_has_started(client: TestClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_route_is_404(client: TestClient) -> None:
    assert client.get("/no-such-route").status_code == 404
