import pytest
from fastapi.testclient import TestClient
from notes.api import app


def test_a_note_can_be_read_back() -> None:
    with TestClient(app) as client:
        created = client.post("/notes", json={"text": "buy milk"}).json()
        assert client.get(f"/notes/{created['id']}").json()["text"] == "buy milk"


def test_an_unknown_note_is_404() -> None:
    with TestClient(app) as client:
        assert client.get("/notes/999").status_code == 404


@pytest.mark.slow
def test_many_notes() -> None:
    with TestClient(app) as client:
        for number in range(20):
            assert client.post("/notes", json={"text": str(number)}).status_code == 201
