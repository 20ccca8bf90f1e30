"""Votes counted in memory, per poll."""

import asyncio
from collections import Counter

from fastapi import FastAPI

app = FastAPI(title="Tally")
votes: Counter = Counter()
lock = asyncio.Lock()


@app.post("/polls/{poll}/votes")
async def vote(poll: str) -> dict:
    async with lock:
        votes[poll] += 1
        await asyncio.sleep(0)
        return {"poll": poll, "votes": votes[poll]}


@app.get("/polls/{poll}")
async def read(poll: str) -> dict:
    return {"poll": poll, "votes": votes[poll]}
