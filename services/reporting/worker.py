"""Reporting's background processes: the consumer feeding the read models, and the relay.

Reporting publishes no events of its own; its relay sends the dead letters an admin replays.
``python -m services.reporting.worker [relay] [consume]``.
"""

from __future__ import annotations

import sys

from shared.process import service_main

from .consumers import HANDLERS
from .models import messaging


def main(argv=None) -> None:
    service_main(
        "reporting", sys.argv[1:] if argv is None else argv, tables=messaging, consumer="reporting", handlers=HANDLERS
    )


if __name__ == "__main__":
    main()
