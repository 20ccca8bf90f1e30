import httpx
from journal.main import app


async def test_an_entry_is_listed_under_its_day() -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await client.post("/entries", json={"day": "2024-05-01", "text": "rain"})

        listed = (await client.get("/entries/2024-05-01")).json()

    assert {"day": "2024-05-01", "text": "rain"} in listed


async def test_a_day_without_entries() -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/entries/1999-01-01")).json() == []
