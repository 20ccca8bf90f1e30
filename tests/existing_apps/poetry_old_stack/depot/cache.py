"""Redis (redis-py 4.5): one connection pool per app, opened at startup, and a
client on it for each request."""

import os

from fastapi import Request
from redis.asyncio import ConnectionPool, Redis


def open_pool() -> ConnectionPool:
    url = os.environ.get("DEPOT_REDIS_URL", "redis://localhost:6379/0")
    return ConnectionPool.from_url(url, decode_responses=True)


def get_redis(request: Request) -> Redis:
    return Redis(connection_pool=request.app.state.redis_pool)
