from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pantry.db import Jar, Sessions, engine


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.sessionmaker = Sessions
    yield
    await engine.dispose()


app = FastAPI(title="Pantry", lifespan=lifespan)


async def get_sessionmaker(request: Request):
    yield request.app.state.sessionmaker


Factory = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]


async def get_session(factory: Factory) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]


class NewJar(BaseModel):
    name: str
    count: int = 0


class Restock(BaseModel):
    id: int
    add: int


@app.post("/jars", status_code=201)
async def stock(new: NewJar, factory: Factory) -> dict[str, object]:
    async with factory.begin() as session:
        jar = Jar(name=new.name, count=new.count)
        session.add(jar)
    return asdict(jar)


@app.get("/jars")
async def shelf(factory: Factory) -> list[dict[str, object]]:
    async with factory() as session:
        jars = await session.scalars(select(Jar).order_by(Jar.name, Jar.id))
        return [asdict(jar) for jar in jars]


@app.get("/jars/{jar_id}")
async def jar(jar_id: int, session: Session) -> dict[str, object]:
    found = await session.get(Jar, jar_id)
    if found is None:
        raise HTTPException(status_code=404, detail="no such jar")
    return asdict(found)


@app.post("/jars/{jar_id}/take")
async def take(jar_id: int, factory: Factory) -> dict[str, object]:
    async with factory() as session:
        jar = await session.get(Jar, jar_id, with_for_update=True)
        if jar is None:
            raise HTTPException(status_code=404, detail="no such jar")
        if jar.count == 0:
            raise HTTPException(status_code=409, detail="the jar is empty")
        jar.count -= 1
        await session.commit()
        return asdict(jar)


@app.post("/restock")
async def restock(deliveries: list[Restock], factory: Factory) -> dict[str, int]:
    """All or nothing: an unknown jar leaves every count as it was."""
    async with factory.begin() as session:
        for delivery in deliveries:
            jar = await session.get(Jar, delivery.id, with_for_update=True)
            if jar is None:
                raise HTTPException(status_code=404, detail=f"no jar {delivery.id}")
            jar.count += delivery.add
    return {"restocked": len(deliveries)}
