"""The depot's test setup: its own client, and its Redis emptied before each test."""

import os

import pytest
import redis

from tests.fixtures.client import *  # noqa: F403


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(
        os.environ.get("TEST_REDIS_URL", "redis://localhost:6379/1"),
        decode_responses=True,
    )
    client.flushall()
    yield client
    client.close()
