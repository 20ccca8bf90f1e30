import asyncio

import pytest
import pytest_asyncio
from httpx import AsyncClient
from tally.app import app, votes


class TestAPoll:
    """One client and one event loop for the whole class (pytest-asyncio 0.21)."""

    @pytest.fixture(scope="class")
    def event_loop(self):
        loop = asyncio.new_event_loop()
        yield loop
        loop.close()

    @pytest_asyncio.fixture(scope="class")
    async def client(self):
        votes.clear()
        async with AsyncClient(app=app, base_url="http://test") as client:
            yield client

    async def test_a_vote_is_counted(self, client):
        response = await client.post("/polls/lunch/votes")

        assert response.json() == {"poll": "lunch", "votes": 1}

    async def test_the_count_is_kept_across_the_class(self, client):
        await client.post("/polls/lunch/votes")

        assert (await client.get("/polls/lunch")).json()["votes"] == 2


async def test_an_unknown_poll_has_no_votes():
    async with AsyncClient(app=app, base_url="http://test") as client:
        response = await client.get("/polls/nothing")

    assert response.json() == {"poll": "nothing", "votes": 0}
