"""Reminders' background process: the outbox relay and the consumer of purchases and customers.

``python -m services.reminders.worker [relay] [consume]`` (default both).
"""

from __future__ import annotations

import sys

from shared.process import service_main

from .consumers import HANDLERS, PREPARE
from .models import messaging


def main(argv=None) -> None:
    service_main(
        "reminders",
        sys.argv[1:] if argv is None else argv,
        tables=messaging,
        consumer="reminders",
        handlers=HANDLERS,
        prepare=PREPARE,
    )


if __name__ == "__main__":
    main()
