"""Request validation, with the synchronous `client`: nothing async to share."""

import pytest
from fastapi.testclient import TestClient


def test_hello_greets_by_name(client: TestClient) -> None:
    response = client.get("/hello", params={"name": "Ada"})

    assert response.status_code == 200
    assert response.json() == {"message": "Hello, Ada!"}


@pytest.mark.parametrize(
    "params",
    [{}, {"name": ""}, {"name": "x" * 51}],
    ids=["missing", "empty", "too-long"],
)
def test_hello_rejects_invalid_names(
    client: TestClient, params: dict[str, str]
) -> None:
    response = client.get("/hello", params=params)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "name"]
