"""An app factory whose lifespan prepares what the routes use."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request


def create_app(greeting: str = "Hello") -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.greeting = greeting
        yield
        del app.state.greeting

    app = FastAPI(title="Greeter", lifespan=lifespan)

    @app.get("/greet/{name}")
    def greet(name: str, request: Request) -> dict[str, str]:
        return {"message": f"{request.app.state.greeting}, {name}!"}

    return app
