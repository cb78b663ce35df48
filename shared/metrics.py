"""Prometheus metrics of every process: the one module that defines metric objects.

HTTP processes serve them at ``GET /metrics`` (``shared.web.app.register_metrics``); relays and
workers on their own port when ``METRICS_PORT`` is set (``serve_metrics``, started by
``shared.process.service_main``). The recording functions below run once per request or event, so
each is a label lookup and an increment or observation, nothing more.

Two modes, decided by prometheus_client when it is first imported:

* Under gunicorn (``gunicorn.conf.py`` sets ``PROMETHEUS_MULTIPROC_DIR`` in the master before any
  worker imports the app) every worker writes its samples to files in that directory and a scrape,
  whichever worker answers it, sums the files of all workers (``MultiProcessCollector``).
* Anywhere else (a relay, a worker, a test) the metrics live in the default registry of the process.

The outbox gauges are not recorded anywhere: ``OutboxCollector`` counts the pending rows of the
service's own outbox when a scrape asks, so every process of a service reports the same, current
numbers (``max by (service)`` in a query folds them).

Label values are bounded: routes are URL rule templates (``/api/v1/bills/<int:bill_id>``, never a
raw path; ``unmatched`` when no rule matched), HTTP methods outside the standard set are ``OTHER``
and an event type the contract does not know (possible on dead letters and replays) is ``unknown``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Table, func, select
from sqlalchemy.engine import Engine

from .clock import utcnow
from .events import EVENT_TYPES

log = logging.getLogger(__name__)

UNMATCHED_ROUTE = "unmatched"
UNKNOWN_TYPE = "unknown"
OUTCOMES = ("consumed", "duplicate", "failed")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BATCH_SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200)

# No ``*_created`` series: multiprocess mode has none either, so every process shows the same names.
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped upstream

# -- HTTP ---------------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "pharmacy_http_requests_total",
    "HTTP requests answered, by service, method, route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "pharmacy_http_request_duration_seconds",
    "Time from the request's start to its response, by service, method and route template.",
    ["service", "method", "route"],
)

# -- events -------------------------------------------------------------------------------------
EVENTS_PUBLISHED = Counter(
    "pharmacy_events_published_total",
    "Events a relay published and the broker confirmed, by service and event type.",
    ["service", "type"],
)
EVENTS_CONSUMED = Counter(
    "pharmacy_events_consumed_total",
    "Events a consumer handled and committed (first deliveries), by consumer and event type.",
    ["consumer", "type"],
)
EVENTS_DUPLICATE = Counter(
    "pharmacy_events_duplicate_total",
    "Deliveries of events a consumer had already handled (acknowledged, no effect), by consumer and type.",
    ["consumer", "type"],
)
EVENTS_FAILED = Counter(
    "pharmacy_events_failed_total",
    "Handler attempts that failed (the message is retried or dead-lettered), by consumer and event type.",
    ["consumer", "type"],
)
EVENTS_DEAD_LETTERED = Counter(
    "pharmacy_events_dead_lettered_total",
    "Messages a consumer dead-lettered, by consumer and event type (unknown when unreadable).",
    ["consumer", "type"],
)
HANDLER_DURATION = Histogram(
    "pharmacy_handler_duration_seconds",
    "Time a consumer's handler spent on one event of a batch (the batch's inbox rows and commit are shared, not in it), by consumer and event type.",
    ["consumer", "type"],
)
BATCH_SIZE = Histogram(
    "pharmacy_consumer_batch_size",
    "Events a consumer applied in one transaction.",
    ["consumer"],
    buckets=BATCH_SIZE_BUCKETS,
)

_BY_OUTCOME = {"consumed": EVENTS_CONSUMED, "duplicate": EVENTS_DUPLICATE, "failed": EVENTS_FAILED}


def _type_label(event_type: str | None) -> str:
    return event_type if event_type in EVENT_TYPES else UNKNOWN_TYPE


# -- what the hot paths call --------------------------------------------------------------------
def event_handled(consumer: str, event_type: str, outcome: str, seconds: float) -> None:
    """One event handled by ``consumer``: counted by ``outcome`` (``consumed``, ``duplicate`` or
    ``failed``) and its handling time observed."""
    counter = _BY_OUTCOME.get(outcome)
    if counter is None:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
    label = _type_label(event_type)
    counter.labels(consumer, label).inc()
    HANDLER_DURATION.labels(consumer, label).observe(seconds)


def event_dead_lettered(consumer: str, event_type: str | None) -> None:
    """A message ``consumer`` dead-lettered (``event_type`` None when the body was unreadable)."""
    EVENTS_DEAD_LETTERED.labels(consumer, _type_label(event_type)).inc()


def batch_applied(consumer: str, size: int) -> None:
    """``size`` events ``consumer`` applied in one transaction."""
    BATCH_SIZE.labels(consumer).observe(size)


def events_published(service: str, event_type: str, count: int = 1) -> None:
    """``count`` events of ``event_type`` that ``service``'s relay published (confirmed by the broker)."""
    EVENTS_PUBLISHED.labels(service, _type_label(event_type)).inc(count)


