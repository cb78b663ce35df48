"""The gateway's settings beside the common ones: where each service lives, proxy timeouts.

``load_settings("gateway", cls=GatewaySettings)`` reads them with the common ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.config import Settings, setting

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


@dataclass(frozen=True, kw_only=True)
class GatewaySettings(Settings):
    """The common settings, each service's base URL (``<SERVICE>_URL``) and how long to wait for it."""

    billing_url: str = setting("BILLING_URL", DEFAULT_UPSTREAMS["billing"])
    customers_url: str = setting("CUSTOMERS_URL", DEFAULT_UPSTREAMS["customers"])
    contacts_url: str = setting("CONTACTS_URL", DEFAULT_UPSTREAMS["contacts"])
    reminders_url: str = setting("REMINDERS_URL", DEFAULT_UPSTREAMS["reminders"])
    reporting_url: str = setting("REPORTING_URL", DEFAULT_UPSTREAMS["reporting"])
    upstream_connect_timeout: float = setting("UPSTREAM_CONNECT_TIMEOUT", 3.0)
    upstream_read_timeout: float = setting("UPSTREAM_READ_TIMEOUT", 60.0)
    upstream_docs_timeout: float = setting("UPSTREAM_DOCS_TIMEOUT", 3.0)
    #: Reverse proxies in front of the gateway whose X-Forwarded-For is believed (0 = none).
    trusted_proxies: int = setting("TRUSTED_PROXIES", 0)

    @property
    def upstreams(self) -> dict[str, str]:
        """Base URL of each service, without a trailing slash."""
        return {service: str(getattr(self, f"{service}_url")).rstrip("/") for service in DEFAULT_UPSTREAMS}

    def with_upstreams(self, upstreams: Mapping[str, str]) -> GatewaySettings:
        """A copy routing the named services to other base URLs (tests point them at local servers)."""
        unknown = set(upstreams) - set(DEFAULT_UPSTREAMS)
        if unknown:
            raise ValueError(f"no such service(s): {sorted(unknown)}")
        return self.with_overrides(**{f"{service}_url": url for service, url in upstreams.items()})
