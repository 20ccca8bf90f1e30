"""The models, dataclasses mapped to their tables; the engine and its session
factory, built when the module is imported, from DATABASE_URL. Routes open
their own sessions from the factory."""

import os

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedAsDataclass, mapped_column


class Base(MappedAsDataclass, DeclarativeBase):
    pass


class Jar(Base):
    __tablename__ = "jars"

    # Given by the database on insert: never passed to Jar(...).
    id: Mapped[int] = mapped_column(init=False, primary_key=True)
    name: Mapped[str]
    count: Mapped[int] = mapped_column(default=0)


engine = create_async_engine(os.environ["DATABASE_URL"])
Sessions = async_sessionmaker(engine, expire_on_commit=False)
