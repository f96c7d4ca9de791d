"""Settings every service shares; each service subclasses ServiceSettings with its own fields."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Read from environment variables (names are the field names, upper-case)."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    # Shared secret that internal services require on every call (header X-Internal-Token).
    internal_token: SecretStr
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"


def sqlalchemy_url(database_url: str) -> str:
    """DATABASE_URL is a plain libpq URL; SQLAlchemy needs the psycopg 3 driver named in it."""
    scheme, sep, rest = database_url.partition("://")
    if not sep:
        raise ValueError("DATABASE_URL must look like postgresql://user:password@host:port/database")
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    return database_url


def libpq_url(database_url: str) -> str:
    """The inverse of sqlalchemy_url, for psycopg.connect."""
    scheme, _, rest = database_url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgresql") else database_url
