"""Books on a shelf, kept in memory."""

import anyio
from fastapi import FastAPI, HTTPException

app = FastAPI(title="Shelf")
books: dict[int, str] = {1: "Dune"}


@app.get("/books/{book_id}")
async def read_book(book_id: int) -> dict:
    await anyio.sleep(0)
    if book_id not in books:
        raise HTTPException(status_code=404)
    return {"id": book_id, "title": books[book_id]}
