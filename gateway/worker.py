"""The gateway's background process: the outbox relay (``staff.created`` / ``staff.updated``)."""

from __future__ import annotations

import sys

from shared.process import service_main

from .models import messaging


def main(argv=None) -> None:
    service_main("gateway", sys.argv[1:] if argv is None else argv, tables=messaging)


if __name__ == "__main__":
    main()
