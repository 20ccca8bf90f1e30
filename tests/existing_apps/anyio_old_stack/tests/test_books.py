import pytest
from httpx import AsyncClient
from shelf.main import app


@pytest.mark.anyio
async def test_a_book_is_read():
    async with AsyncClient(app=app, base_url="http://test") as client:
        response = await client.get("/books/1")

    assert response.json() == {"id": 1, "title": "Dune"}


@pytest.mark.anyio
async def test_an_unknown_book_is_404():
    async with AsyncClient(app=app, base_url="http://test") as client:
        response = await client.get("/books/9")

    assert response.status_code == 404
