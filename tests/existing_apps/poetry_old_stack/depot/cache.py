"""Redis (redis-py 4.5): one client per app, opened by the lifespan."""

import os

from fastapi import Request
from redis.asyncio import Redis


def open_redis() -> Redis:
    return Redis.from_url(
        os.environ.get("DEPOT_REDIS_URL", "redis://localhost:6379/0"),
        decode_responses=True,
    )


def get_redis(request: Request) -> Redis:
    return request.app.state.redis
