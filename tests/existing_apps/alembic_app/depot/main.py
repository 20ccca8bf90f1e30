import os
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from depot.models import Stock

engine = create_async_engine(
    os.environ.get("DATABASE_URL", "postgresql+asyncpg://localhost/depot")
)
Sessions = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with Sessions() as session:
        yield session


app = FastAPI(title="Depot")
Session = Annotated[AsyncSession, Depends(get_session)]


class NewStock(BaseModel):
    sku: str
    quantity: int


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/stock", status_code=201)
async def add_stock(stock: NewStock, session: Session) -> dict[str, int]:
    row = Stock(sku=stock.sku, quantity=stock.quantity)
    session.add(row)
    await session.commit()
    return {"id": row.id}


@app.get("/stock")
async def list_stock(session: Session) -> list[str]:
    return list(await session.scalars(select(Stock.sku).order_by(Stock.sku)))
