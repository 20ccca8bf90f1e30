"""Redis: one client per app, handed out by `get_redis`."""

import os

from fastapi import Request
from redis.asyncio import Redis


def open_redis() -> Redis:
    return Redis.from_url(
        os.environ.get("LEDGER_REDIS_URL", "redis://localhost:6379/0"),
        decode_responses=True,
    )


def get_redis(request: Request) -> Redis:
    return request.app.state.redis
