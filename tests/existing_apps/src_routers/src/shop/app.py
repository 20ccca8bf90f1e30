"""The app object, assembled from the routers."""

from fastapi import FastAPI

from shop.routers import items, live

app = FastAPI(title="Shop")
app.include_router(items.router)
app.include_router(live.router)
