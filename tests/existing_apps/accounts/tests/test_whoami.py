from accounts.main import Account, app, make_token
from fastapi.testclient import TestClient


def test_whoami_needs_a_token() -> None:
    with TestClient(app) as client:
        assert client.get("/whoami").status_code == 401
        token = make_token(Account("ada"))
        response = client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
        assert response.json() == {"name": "ada"}
