"""The database: an engine per app, a session per request (`get_db`)."""

import os
from collections.abc import AsyncIterator

from fastapi.requests import HTTPConnection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from ledger.models import Model


def database_url() -> str:
    return os.environ.get("LEDGER_DATABASE_URL", "sqlite+aiosqlite:///./ledger.db")


async def open_database(app) -> None:
    app.state.engine = create_async_engine(database_url())
    async with app.state.engine.begin() as connection:
        await connection.run_sync(Model.metadata.create_all)
    app.state.sessions = async_sessionmaker(app.state.engine, expire_on_commit=False)


async def get_db(connection: HTTPConnection) -> AsyncIterator[AsyncSession]:
    # HTTPConnection, not Request: the WebSocket routes get a session too.
    async with connection.app.state.sessions() as session:
        yield session
