from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FORECASTS_")

    # The weather provider the app asks, and the map service it geocodes with.
    weather_url: str = "https://api.weather.example/v1"
    geocoder_url: str = "https://maps.example/geocode"
