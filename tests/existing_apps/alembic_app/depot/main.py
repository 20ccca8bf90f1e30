from fastapi import FastAPI

from depot.routers import stock

app = FastAPI(title="Depot")
app.include_router(stock.router)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
