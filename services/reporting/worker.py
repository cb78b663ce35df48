"""Reporting's background process: the consumer feeding the read models (reporting publishes nothing).

``python -m services.reporting.worker`` (or ``consume``); ``relay`` is accepted but has nothing to send.
"""
from __future__ import annotations

import sys

from shared.process import service_main

from .consumers import HANDLERS
from .models import messaging


def main(argv=None) -> None:
    service_main("reporting", sys.argv[1:] if argv is None else argv, tables=messaging, consumer="reporting",
                 handlers=HANDLERS)


if __name__ == "__main__":
    main()
