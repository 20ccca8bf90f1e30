from app import app
from fastapi.testclient import TestClient


def test_status_is_up():
    assert TestClient(app).get("/status").json() == {"status": "up"}
