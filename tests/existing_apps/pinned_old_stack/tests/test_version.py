from fastapi.testclient import TestClient
from svc.main import app


def test_version():
    assert TestClient(app).get("/version").json() == {"version": "1"}
