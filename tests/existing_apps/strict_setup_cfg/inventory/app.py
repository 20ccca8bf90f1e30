"""Stock levels; a lock per app keeps concurrent reservations consistent."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.stock = {"kettle": 5}
    app.state.lock = asyncio.Lock()
    yield


app = FastAPI(title="Inventory", lifespan=lifespan)


@app.post("/reserve/{item}")
async def reserve(item: str, request: Request) -> dict[str, int]:
    async with request.app.state.lock:
        left = request.app.state.stock.get(item, 0)
        if left == 0:
            raise HTTPException(status_code=409, detail="out of stock")
        await asyncio.sleep(0.001)
        request.app.state.stock[item] = left - 1
        return {"left": left - 1}
