"""The engine and the session each request gets, committed when it succeeds."""

import os
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql+asyncpg://localhost/depot")

# pre_ping: the depot's database restarts for maintenance every night.
engine = create_async_engine(DATABASE_URL, pool_pre_ping=True)
Sessions = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with Sessions() as session:
        yield session
        # Not reached when the route raises: closing the session rolls back.
        await session.commit()
