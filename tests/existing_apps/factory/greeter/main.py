"""An app factory whose lifespan prepares what the routes use: the greeting,
and the Redis client that counts each name's visits."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from redis.asyncio import Redis


def get_redis(request: Request) -> Redis:
    return request.app.state.redis


def create_app(greeting: str = "Hello") -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.greeting = greeting
        app.state.redis = Redis.from_url(
            os.environ.get("GREETER_REDIS_URL", "redis://localhost:6379/0"),
            decode_responses=True,
        )
        yield
        await app.state.redis.aclose()
        del app.state.greeting

    app = FastAPI(title="Greeter", lifespan=lifespan)

    @app.get("/greet/{name}")
    async def greet(
        name: str, request: Request, visits: Annotated[Redis, Depends(get_redis)]
    ) -> dict[str, object]:
        count = await visits.incr(f"visits:{name}")
        return {"message": f"{request.app.state.greeting}, {name}!", "visits": count}

    return app
