"""The depot: parcels are stored in the database, their scans counted in Redis."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict
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


class NewParcel(BaseModel):
    label: str


class ParcelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    label: str


@app.post("/parcels", status_code=201, response_model=ParcelOut)
async def add_parcel(parcel: NewParcel, session: AsyncSession = Depends(get_db)):
    row = Parcel(label=parcel.label)
    session.add(row)
    await session.commit()
    return row


@app.get("/parcels", response_model=list[str])
async def list_parcels(session: AsyncSession = Depends(get_db)):
    return list(await session.scalars(select(Parcel.label).order_by(Parcel.id)))


@app.post("/parcels/{parcel_id}/scans")
async def scan(parcel_id: int, cache: Redis = Depends(get_redis)) -> dict:
    return {"scans": await cache.incr(f"scans:{parcel_id}")}


@app.get("/parcels/{parcel_id}/scans")
async def scans(parcel_id: int, cache: Redis = Depends(get_redis)) -> dict:
    return {"scans": int(await cache.get(f"scans:{parcel_id}") or 0)}
