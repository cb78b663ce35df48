"""Reporting's background processes: the consumer feeding the read models (with the daily adherence
refresh beside it), and the relay.

Reporting publishes no events of its own; its relay sends the dead letters an admin replays.
``python -m services.reporting.worker [relay] [consume] [refresh]`` (default: all three). ``refresh``
is ``AdherenceRefresh``: PDC depends on the day, so each row of ``report_adherence`` is computed again once
the pharmacy's day has changed, in small batches (rows locked by a purchase are skipped, so replicas
share the work without waiting on each other).
"""

from __future__ import annotations

import logging
import sys
import threading
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from shared.config import Settings
from shared.db import unit_of_work
from shared.process import service_main

from . import domain
from .consumers import HANDLERS, PREPARE
from .models import messaging

log = logging.getLogger(__name__)

#: Rows recomputed per transaction, and the pause once every row is current.
REFRESH_BATCH = 500
REFRESH_IDLE_SECONDS = 30.0


class AdherenceRefresh:
    """Keeps every adherence row computed for today: batches of ``REFRESH_BATCH`` rows, then a pause."""

    def __init__(self, settings: Settings, session_factory: sessionmaker[Session], batch: int = REFRESH_BATCH):
        self.session_factory = session_factory
        self.zone = ZoneInfo(settings.pharmacy_tz)
        self.batch = batch

    def step(self) -> int:
        """One batch; how many rows it recomputed."""
        with unit_of_work(self.session_factory) as session:
            return domain.refresh_adherence(session, domain.pharmacy_today(self.zone), self.batch)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                done = self.step()
            except Exception:  # the database may be away for a while: try again later, never die
                log.exception("adherence refresh failed, retrying")
                done = 0
            if done < self.batch:
                stop.wait(REFRESH_IDLE_SECONDS)


def main(argv: list[str] | None = None) -> None:
    service_main(
        "reporting",
        sys.argv[1:] if argv is None else argv,
        tables=messaging,
        consumer="reporting",
        handlers=HANDLERS,
        prepare=PREPARE,
        loops={"refresh": lambda settings, runtime: AdherenceRefresh(settings, runtime.session_factory)},
    )


if __name__ == "__main__":
    main()
