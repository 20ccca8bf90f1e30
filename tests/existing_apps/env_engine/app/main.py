from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict
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
SessionDep = Annotated[AsyncSession, Depends(get_db)]


class ItemCreate(BaseModel):
    name: str


class ItemPublic(ItemCreate):
    model_config = ConfigDict(from_attributes=True)

    id: int


@app.get("/items")
async def read_item_names(session: SessionDep) -> list[str]:
    return list(await session.scalars(select(Item.name).order_by(Item.id)))


@app.post("/items", status_code=201, response_model=ItemPublic)
async def create_item(item: ItemCreate, session: SessionDep) -> Item:
    db_item = Item(**item.model_dump())
    session.add(db_item)
    await session.commit()
    return db_item


@app.get("/items/{item_id}", response_model=ItemPublic)
async def read_item(item_id: int, session: SessionDep) -> Item:
    db_item = await session.get(Item, item_id)
    if db_item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return db_item


@app.websocket("/ws/items")
async def items_feed(websocket: WebSocket, session: SessionDep) -> None:
    """Each message adds an item; the answer is how many there are now."""
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive_json()
            session.add(Item(name=message["add"]))
            await session.flush()
            count = await session.scalar(select(func.count()).select_from(Item))
            await session.commit()  # holds no connection between messages
            await websocket.send_json({"count": count})
    except WebSocketDisconnect:
        pass
