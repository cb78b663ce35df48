"""Settings of the contacts service beyond the common ones."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import Settings, setting

ASYNC_UPLOAD_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class ContactsSettings(Settings):
    """The common settings and contacts' own; ``load_settings("contacts", cls=ContactsSettings)``."""

    #: Uploads larger than this many bytes answer 202 and are imported by the importer process.
    async_upload_bytes: int = setting("CONTACTS_ASYNC_UPLOAD_BYTES", ASYNC_UPLOAD_BYTES)
    #: An importer renews its hold on a job this often (a third of it); a job whose lease ran
    #: out (its importer died) is taken over by another importer.
    import_lease_seconds: float = setting("CONTACTS_IMPORT_LEASE_SECONDS", 60.0)
    #: How often an idle importer looks for a queued upload.
    import_poll_seconds: float = setting("CONTACTS_IMPORT_POLL_SECONDS", 1.0)
    #: Where an importer writes the file it imports (removed after); empty: the system's temp dir.
    import_work_dir: str = setting("CONTACTS_IMPORT_WORK_DIR", "")
    #: A contact turning yellow (visited, did not buy) gets a follow-up this many days after.
    yellow_follow_up_days: int = setting("YELLOW_FOLLOW_UP_DAYS", 3)
