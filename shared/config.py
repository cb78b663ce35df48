"""Environment configuration (12-factor): one loader, failing fast on a missing setting."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
_MISSING = object()


class ConfigError(RuntimeError):
    """A required setting is missing or malformed; the message names it."""


def env(name: str, default=_MISSING, environ=None) -> str:
    """Return the environment variable ``name``; without a default, a missing one raises ConfigError."""
    environ = os.environ if environ is None else environ
    value = environ.get(name)
    if value is None or value == "":
        if default is _MISSING:
            raise ConfigError(f"missing required environment variable {name} (see .env.example)")
        return default
    return value


def database_url_for(service: str, environ=None) -> str:
    """The database URL of one service.

    ``<SERVICE>_DATABASE_URL`` wins; else ``DATABASE_URL`` with the database name suffixed by the
    service (``.../pharmacy`` -> ``.../pharmacy_billing``); else one SQLite file per service under
    ``VAR_DIR`` (default ``var/``).
    """
    environ = os.environ if environ is None else environ
    own = env(f"{service.upper()}_DATABASE_URL", None, environ)
    if own:
        return own
    common = env("DATABASE_URL", None, environ)
    if common:
        url = make_url(common)
        return url.set(database=f"{url.database}_{service}").render_as_string(hide_password=False)
    var_dir = Path(env("VAR_DIR", str(REPO_ROOT / "var"), environ))
    return f"sqlite:///{var_dir / (service + '.db')}"


@dataclass(frozen=True)
class Settings:
    """What every process of a service needs; built once in the composition root."""

    service: str
    database_url: str
    amqp_url: str
    jwt_secret: str
    exchange: str = "pharmacy.events"
    dead_letter_exchange: str = "pharmacy.dlx"
    pharmacy_tz: str = "Asia/Kolkata"
    default_phone_region: str = "IN"
    max_json_bytes: int = 1024 * 1024
    max_upload_bytes: int = 20 * 1024 * 1024
    token_ttl_seconds: int = 8 * 3600
    delivery_limit: int = 5
    prefetch: int = 50
    log_level: str = "INFO"
    extra: dict = field(default_factory=dict)

    def with_overrides(self, **overrides) -> "Settings":
        """A copy with some fields replaced (tests and the docs-only app use this)."""
        return replace(self, **overrides)


def load_settings(service: str, environ=None, **overrides) -> Settings:
    """Read the settings of ``service`` from the environment; raise ConfigError naming what is missing."""
    environ = os.environ if environ is None else environ
    settings = Settings(
        service=service,
        database_url=database_url_for(service, environ),
        amqp_url=env("AMQP_URL", DEFAULT_AMQP_URL, environ),
        jwt_secret=env("JWT_SECRET", environ=environ),
        exchange=env("EVENTS_EXCHANGE", "pharmacy.events", environ),
        dead_letter_exchange=env("DEAD_LETTER_EXCHANGE", "pharmacy.dlx", environ),
        pharmacy_tz=env("PHARMACY_TZ", "Asia/Kolkata", environ),
        default_phone_region=env("DEFAULT_PHONE_REGION", "IN", environ),
        max_json_bytes=env_int("MAX_JSON_BYTES", 1024 * 1024, environ),
        max_upload_bytes=env_int("MAX_UPLOAD_BYTES", 20 * 1024 * 1024, environ),
        token_ttl_seconds=env_int("TOKEN_TTL_SECONDS", 8 * 3600, environ),
        delivery_limit=env_int("DELIVERY_LIMIT", 5, environ),
        prefetch=env_int("CONSUMER_PREFETCH", 50, environ),
        log_level=env("LOG_LEVEL", "INFO", environ),
    )
    return settings.with_overrides(**overrides) if overrides else settings


def env_int(name: str, default: int, environ=None) -> int:
    """An integer setting; a value that is not one raises ConfigError naming the variable."""
    raw = env(name, str(default), environ)
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name} must be an integer, got {raw!r}") from None
