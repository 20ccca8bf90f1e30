import time

from fastapi.testclient import TestClient
from reports.main import app


def test_an_ordered_report_is_ready_soon() -> None:
    with TestClient(app) as client:
        number = client.post("/reports").json()["number"]
        assert client.get(f"/reports/{number}").json() == {"status": "building"}
        # The team's way before the harness: poll.
        deadline = time.monotonic() + 2
        while client.get(f"/reports/{number}").json()["status"] != "ready":
            assert time.monotonic() < deadline
            time.sleep(0.01)


def test_an_unknown_report_is_404() -> None:
    with TestClient(app) as client:
        assert client.get("/reports/99").status_code == 404
