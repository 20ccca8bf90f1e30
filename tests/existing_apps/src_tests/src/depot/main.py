"""The depot: parcels are stored in the database, their scans counted in Redis."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from depot.cache import get_redis, open_redis
from depot.db import get_db
from depot.models import Parcel


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.redis = open_redis()
    yield
    await app.state.redis.aclose()


app = FastAPI(title="Depot", lifespan=lifespan)

Session = Annotated[AsyncSession, Depends(get_db)]
Cache = Annotated[Redis, Depends(get_redis)]


class NewParcel(BaseModel):
    label: str


@app.post("/parcels", status_code=201)
async def add_parcel(parcel: NewParcel, session: Session) -> dict:
    row = Parcel(label=parcel.label)
    session.add(row)
    await session.commit()
    return {"id": row.id, "label": row.label}


@app.get("/parcels")
async def list_parcels(session: Session) -> list[str]:
    return list(await session.scalars(select(Parcel.label).order_by(Parcel.id)))


@app.post("/parcels/{parcel_id}/scans")
async def scan(parcel_id: int, cache: Cache) -> dict:
    return {"scans": await cache.incr(f"scans:{parcel_id}")}


@app.get("/parcels/{parcel_id}/scans")
async def scans(parcel_id: int, cache: Cache) -> dict:
    return {"scans": int(await cache.get(f"scans:{parcel_id}") or 0)}
