import pytest
from depot.cache import get_redis
from depot.main import app
from fastapi.testclient import TestClient
from httpx import AsyncClient


@pytest.mark.asyncio
async def test_health():
    async with AsyncClient(app=app, base_url="http://test") as client:
        response = await client.get("/health")

    assert response.json() == {"status": "ok"}


@pytest.mark.asyncio
async def test_deliveries_are_counted(fake_redis):
    app.dependency_overrides[get_redis] = lambda: fake_redis
    try:
        async with AsyncClient(app=app, base_url="http://test") as client:
            first = await client.post("/deliveries")
            second = await client.post("/deliveries")
    finally:
        app.dependency_overrides.clear()

    assert [first.json(), second.json()] == [{"delivered": 1}, {"delivered": 2}]


def test_health_through_the_test_client():
    assert TestClient(app).get("/health").json() == {"status": "ok"}
