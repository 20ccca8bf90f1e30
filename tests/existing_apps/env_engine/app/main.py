from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, WebSocket, WebSocketDisconnect
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Item, SessionLocal, get_db


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Fails at startup when the database (or its schema) is missing.
    async with SessionLocal() as session:
        app.state.items_at_startup = await session.scalar(
            select(func.count()).select_from(Item)
        )
    yield


app = FastAPI(title="Stockroom", lifespan=lifespan)
Session = Annotated[AsyncSession, Depends(get_db)]


class NewItem(BaseModel):
    name: str


@app.post("/items", status_code=201)
async def add_item(item: NewItem, session: Session) -> dict[str, object]:
    row = Item(name=item.name)
    session.add(row)
    await session.commit()
    return {"id": row.id, "name": row.name}


@app.get("/items")
async def list_items(session: Session) -> list[str]:
    return list(await session.scalars(select(Item.name).order_by(Item.id)))


@app.get("/items/{item_id}")
async def read_item(item_id: int, session: Session) -> dict[str, object]:
    row = await session.get(Item, item_id)
    if row is None:
        raise HTTPException(status_code=404, detail="no such item")
    return {"id": row.id, "name": row.name}


@app.websocket("/ws/items")
async def items_feed(websocket: WebSocket, session: Session) -> None:
    """Each message adds an item; the answer is how many there are now."""
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive_json()
            session.add(Item(name=message["add"]))
            await session.commit()
            count = await session.scalar(select(func.count()).select_from(Item))
            await websocket.send_json({"count": count})
    except WebSocketDisconnect:
        pass
