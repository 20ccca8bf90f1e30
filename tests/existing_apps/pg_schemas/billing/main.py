import os
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from billing.models import Customer, Invoice

engine = create_async_engine(
    os.environ.get("DATABASE_URL", "postgresql+asyncpg://localhost/billing")
)
Sessions = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    # One transaction a request: committed when the route returns, rolled
    # back when it raises. Routes flush; they never commit.
    async with Sessions.begin() as session:
        yield session


app = FastAPI(title="Billing")
Session = Annotated[AsyncSession, Depends(get_session)]


class NewInvoice(BaseModel):
    customer: str
    cents: int


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/invoices", status_code=201)
async def add_invoice(invoice: NewInvoice, session: Session) -> dict[str, int]:
    customer = Customer(name=invoice.customer)
    session.add(customer)
    await session.flush()
    row = Invoice(customer_id=customer.id, cents=invoice.cents)
    session.add(row)
    await session.flush()
    return {"id": row.id}


@app.get("/customers/{name}/total")
async def total(name: str, session: Session) -> dict[str, int]:
    cents = await session.scalar(
        select(func.coalesce(func.sum(Invoice.cents), 0))
        .join(Customer)
        .where(Customer.name == name)
    )
    return {"cents": cents}
