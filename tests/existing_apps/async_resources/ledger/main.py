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


@app.post("/entries", status_code=201)
async def add_entry(entry: NewEntry, session: Session, cache: Cache) -> dict:
    row = Entry(text=entry.text)
    session.add(row)
    await session.commit()
    count = await cache.incr("entries:count")
    return {"id": row.id, "text": row.text, "count": count}


@app.get("/entries")
async def list_entries(session: Session) -> list[str]:
    return list(await session.scalars(select(Entry.text).order_by(Entry.id)))


@app.websocket("/till")
async def till(websocket: WebSocket, session: Session) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        session.add(Entry(text=text))
        await session.commit()
        size = await session.scalar(select(func.count()).select_from(Entry))
        await websocket.send_json({"recorded": text, "entries": size})
