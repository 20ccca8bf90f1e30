"""Support tickets, kept in memory."""

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

app = FastAPI(title="Helpdesk")


class Ticket(BaseModel):
    subject: str
    open: bool = True


TICKETS: dict[int, Ticket] = {}


@app.post("/tickets", status_code=201)
def open_ticket(ticket: Ticket) -> dict[str, int]:
    number = len(TICKETS) + 1
    TICKETS[number] = ticket
    return {"number": number}


@app.get("/tickets/{number}")
def read_ticket(number: int) -> Ticket:
    if number not in TICKETS:
        raise HTTPException(status_code=404, detail="no such ticket")
    return TICKETS[number]


@app.post("/tickets/{number}/close")
def close_ticket(number: int) -> Ticket:
    ticket = read_ticket(number)
    ticket.open = False
    return ticket
