"""Environment configuration (12-factor): one loader for the common and every service's settings.

A setting is a field of a frozen dataclass that names its environment variable and default
(``pharmacy_tz: str = setting("PHARMACY_TZ", "Asia/Kolkata")``); the field's annotation (str,
int, float or bool) says how the variable's text is converted. A service with settings of its
own declares them in one subclass of ``Settings`` (``services/contacts/settings.py``,
``gateway/settings.py``) and loads it with ``load_settings(service, cls=...)``. A missing
required variable or a malformed value fails fast with a ConfigError naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final, Self, TypeVar, get_type_hints, overload

from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
#: The field metadata key holding a setting's environment variable.
ENV_VARIABLE: Final = "env"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
APP_ENVS = ("production", "development")

Environ = Mapping[str, str]
SettingsT = TypeVar("SettingsT", bound="Settings")


class ConfigError(RuntimeError):
    """A required setting is missing or malformed; the message names it."""


class _Missing:
    """The "no default" marker of ``env`` (None is a meaningful default there)."""


_NO_DEFAULT = _Missing()


@overload
def env(name: str, *, environ: Environ | None = None) -> str: ...
@overload
def env(name: str, default: str, environ: Environ | None = None) -> str: ...
@overload
def env(name: str, default: None, environ: Environ | None = None) -> str | None: ...
def env(name: str, default: str | _Missing | None = _NO_DEFAULT, environ: Environ | None = None) -> str | None:
    """Return the environment variable ``name``; without a default, a missing one raises ConfigError.

    An empty value counts as missing (``FOO=`` in an env file means "not set").
    """
    environ = os.environ if environ is None else environ
    value = environ.get(name)
    if value is None or value == "":
        if isinstance(default, _Missing):
            raise ConfigError(f"missing required environment variable {name} (see .env.example)")
        return default
    return value


def setting(variable: str, default: Any = MISSING, *, secret: bool = False) -> Any:
    """Declare a settings field read from the environment variable ``variable``.

    Without ``default`` the variable is required; a ``secret`` stays out of the settings' repr
    (and so out of logs). Typed ``Any`` so that ``delivery_limit: int = setting("DELIVERY_LIMIT", 5)``
    type-checks as the annotation says.
    """
    if default is MISSING:
        return field(repr=not secret, metadata={ENV_VARIABLE: variable})
    return field(default=default, repr=not secret, metadata={ENV_VARIABLE: variable})


def database_url_for(service: str, environ: Environ | None = None) -> str:
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


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What every process of a service needs; loaded once in the composition root.

    ``service`` and ``database_url`` come from the service's name (see ``database_url_for``);
    every other field names its environment variable.
    """

    service: str
    database_url: str
    #: PEM file of the gateway's Ed25519 public key, which verifies tokens (no process but the
    #: gateway holds the private key: see ``shared.auth``).
    jwt_public_key_file: str = setting("JWT_PUBLIC_KEY_FILE")
    #: ``development`` accepts the key pair ``make run`` makes under var/; ``production`` refuses it.
    app_env: str = setting("APP_ENV", "production")
    amqp_url: str = setting("AMQP_URL", DEFAULT_AMQP_URL)
    exchange: str = setting("EVENTS_EXCHANGE", "pharmacy.events")
    dead_letter_exchange: str = setting("DEAD_LETTER_EXCHANGE", "pharmacy.dlx")
    pharmacy_tz: str = setting("PHARMACY_TZ", "Asia/Kolkata")
    default_phone_region: str = setting("DEFAULT_PHONE_REGION", "IN")
    max_json_bytes: int = setting("MAX_JSON_BYTES", 1024 * 1024)
    max_upload_bytes: int = setting("MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
    token_ttl_seconds: int = setting("TOKEN_TTL_SECONDS", 8 * 3600)
    delivery_limit: int = setting("DELIVERY_LIMIT", 5)
    prefetch: int = setting("CONSUMER_PREFETCH", 50)
    #: Deliveries a worker applies in one transaction (at most ``prefetch``; half of it by default,
    #: so the next batch is already on its way while one commits).
    batch_size: int = setting("CONSUMER_BATCH_SIZE", 25)
    #: How long a worker waits for more deliveries to fill a batch before applying what it has.
    batch_wait_ms: int = setting("CONSUMER_BATCH_WAIT_MS", 10)
    log_level: str = setting("LOG_LEVEL", "INFO")
    #: Port of a relay's or worker's Prometheus metrics (``shared.metrics``); 0 or unset: none served.
    #: HTTP processes serve theirs at ``GET /metrics`` instead.
    metrics_port: int = setting("METRICS_PORT", 0)
    #: Address the metrics port binds (the HTTP processes get theirs on gunicorn's command line).
    bind_host: str = setting("BIND_HOST", "127.0.0.1")

    def __post_init__(self) -> None:
        if self.app_env not in APP_ENVS:
            raise ConfigError(
                f"environment variable APP_ENV must be one of {', '.join(APP_ENVS)}, got {self.app_env!r}"
            )

    @property
    def development(self) -> bool:
        """Whether this is an explicit development run (``APP_ENV=development``, as ``make run`` sets)."""
        return self.app_env == "development"

    def with_overrides(self, **overrides: Any) -> Self:
        """A copy with some fields replaced (tests and the docs-only app use this)."""
        return replace(self, **overrides)


@overload
def load_settings(
    service: str, environ: Environ | None = None, *, cls: type[SettingsT], **overrides: Any
) -> SettingsT: ...
@overload
def load_settings(service: str, environ: Environ | None = None, **overrides: Any) -> Settings: ...
def load_settings(
    service: str, environ: Environ | None = None, *, cls: type[Settings] = Settings, **overrides: Any
) -> Settings:
    """Read the settings of ``service`` (of class ``cls``) from the environment.

    ``overrides`` replace fields without reading their variables. A missing required variable
    or a value its field's type cannot hold raises ConfigError naming the variable.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {"service": service}
    if "database_url" not in overrides:
        values["database_url"] = database_url_for(service, environ)
    types = get_type_hints(cls)
    for spec in fields(cls):
        variable = spec.metadata.get(ENV_VARIABLE)
        if variable is None or spec.name in overrides:
            continue
        raw = environ.get(variable)
        if raw is None or raw == "":
            if _has_default(spec):
                continue  # the dataclass default applies
            raise ConfigError(f"missing required environment variable {variable} (see .env.example)")
        values[spec.name] = _convert(variable, raw, types[spec.name])
    values.update(overrides)
    return cls(**values)


def _has_default(spec: Field[Any]) -> bool:
    return spec.default is not MISSING or spec.default_factory is not MISSING


def _convert(variable: str, raw: str, kind: Any) -> Any:
    """``raw`` as the field's type; ConfigError naming ``variable`` when it is not one."""
    if kind is str:
        return raw
    if kind is bool:
        word = raw.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise ConfigError(f"environment variable {variable} must be true or false, got {raw!r}")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"environment variable {variable} must be an integer, got {raw!r}") from None
    if kind is float:
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"environment variable {variable} must be a number, got {raw!r}") from None
    raise TypeError(f"the setting read from {variable} has type {kind!r}; use str, int, float or bool")
