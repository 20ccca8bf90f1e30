"""Redis, opened by the lifespan from REDIS_URL and kept on the app."""

import os

from fastapi import Request
from redis.asyncio import Redis


def open_redis() -> Redis:
    return Redis.from_url(
        os.environ.get("REDIS_URL", "redis://localhost:6379/0"), decode_responses=True
    )


def get_redis(request: Request) -> Redis:
    return request.app.state.redis
