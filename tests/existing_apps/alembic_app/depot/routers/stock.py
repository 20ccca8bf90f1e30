from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from depot.database import get_session
from depot.models import Stock

router = APIRouter(prefix="/stock", tags=["stock"])


class NewStock(BaseModel):
    sku: str
    quantity: int


@router.post("", status_code=201)
async def add_stock(
    stock: NewStock, session: Annotated[AsyncSession, Depends(get_session)]
) -> dict[str, int]:
    row = Stock(sku=stock.sku, quantity=stock.quantity)
    session.add(row)
    # get_session commits once the request has succeeded; the id comes now.
    await session.flush()
    return {"id": row.id}


@router.get("")
async def list_stock(
    session: Annotated[AsyncSession, Depends(get_session)],
) -> list[str]:
    return list(await session.scalars(select(Stock.sku).order_by(Stock.sku)))
