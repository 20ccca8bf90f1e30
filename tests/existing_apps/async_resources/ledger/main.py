"""The ledger app: entries are stored in the database and counted in Redis.

A till records entries over a WebSocket, one message each, and is told the
ledger's size after each.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, WebSocket
from pydantic import BaseModel
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.cache import get_redis, open_redis
from ledger.db import get_db, open_database
from ledger.models import Entry


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await open_database(app)
    app.state.redis = open_redis()
    yield
    await app.state.redis.aclose()
    await app.state.engine.dispose()


app = FastAPI(title="Ledger", lifespan=lifespan)

Session = Annotated[AsyncSession, Depends(get_db)]
Cache = Annotated[Redis, Depends(get_redis)]


class NewEntry(BaseModel):
    text: str


class Ledger:
    """The ledger as the routes keep it: entries in the database, their count
    in Redis."""

    def __init__(self, session: Session, cache: Cache) -> None:
        self.session = session
        self.cache = cache

    async def record(self, text: str) -> dict:
        entry = Entry(text=text)
        self.session.add(entry)
        await self.session.commit()
        count = await self.cache.incr("entries:count")
        return {"id": entry.id, "text": entry.text, "count": count}

    async def texts(self) -> list[str]:
        query = select(Entry.text).order_by(Entry.id)
        return list(await self.session.scalars(query))


@app.post("/entries", status_code=201)
async def add_entry(entry: NewEntry, ledger: Annotated[Ledger, Depends()]) -> dict:
    return await ledger.record(entry.text)


@app.get("/entries")
async def list_entries(ledger: Annotated[Ledger, Depends()]) -> list[str]:
    return await ledger.texts()


@app.websocket("/till")
async def till(websocket: WebSocket, session: Session) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        session.add(Entry(text=text))
        await session.flush()
        size = await session.scalar(select(func.count()).select_from(Entry))
        # Committed before the reply: no connection is held while the till
        # waits for its next message.
        await session.commit()
        await websocket.send_json({"recorded": text, "entries": size})
