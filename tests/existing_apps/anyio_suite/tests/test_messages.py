import asyncio

import pytest
from chat.main import MESSAGES, app
from httpx import ASGITransport, AsyncClient

pytestmark = pytest.mark.anyio


@pytest.fixture
async def api():
    MESSAGES.clear()
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield client


async def test_a_posted_message_is_listed(api):
    response = await api.post("/messages", json={"text": "hi"})

    assert response.status_code == 201
    assert (await api.get("/messages")).json() == ["hi"]


async def test_messages_posted_at_once_are_all_kept(api):
    await asyncio.gather(
        *(api.post("/messages", json={"text": str(n)}) for n in range(10))
    )

    assert len((await api.get("/messages")).json()) == 10


async def test_an_empty_room(api):
    assert (await api.get("/messages")).json() == []


def test_the_app_has_a_title():
    assert app.title == "Chat"
