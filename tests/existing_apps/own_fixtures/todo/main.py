from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from todo.db import Task, get_session

app = FastAPI(title="Todo")
Session = Annotated[AsyncSession, Depends(get_session)]


class NewTask(BaseModel):
    title: str


@app.post("/tasks", status_code=201)
async def add_task(task: NewTask, session: Session) -> dict[str, object]:
    row = Task(title=task.title)
    session.add(row)
    await session.commit()
    return {"id": row.id, "title": row.title, "done": row.done}


@app.get("/tasks/{task_id}")
async def read_task(task_id: int, session: Session) -> dict[str, object]:
    row = await session.get(Task, task_id)
    if row is None:
        raise HTTPException(status_code=404, detail="no such task")
    return {"id": row.id, "title": row.title, "done": row.done}


@app.get("/tasks")
async def list_tasks(session: Session) -> list[str]:
    return list(await session.scalars(select(Task.title).order_by(Task.id)))
