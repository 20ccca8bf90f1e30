"""Liveness: reports whether the app's lifespan has finished starting up."""

from fastapi import APIRouter, Request

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(request: Request) -> dict[str, str]:
    return {"status": "ok" if request.app.state.ready else "starting"}
