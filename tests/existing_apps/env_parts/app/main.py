from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import settings
from app.db import Score, get_session

LEADERBOARD = "leaderboard"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The process's one Redis client, on the app for every route to read.
    app.state.redis = Redis(
        host=settings.redis_host,
        port=settings.redis_port,
        db=settings.redis_db,
        decode_responses=True,
    )
    yield
    await app.state.redis.aclose()


app = FastAPI(title="Scoreboard", lifespan=lifespan)
Session = Annotated[AsyncSession, Depends(get_session)]


class NewScore(BaseModel):
    player: str
    points: int


@app.post("/scores", status_code=201)
async def add_score(score: NewScore, session: Session, request: Request) -> dict:
    session.add(Score(player=score.player, points=score.points))
    await session.commit()
    redis: Redis = request.app.state.redis
    total = await redis.zincrby(LEADERBOARD, score.points, score.player)
    return {"player": score.player, "total": int(total)}


@app.get("/scores")
async def list_scores(session: Session) -> list[dict]:
    scores = await session.scalars(select(Score).order_by(Score.id))
    return [{"player": s.player, "points": s.points} for s in scores]


@app.get("/leaderboard")
async def leaderboard(request: Request) -> list[dict]:
    redis: Redis = request.app.state.redis
    ranked = await redis.zrevrange(LEADERBOARD, 0, 9, withscores=True)
    return [{"player": player, "points": int(points)} for player, points in ranked]
