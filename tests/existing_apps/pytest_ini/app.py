"""A single-module service, started with `uvicorn app:app`."""

from fastapi import FastAPI

app = FastAPI(title="Status")


@app.get("/status")
def status() -> dict[str, str]:
    return {"status": "up"}
