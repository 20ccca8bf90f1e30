"""The database: the engine opened by the lifespan, a session per request."""

import os
from collections.abc import AsyncIterator

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine


def database_url() -> str:
    return os.environ.get(
        "DEPOT_DATABASE_URL", "postgresql+asyncpg://depot@localhost/depot"
    )


def open_database(app) -> None:
    app.state.engine = create_async_engine(database_url())
    app.state.sessions = async_sessionmaker(app.state.engine, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session
