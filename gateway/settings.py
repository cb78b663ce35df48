"""The gateway's own settings beside the common ones: where each service lives, proxy timeouts."""
from __future__ import annotations

from dataclasses import dataclass, field

from shared.config import ConfigError, env

#: Which service owns which path prefix under /api/v1 (longest prefix wins).
ROUTES = {
    "/bills": "billing",
    "/customers": "customers",
    "/admin/audit": "customers",
    "/contacts": "contacts",
    "/reminders": "reminders",
    "/reports": "reporting",
}
DEFAULT_UPSTREAMS = {
    "billing": "http://127.0.0.1:8001",
    "customers": "http://127.0.0.1:8002",
    "contacts": "http://127.0.0.1:8003",
    "reminders": "http://127.0.0.1:8004",
    "reporting": "http://127.0.0.1:8005",
}
#: Services that consume events, hence keep dead letters.
CONSUMING_SERVICES = ("customers", "contacts", "reminders", "reporting")


@dataclass(frozen=True)
class GatewayConfig:
    """Upstream base URLs and how long to wait for them."""

    upstreams: dict = field(default_factory=lambda: dict(DEFAULT_UPSTREAMS))
    connect_timeout: float = 3.0
    read_timeout: float = 60.0
    docs_timeout: float = 3.0
    trusted_proxies: int = 0


def load_gateway_config(environ=None, upstreams: dict | None = None) -> GatewayConfig:
    """Read ``<SERVICE>_URL``, ``UPSTREAM_*_TIMEOUT`` and ``TRUSTED_PROXIES``; ``upstreams`` overrides URLs."""
    urls = {name: env(f"{name.upper()}_URL", default, environ).rstrip("/")
            for name, default in DEFAULT_UPSTREAMS.items()}
    urls.update({name: url.rstrip("/") for name, url in (upstreams or {}).items()})
    return GatewayConfig(
        upstreams=urls,
        connect_timeout=_float(environ, "UPSTREAM_CONNECT_TIMEOUT", 3.0),
        read_timeout=_float(environ, "UPSTREAM_READ_TIMEOUT", 60.0),
        docs_timeout=_float(environ, "UPSTREAM_DOCS_TIMEOUT", 3.0),
        trusted_proxies=int(_float(environ, "TRUSTED_PROXIES", 0)),
    )


def _float(environ, name: str, default: float) -> float:
    raw = env(name, str(default), environ)
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name} must be a number, got {raw!r}") from None
