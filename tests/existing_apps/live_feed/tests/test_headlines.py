import asyncio

from fastapi.testclient import TestClient
from newsroom.feed import Feed
from newsroom.main import app


def test_a_published_headline_is_listed() -> None:
    with TestClient(app) as client:
        client.post("/headlines", json={"title": "Rain tomorrow"})

        assert client.get("/headlines").json() == ["Rain tomorrow"]


def test_a_follower_gets_the_last_headlines_then_the_new_ones() -> None:
    async def follow() -> list[str | None]:
        feed = Feed()
        feed.publish("old")
        feed.publish("recent")
        follower = feed.follow(replay=1, heartbeat=0.01)
        seen = [await anext(follower)]
        feed.publish("new")
        seen += [await anext(follower), await anext(follower)]
        await follower.aclose()
        assert (feed.listeners, feed.closed) == (set(), 1)
        return seen

    assert asyncio.run(follow()) == ["recent", "new", None]