def http_request(service: str, method: str, route: str | None, status: int, seconds: float) -> None:
    """One answered HTTP request; ``route`` is the matched URL rule's template (None: no rule matched)."""
    method = method if method in _METHODS else "OTHER"
    route = route or UNMATCHED_ROUTE
    HTTP_REQUESTS.labels(service, method, route, str(status)).inc()
    HTTP_DURATION.labels(service, method, route).observe(seconds)


# -- the outbox, at scrape time -----------------------------------------------------------------
class OutboxCollector(Collector):
    """``pharmacy_outbox_pending_events`` and ``pharmacy_outbox_oldest_pending_age_seconds`` of one
    service, read from its outbox table when scraped.

    When the database does not answer, the two gauges are left out of that scrape (and the failure
    logged): a missing series is visible to alerting, a made-up zero is not.
    """

    def __init__(self, service: str, engine: Engine, outbox: Table) -> None:
        self.service = service
        self.engine = engine
        self.outbox = outbox

    def describe(self) -> Iterable[Metric]:
        # Names only: registering this collector must not query the database.
        return self._families()

    def collect(self) -> Iterable[Metric]:
        try:
            with self.engine.connect() as connection:
                count, oldest = connection.execute(
                    select(func.count(), func.min(self.outbox.c.created_at)).where(self.outbox.c.status == "pending")
                ).one()
        except Exception as exc:
            log.warning(
                "metrics: cannot read the outbox", extra={"service": self.service, "error": f"{type(exc).__name__}"}
            )
            return []
        age = max((utcnow() - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
        pending, oldest_age = self._families()
        pending.add_metric([self.service], float(count or 0))
        oldest_age.add_metric([self.service], age)
        return [pending, oldest_age]

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "pharmacy_outbox_pending_events",
                "Outbox rows not yet confirmed by the broker (read at scrape time).",
                labels=["service"],
            ),
            GaugeMetricFamily(
                "pharmacy_outbox_oldest_pending_age_seconds",
                "Age of the oldest pending outbox row; 0 when none is pending (read at scrape time).",
                labels=["service"],
            ),
        )


# -- exposition ---------------------------------------------------------------------------------
def multiprocess_dir() -> str | None:
    """The multiprocess directory when this process runs in multiprocess mode (under gunicorn)."""
    # prometheus_client's own variable (set by gunicorn.conf.py): the directory of every worker's samples.
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _ProcessRegistry(Collector):
    """The default registry of this process, as one collector of a scrape's registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def scrape_registry(*extra: Collector) -> CollectorRegistry:
    """What a scrape shows: every worker's samples (multiprocess mode) or this process's, plus ``extra``."""
    registry = CollectorRegistry()
    path = multiprocess_dir()
    if path:
        MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]  # untyped upstream
    else:
        registry.register(_ProcessRegistry())
    for collector in extra:
        registry.register(collector)
    return registry


def exposition(accept: str | None, *extra: Collector) -> tuple[bytes, str]:
    """A scrape's body and content type (``GET /metrics``): the Prometheus text format, or
    OpenMetrics when the scraper's ``Accept`` header asks for it."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(scrape_registry(*extra)), content_type


def serve_metrics(port: int, host: str, *collectors: Collector) -> tuple[WSGIServer, threading.Thread]:
    """Serve this process's metrics (and ``collectors``) on ``host:port`` from a daemon thread.

    For relays and workers; returns the server (``shutdown()`` stops it) and its thread. A port
    that cannot be bound raises OSError.
    """
    return start_http_server(port, addr=host, registry=scrape_registry(*collectors))
