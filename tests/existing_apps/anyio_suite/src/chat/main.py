"""A chat room: messages posted over HTTP, and a WebSocket that answers."""

import asyncio

from fastapi import FastAPI, WebSocket
from pydantic import BaseModel

app = FastAPI(title="Chat")
MESSAGES: list[str] = []


class Message(BaseModel):
    text: str


@app.post("/messages", status_code=201)
async def post_message(message: Message) -> dict[str, int]:
    await asyncio.sleep(0)
    MESSAGES.append(message.text)
    return {"count": len(MESSAGES)}


@app.get("/messages")
async def list_messages() -> list[str]:
    return MESSAGES


@app.websocket("/ws")
async def room(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        text = await websocket.receive_text()
        if text == "bye":
            break
        await asyncio.sleep(0.01)
        await websocket.send_text(f"{len(MESSAGES)}:{text}")
    await websocket.close()
