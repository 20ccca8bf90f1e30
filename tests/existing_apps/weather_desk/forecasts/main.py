"""Forecasts for a city: geocoded by one service, forecast by another, both
over the httpx.AsyncClient the lifespan opens and keeps on app.state."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, HTTPException, Request

from forecasts.settings import Settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with httpx.AsyncClient(timeout=5) as http:
        app.state.http = http
        yield


app = FastAPI(title="Forecasts", lifespan=lifespan)


def get_http(request: Request) -> httpx.AsyncClient:
    return request.app.state.http


def get_settings() -> Settings:
    return Settings()


Http = Annotated[httpx.AsyncClient, Depends(get_http)]
Config = Annotated[Settings, Depends(get_settings)]


@app.get("/forecast/{city}")
async def forecast(city: str, http: Http, settings: Config) -> dict[str, object]:
    place = await http.get(settings.geocoder_url, params={"q": city})
    if place.status_code == 404:
        raise HTTPException(404, f"no such city: {city}")
    where = place.json()
    weather = await http.get(
        f"{settings.weather_url}/forecast",
        params={"lat": where["lat"], "lon": where["lon"]},
    )
    weather.raise_for_status()
    return {"city": city, "summary": weather.json()["summary"]}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
