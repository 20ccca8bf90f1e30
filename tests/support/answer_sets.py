"""Curated answer sets: every answer value in at least one set, every pair of
async features (and auth with each of them) together at least once, and the
all-features set.

The test `test_answer_sets_cover_every_value_and_pair` keeps this claim true as
questions are added.
"""

from collections.abc import Mapping
from typing import Any

import pytest

ASYNC_FEATURES = {
    "websockets": True,
    "concurrency": True,
    "async_db": ("sqlite", "postgresql"),
    "cache": ("redis",),
}
# Asked only with a database: each is on in a set beside every async feature
# and each database.
DATABASE_OPTIONS = ("factories", "migrations")
# Features that need no async client, each paired with every async one too.
PAIRED_FEATURES = {**ASYNC_FEATURES, "auth": ("bearer",)}

ANSWER_SETS: dict[str, dict[str, object]] = {
    "default": {},
    "websockets-strict": {"websockets": True, "asyncio_mode": "strict"},
    "concurrency-anyio": {"concurrency": True, "async_runner": "anyio"},
    # No coverage gate: CI reports the total only.
    "websockets-concurrency-anyio": {
        "websockets": True,
        "concurrency": True,
        "async_runner": "anyio",
        "coverage_fail_under": 0,
    },
    "websockets-concurrency": {"websockets": True, "concurrency": True},
    "redis-strict": {
        "cache": "redis",
        "asyncio_mode": "strict",
        "coverage_fail_under": 95,
    },
    "redis-websockets-anyio": {
        "cache": "redis",
        "websockets": True,
        "async_runner": "anyio",
    },
    "redis-concurrency": {"cache": "redis", "concurrency": True, "auth": "bearer"},
    "sqlite": {"async_db": "sqlite"},
    "postgresql-anyio": {
        "async_db": "postgresql",
        "async_runner": "anyio",
        "migrations": "alembic",
        "auth": "bearer",
    },
    "sqlite-websockets-strict": {
        "async_db": "sqlite",
        "websockets": True,
        "asyncio_mode": "strict",
        "migrations": "alembic",
        "auth": "bearer",
    },
    "postgresql-concurrency-strict": {
        "async_db": "postgresql",
        "concurrency": True,
        "asyncio_mode": "strict",
    },
    "sqlite-redis-anyio": {
        "async_db": "sqlite",
        "cache": "redis",
        "async_runner": "anyio",
        "factories": True,
    },
    "websockets-concurrency-postgresql-redis": {
        "websockets": True,
        "concurrency": True,
        "streaming": True,
        "async_db": "postgresql",
        "cache": "redis",
        "factories": True,
        "migrations": "alembic",
        "auth": "bearer",
        "ci_shards": 3,
        "outbound_http": True,
        "background_work": True,
    },
    # Signed-in users in the plainest project: TestClient only.
    "auth": {"auth": "bearer"},
    # `client` served by the inline client: the plain project, and the sets
    # where it runs beside WebSockets, a database, Redis and everything at once.
    "inline": {"sync_client": "inline"},
    # CI split across runners without servers (and, above, with both).
    "sqlite-websockets-strict-inline": {
        "async_db": "sqlite",
        "websockets": True,
        "asyncio_mode": "strict",
        "sync_client": "inline",
        "factories": True,
        "ci_shards": 2,
        "background_work": True,
    },
    # Streamed responses through the inline client, on the anyio runner.
    "redis-websockets-anyio-inline": {
        "cache": "redis",
        "websockets": True,
        "streaming": True,
        "async_runner": "anyio",
        "sync_client": "inline",
        "outbound_http": True,
    },
    "websockets-concurrency-postgresql-redis-inline": {
        "websockets": True,
        "concurrency": True,
        "async_db": "postgresql",
        "cache": "redis",
        "sync_client": "inline",
        "auth": "bearer",
    },
}

# The set every feature is on in; tested in a fresh environment too.
ALL_FEATURES = "websockets-concurrency-postgresql-redis"


def answer_set_params(
    answer_sets: Mapping[str, Mapping[str, object]], *names: str
) -> list[Any]:
    """Parameters `name, answers` of a test run once per answer set, of those
    `names` (every one when none), each run's id the set's name."""
    return [
        pytest.param(name, answer_sets[name], id=name) for name in names or answer_sets
    ]
