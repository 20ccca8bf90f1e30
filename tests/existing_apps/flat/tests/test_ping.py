from fastapi.testclient import TestClient
from main import app


def test_ping() -> None:
    with TestClient(app) as client:
        assert client.get("/ping").json() == {"pong": "ok"}
