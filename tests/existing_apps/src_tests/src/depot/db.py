"""The engine, built when imported from DEPOT_DATABASE_URL; a session per request."""

import os
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

engine = create_async_engine(
    os.environ.get("DEPOT_DATABASE_URL", "sqlite+aiosqlite:///./depot.db")
)
Sessions = async_sessionmaker(engine, expire_on_commit=False)


async def get_db() -> AsyncIterator[AsyncSession]:
    async with Sessions() as session:
        yield session
