"""Settings of the contacts service beyond the common ones."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import Settings, setting

ASYNC_UPLOAD_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class ContactsSettings(Settings):
    """The common settings and contacts' own; ``load_settings("contacts", cls=ContactsSettings)``."""

    #: Uploads larger than this many bytes answer 202 and import in the background.
    async_upload_bytes: int = setting("CONTACTS_ASYNC_UPLOAD_BYTES", ASYNC_UPLOAD_BYTES)
