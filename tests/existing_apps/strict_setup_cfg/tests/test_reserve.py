import asyncio

import pytest


@pytest.mark.asyncio
async def test_reserving_lowers_the_stock(api):
    response = await api.post("/reserve/kettle")

    assert response.json() == {"left": 4}


@pytest.mark.asyncio
async def test_concurrent_reservations_never_oversell(api):
    responses = await asyncio.gather(*(api.post("/reserve/kettle") for _ in range(8)))

    assert sorted(r.status_code for r in responses) == [200] * 5 + [409] * 3


@pytest.mark.asyncio
async def test_an_unknown_item_is_out_of_stock(api):
    assert (await api.post("/reserve/teapot")).status_code == 409
