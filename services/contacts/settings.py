"""Settings of the contacts service beyond the common ones (kept in ``Settings.extra``)."""
from __future__ import annotations

from shared.config import Settings, env_int

ASYNC_UPLOAD_BYTES = 2 * 1024 * 1024


def with_contacts_settings(settings: Settings, environ=None) -> Settings:
    """``settings`` with contacts' own values filled in from the environment where not given.

    ``CONTACTS_ASYNC_UPLOAD_BYTES`` (default 2 MiB): uploads above it answer 202 and import in
    the background.
    """
    if "async_upload_bytes" in settings.extra:
        return settings
    value = env_int("CONTACTS_ASYNC_UPLOAD_BYTES", ASYNC_UPLOAD_BYTES, environ)
    return settings.with_overrides(extra={**settings.extra, "async_upload_bytes": value})


def async_upload_bytes(settings: Settings) -> int:
    """Uploads larger than this import in the background (202 + Location)."""
    return int(settings.extra.get("async_upload_bytes", ASYNC_UPLOAD_BYTES))
