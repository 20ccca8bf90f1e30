"""A one-file FastAPI app, as many projects start."""

from fastapi import FastAPI

app = FastAPI(title="Flat")


@app.get("/ping")
def ping() -> dict[str, str]:
    return {"pong": "ok"}
