"""Contacts' background processes: the outbox relay, the consumer of bill, staff and customer
events, and the importer of large uploads.

``python -m services.contacts.worker [relay] [consume] [import]`` (default: all three). The
Procfile runs the importer as a process of its own, so its memory and CPU scale apart; run as many
replicas as you like, one import runs at a time.
"""

from __future__ import annotations

import sys

from shared.process import service_main

from .consumers import HANDLERS
from .models import messaging
from .settings import ContactsSettings
from .uploads.background import ImportWorker


def main(argv: list[str] | None = None) -> None:
    service_main(
        "contacts",
        sys.argv[1:] if argv is None else argv,
        tables=messaging,
        consumer="contacts",
        handlers=HANDLERS,
        settings_cls=ContactsSettings,
        loops={"import": lambda settings, runtime: ImportWorker(settings, runtime.session_factory)},
    )


if __name__ == "__main__":
    main()
