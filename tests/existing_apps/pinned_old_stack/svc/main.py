from fastapi import FastAPI

app = FastAPI(title="Legacy")


@app.get("/version")
async def version() -> dict[str, str]:
    return {"version": "1"}
