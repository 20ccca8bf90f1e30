from fastapi.testclient import TestClient
from shop.app import app


def test_known_item() -> None:
    with TestClient(app) as client:
        assert client.get("/items/2").json() == {"id": 2, "name": "teapot"}


def test_echo_shouts_back() -> None:
    with TestClient(app) as client, client.websocket_connect("/ws/echo") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "HI"
