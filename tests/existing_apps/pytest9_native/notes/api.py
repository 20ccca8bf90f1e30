"""Notes kept in memory, behind a router, as many small services start."""

from fastapi import APIRouter, FastAPI, HTTPException
from pydantic import BaseModel

router = APIRouter(prefix="/notes", tags=["notes"])
NOTES: dict[int, str] = {}


class Note(BaseModel):
    text: str


@router.post("", status_code=201)
async def add_note(note: Note) -> dict[str, object]:
    note_id = len(NOTES) + 1
    NOTES[note_id] = note.text
    return {"id": note_id, "text": note.text}


@router.get("/{note_id}")
async def read_note(note_id: int) -> dict[str, object]:
    if note_id not in NOTES:
        raise HTTPException(status_code=404, detail="no such note")
    return {"id": note_id, "text": NOTES[note_id]}


app = FastAPI(title="Notes")
app.include_router(router)
