from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from todo.db import Task, get_session

app = FastAPI(title="Todo")


class NewTask(BaseModel):
    title: str


def as_json(task: Task) -> dict[str, object]:
    return {"id": task.id, "title": task.title, "done": task.done}


@app.post("/tasks", status_code=201)
async def add_task(
    task: NewTask, session: Annotated[AsyncSession, Depends(get_session)]
) -> dict[str, object]:
    row = Task(title=task.title)
    session.add(row)
    await session.flush()  # its id; get_session commits
    return as_json(row)


@app.get("/tasks/{task_id}")
async def read_task(
    task_id: int, session: Annotated[AsyncSession, Depends(get_session)]
) -> dict[str, object]:
    row = await session.get(Task, task_id)
    if row is None:
        raise HTTPException(status_code=404, detail="no such task")
    return as_json(row)


@app.get("/tasks")
async def list_tasks(
    session: Annotated[AsyncSession, Depends(get_session)],
) -> list[str]:
    return list(await session.scalars(select(Task.title).order_by(Task.id)))
