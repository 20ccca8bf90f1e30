import pytest_asyncio
from httpx import ASGITransport, AsyncClient
from inventory.app import app, lifespan


@pytest_asyncio.fixture
async def api():
    async with (
        lifespan(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client
