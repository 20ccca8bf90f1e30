"""Reports built after the request that asked for them has been answered:
in an asyncio task the app keeps in app.state.jobs, and a receipt mailed
through BackgroundTasks."""

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import BackgroundTasks, FastAPI, HTTPException, Request

# How long building a report takes.
BUILD_SECONDS = 0.05


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.reports = {}
    app.state.outbox = []
    # Kept so the tasks are not collected mid-run; each leaves when done.
    app.state.jobs = set()
    app.state.numbers = itertools.count(1)
    yield


app = FastAPI(title="Reports", lifespan=lifespan)


async def build(reports: dict[int, str], number: int) -> None:
    await asyncio.sleep(BUILD_SECONDS)
    reports[number] = "ready"


async def mail_receipt(outbox: list[str], number: int) -> None:
    await asyncio.sleep(BUILD_SECONDS / 5)
    outbox.append(f"report {number} is on its way")


@app.post("/reports", status_code=202)
async def order(request: Request, tasks: BackgroundTasks) -> dict[str, int]:
    state = request.app.state
    number = next(state.numbers)
    state.reports[number] = "building"
    job = asyncio.create_task(build(state.reports, number), name=f"report-{number}")
    state.jobs.add(job)
    job.add_done_callback(state.jobs.discard)
    tasks.add_task(mail_receipt, state.outbox, number)
    return {"number": number}


@app.get("/reports/{number}")
async def report(number: int, request: Request) -> dict[str, str]:
    status = request.app.state.reports.get(number)
    if status is None:
        raise HTTPException(404)
    return {"status": status}
