"""The newsroom's API: publish headlines, and follow them live (Server-Sent
Events, as the newsroom's front page listens with EventSource)."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.responses import StreamingResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel

from newsroom.feed import Feed

# Seconds between comments that keep an idle connection open through proxies.
HEARTBEAT_SECONDS = 15.0


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.feed = Feed()
    yield


app = FastAPI(title="Newsroom", lifespan=lifespan)


class Headline(BaseModel):
    title: str


@app.post("/headlines", status_code=201)
async def publish(headline: Headline, request: Request) -> Headline:
    request.app.state.feed.publish(headline.title)
    return headline


@app.get("/headlines")
async def headlines(request: Request) -> list[str]:
    return request.app.state.feed.headlines


@app.get("/headlines/live")
async def live(
    request: Request, replay: Annotated[int, Query(ge=0, le=100)] = 10
) -> StreamingResponse:
    """Every headline as it is published, after the last `replay` ones; never
    ends while the reader listens."""
    feed: Feed = request.app.state.feed

    async def events() -> AsyncIterator[str]:
        number = 0
        async for headline in feed.follow(replay, HEARTBEAT_SECONDS):
            if headline is None:
                yield ": still here\n\n"
                continue
            number += 1
            data = json.dumps({"title": headline})
            yield f"event: headline\nid: {number}\ndata: {data}\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )


@app.get("/headlines/events", response_class=EventSourceResponse)
async def live_events(
    request: Request, replay: Annotated[int, Query(ge=0, le=100)] = 10
) -> AsyncIterator[ServerSentEvent]:
    """The same feed through FastAPI's own Server-Sent Events."""
    feed: Feed = request.app.state.feed
    number = 0
    async for headline in feed.follow(replay, HEARTBEAT_SECONDS):
        if headline is not None:
            number += 1
            yield ServerSentEvent(
                data={"title": headline}, event="headline", id=str(number)
            )
