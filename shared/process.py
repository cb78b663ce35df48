"""Process entry points: run relay / worker loops until SIGINT or SIGTERM, serving metrics on ``METRICS_PORT``."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from wsgiref.simple_server import WSGIServer

from .config import Settings, load_settings
from .consumer import ConsumerRunner, Prepare
from .liveness import touch
from .logs import configure_logging
from .messaging import MessagingTables
from .metrics import OutboxCollector, serve_metrics
from .relay import OutboxRelay
from .runtime import Runtime

log = logging.getLogger(__name__)


class Loop(Protocol):
    """A background loop: runs until ``stop`` is set."""

    def run(self, stop: threading.Event) -> None: ...


def run_until_signalled(*loops: Loop) -> None:
    """Run each ``loop.run(stop)`` in its own thread (each opens its own broker connection).

    SIGINT/SIGTERM set the shared stop flag; the loops finish the message in hand and return.
    """
    stop = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        log.info("stopping", extra={"signal": signum})
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    threads = [threading.Thread(target=loop.run, args=(stop,), name=type(loop).__name__, daemon=True) for loop in loops]
    for thread in threads:
        thread.start()
    liveness_file = os.environ.get("LIVENESS_FILE")
    while not stop.is_set():
        if liveness_file and all(t.is_alive() for t in threads):
            touch(liveness_file)  # read by `python -m shared.liveness` (a container's health check)
        if stop.wait(0.5):
            break  # asked to stop: the loops are finishing
        if not all(t.is_alive() for t in threads):
            # A loop only returns on stop; one that died must not leave the process half-working.
            log.error("a loop ended unexpectedly, stopping the process")
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
            raise SystemExit(1)
    for thread in threads:
        thread.join(timeout=10)


#: Builds one of a service's extra loops (an importer, a refresh) from its settings and runtime.
LoopFactory = Callable[[Any, Runtime], Loop]


def service_main(
    service: str,
    argv: list[str],
    *,
    tables: MessagingTables,
    consumer: str | None = None,
    handlers: Mapping[str, Any] | None = None,
    prepare: Prepare | None = None,
    settings_cls: type[Settings] = Settings,
    loops: Mapping[str, LoopFactory] | None = None,
) -> None:
    """Entry point of a service's background process.

    ``argv`` names the loops to run: ``relay``, ``consume`` (when the service has handlers) and the
    service's own ``loops`` by name (default: every one), so a small deployment runs one process and
    a large one scales each apart. Imports no Flask: a worker process carries no web framework.
    """
    named: dict[str, LoopFactory] = {
        "relay": lambda settings, runtime: OutboxRelay(settings, runtime.session_factory, tables)
    }
    if handlers:
        named["consume"] = lambda settings, runtime: ConsumerRunner(
            settings, runtime.session_factory, tables, consumer or service, dict(handlers), prepare=prepare
        )
    named.update(loops or {})
    wanted = set(argv) or set(named)
    unknown = wanted - set(named)
    if unknown:
        raise SystemExit(f"unknown loop(s) {sorted(unknown)} for {service}; use {', '.join(named)}")
    settings = load_settings(service, cls=settings_cls)
    configure_logging(f"{service}-{'+'.join(argv) or 'all'}", settings.log_level)
    runtime = Runtime.build(settings)
    start_metrics_server(settings, runtime, tables)
    run_until_signalled(*(factory(settings, runtime) for name, factory in named.items() if name in wanted))


def start_metrics_server(settings: Settings, runtime: Runtime, tables: MessagingTables) -> WSGIServer | None:
    """Serve the process's Prometheus metrics and its service's outbox gauges on ``METRICS_PORT``.

    Nothing when the port is 0 or unset (so replicas of one process type can run without one, or
    each with a port of its own). A port that cannot be bound stops the process at start. Returns
    the server (serving from a daemon thread), or None.
    """
    if not settings.metrics_port:
        return None
    outbox = OutboxCollector(settings.service, runtime.engine, tables.outbox)
    try:
        server, _thread = serve_metrics(settings.metrics_port, settings.bind_host, outbox)
    except (OSError, OverflowError) as exc:
        raise SystemExit(
            f"cannot serve metrics on {settings.bind_host}:{settings.metrics_port} (METRICS_PORT): {exc}"
        ) from None
    log.info("serving metrics", extra={"host": settings.bind_host, "port": settings.metrics_port})
    return server
