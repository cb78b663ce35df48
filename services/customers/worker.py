"""Customers' background process: the outbox relay and the consumer of bills and conversions.

``python -m services.customers.worker [relay] [consume]`` (default both).
"""

from __future__ import annotations

import sys

from shared.process import service_main

from .consumers import HANDLERS
from .models import messaging


def main(argv=None) -> None:
    service_main(
        "customers", sys.argv[1:] if argv is None else argv, tables=messaging, consumer="customers", handlers=HANDLERS
    )


if __name__ == "__main__":
    main()
