"""A stateless example route with validated input."""

from typing import Annotated

from fastapi import APIRouter, Query

router = APIRouter(tags=["greetings"])


@router.get("/hello")
async def hello(
    name: Annotated[str, Query(min_length=1, max_length=50)],
) -> dict[str, str]:
    return {"message": f"Hello, {name}!"}
