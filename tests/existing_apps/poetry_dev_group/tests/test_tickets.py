from fastapi.testclient import TestClient
from helpdesk.main import app

client = TestClient(app)


def test_an_opened_ticket_is_open() -> None:
    number = client.post("/tickets", json={"subject": "printer"}).json()["number"]

    ticket = client.get(f"/tickets/{number}").json()
    assert ticket == {"subject": "printer", "open": True}


def test_a_closed_ticket_is_closed() -> None:
    number = client.post("/tickets", json={"subject": "vpn"}).json()["number"]

    assert client.post(f"/tickets/{number}/close").json()["open"] is False
