"""The database as SQLAlchemy 1.4's asyncio documentation set it up, kept
through the upgrade to 2.0: a `sessionmaker` of AsyncSessions, a
`declarative_base()`, models of `Column`s."""

from collections.abc import AsyncIterator

from sqlalchemy import BigInteger, Column, Integer, String
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import declarative_base, sessionmaker

from app.config import settings

engine = create_async_engine(settings.database_url, pool_size=5, max_overflow=20)
async_session = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

Base = declarative_base()


class Score(Base):
    __tablename__ = "scores"

    id = Column(Integer, primary_key=True)
    player = Column(String, nullable=False)
    points = Column(BigInteger, nullable=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    session = async_session()
    try:
        yield session
    finally:
        await session.close()
