"""Async tests on anyio, as FastAPI's documentation writes them."""

import pytest


@pytest.fixture
def anyio_backend():
    return "asyncio"
