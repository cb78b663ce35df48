"""The gateway's settings beside the common ones: its token-signing key, where each service lives, proxy timeouts.

``load_settings("gateway", cls=GatewaySettings)`` reads them with the common ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import PRIVATE_KEY_VARIABLE, PUBLIC_KEY_VARIABLE, load_private_key, load_public_key
from shared.config import ConfigError, Settings, setting

#: Which service owns which path prefix under /api/v1 (longest prefix wins).
ROUTES = {
    "/bills": "billing",
    "/customers": "customers",
    "/consent": "customers",
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
    """The common settings, the token-signing key, each service's base URL (``<SERVICE>_URL``) and how long to wait for it.

    Only the gateway has ``jwt_private_key_file``: it alone signs tokens. The key is checked when
    the settings are made (readable, Ed25519, not the development pair outside development, the
    other half of ``jwt_public_key_file``), so a bad key stops the gateway before it serves.
    """

    #: PEM file of the Ed25519 private key signing every bearer token (the gateway's secret).
    jwt_private_key_file: str = setting("JWT_PRIVATE_KEY_FILE")

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
    #: Where the built web UI is (``make web``, or the Dockerfile's Node stage); empty: web/dist of the repo.
    web_dist_dir: str = setting("WEB_DIST_DIR", "")

    def __post_init__(self) -> None:
        super().__post_init__()
        self.signing_key()

    def signing_key(self) -> Ed25519PrivateKey:
        """The private key tokens are signed with (read once per file); ConfigError naming a bad setting."""
        private_key = load_private_key(self.jwt_private_key_file, development=self.development)
        public_key = load_public_key(self.jwt_public_key_file, development=self.development)
        if private_key.public_key() != public_key:
            raise ConfigError(
                f"{PRIVATE_KEY_VARIABLE} and {PUBLIC_KEY_VARIABLE} are not one key pair: "
                "every service would refuse the tokens the gateway signs"
            )
        return private_key

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
