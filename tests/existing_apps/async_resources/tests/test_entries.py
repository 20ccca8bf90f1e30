from fastapi.testclient import TestClient
from ledger.cache import get_redis
from ledger.main import app


def test_added_entry_is_listed_and_counted(fake_redis_factory) -> None:
    app.dependency_overrides[get_redis] = fake_redis_factory
    try:
        with TestClient(app) as client:
            added = client.post("/entries", json={"text": "rent"})
            listed = client.get("/entries")
    finally:
        app.dependency_overrides.clear()

    assert added.status_code == 201
    assert added.json()["count"] == 1
    assert "rent" in listed.json()


def test_the_till_records_each_message() -> None:
    with TestClient(app) as client, client.websocket_connect("/till") as till:
        till.send_text("coffee")
        first = till.receive_json()
        till.send_text("cake")
        second = till.receive_json()

    assert first["recorded"] == "coffee"
    assert second["entries"] == first["entries"] + 1
