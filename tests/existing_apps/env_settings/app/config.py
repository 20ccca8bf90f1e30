"""Settings, read on first use and kept (`get_settings`); CI sets DATABASE_URL
and REDIS_URL (a developer keeps them in .env)."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str
    redis_url: str
    link_cache_seconds: int = 300


@lru_cache
def get_settings() -> Settings:
    return Settings()
