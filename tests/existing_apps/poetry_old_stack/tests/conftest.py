"""pytest-asyncio 0.20: one event loop for the whole session, the way it was done."""

import asyncio

import pytest
from fakeredis import FakeServer
from fakeredis.aioredis import FakeRedis


@pytest.fixture(scope="session")
def event_loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def fake_redis():
    return FakeRedis(server=FakeServer(), decode_responses=True)
