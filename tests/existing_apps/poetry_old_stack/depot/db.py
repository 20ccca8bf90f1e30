"""The database, as SQLAlchemy 1.4's asyncio documentation set it up: the engine
opened at startup, a session per request."""

import os
from collections.abc import AsyncIterator

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker


def database_url() -> str:
    return os.environ.get(
        "DEPOT_DATABASE_URL", "postgresql+asyncpg://depot@localhost/depot"
    )


def open_database(app) -> None:
    app.state.engine = create_async_engine(database_url())
    app.state.async_session = sessionmaker(
        app.state.engine, class_=AsyncSession, expire_on_commit=False
    )


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.async_session() as session:
        yield session
