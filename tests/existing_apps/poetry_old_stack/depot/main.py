"""The depot: parcels are stored in PostgreSQL, deliveries counted in Redis."""

from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from depot.cache import get_redis, open_pool
from depot.db import get_session, open_database
from depot.models import Parcel

app = FastAPI(title="Depot")


@app.on_event("startup")
async def connect() -> None:
    open_database(app)
    app.state.redis_pool = open_pool()


@app.on_event("shutdown")
async def disconnect() -> None:
    await app.state.redis_pool.disconnect()
    await app.state.engine.dispose()


# FastAPI 0.95 is the first to take dependencies in Annotated.
Session = Annotated[AsyncSession, Depends(get_session)]
Cache = Annotated[Redis, Depends(get_redis)]


class NewParcel(BaseModel):
    label: str


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.post("/parcels", status_code=201)
async def add_parcel(parcel: NewParcel, session: Session, redis: Cache) -> dict:
    row = Parcel(label=parcel.label)
    session.add(row)
    await session.commit()
    count = await redis.incr("parcels:count")
    return {"id": row.id, "label": row.label, "count": count}


@app.get("/parcels")
async def list_parcels(session: Session) -> list[str]:
    result = await session.execute(select(Parcel.label).order_by(Parcel.id))
    return result.scalars().all()


@app.post("/deliveries")
async def deliver(redis: Cache) -> dict:
    return {"delivered": await redis.incr("deliveries")}
