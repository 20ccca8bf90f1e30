"""One Redis client for the process, built when the module is imported."""

from redis.asyncio import Redis, from_url

from app.config import get_settings

redis: Redis = from_url(get_settings().redis_url, decode_responses=True)


def get_redis() -> Redis:
    return redis
