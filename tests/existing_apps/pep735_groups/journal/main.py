"""A journal of entries, kept in memory."""

from datetime import date

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI(title="Journal")


class Entry(BaseModel):
    day: date
    text: str


ENTRIES: list[Entry] = []


@app.post("/entries", status_code=201)
async def add_entry(entry: Entry) -> dict[str, int]:
    ENTRIES.append(entry)
    return {"count": len(ENTRIES)}


@app.get("/entries/{day}")
async def entries_of(day: date) -> list[Entry]:
    return [entry for entry in ENTRIES if entry.day == day]
