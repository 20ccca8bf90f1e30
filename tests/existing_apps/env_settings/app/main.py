from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cache import get_redis, redis
from app.config import Settings, get_settings
from app.db import engine, get_db
from app.models import Link


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Fails at startup when the database, or its links table, is missing.
    async with engine.connect() as connection:
        await connection.execute(select(Link.code).limit(1))
    yield
    await redis.aclose()
    await engine.dispose()


app = FastAPI(title="Shortlinks", lifespan=lifespan)
Session = Annotated[AsyncSession, Depends(get_db)]
Cache = Annotated[Redis, Depends(get_redis)]
Config = Annotated[Settings, Depends(get_settings)]


class NewLink(BaseModel):
    code: str
    target: str


@app.post("/links", status_code=201)
async def add_link(link: NewLink, session: Session) -> NewLink:
    session.add(Link(code=link.code, target=link.target))
    return link


@app.get("/links/{code}")
async def resolve(
    code: str, session: Session, cache: Cache, settings: Config
) -> dict[str, object]:
    """The link's target, from the cache when a recent request put it there."""
    target = await cache.get(f"link:{code}")
    cached = target is not None
    if not cached:
        link = await session.get(Link, code)
        if link is None:
            raise HTTPException(status_code=404, detail="no such link")
        target = link.target
        await cache.set(f"link:{code}", target, ex=settings.link_cache_seconds)
    visits = await cache.incr(f"visits:{code}")
    return {"target": target, "cached": cached, "visits": visits}


@app.post("/links/{code}/visits")
async def count_visit(code: str, cache: Cache) -> dict[str, int]:
    return {"visits": await cache.incr(f"visits:{code}")}


@app.get("/links/{code}/visits")
async def visits(code: str, cache: Cache) -> dict[str, int]:
    return {"visits": int(await cache.get(f"visits:{code}") or 0)}
