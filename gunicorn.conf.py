"""Gunicorn settings shared by every HTTP process (the bind address is given per process).

Used as ``gunicorn -c gunicorn.conf.py -b HOST:PORT <module>.wsgi:app`` by the Procfile and
docker-compose.yml. Threads, not extra processes, absorb I/O waits (the gateway mostly waits
on upstream services); nothing is preloaded, so no connection crosses a fork.

Sizing (``WEB_CONCURRENCY`` and ``GUNICORN_THREADS`` override it): one worker per two CPU cores
(at least one) and four threads per worker. Six HTTP processes share the machine with the
relays, the consumers and PostgreSQL, and a worker runs Python on one core at most (the GIL):
with half the cores each, the two processes of the accept path (gateway, billing) can fill the
machine between them; on 2 cores a second worker per process only adds processes (~70 MB each)
competing for the same two cores. Four threads cover the waits (the gateway waits on billing,
billing on PostgreSQL); more requests in flight per worker only lengthen the tail, as they share
one GIL, so further ones queue in the worker, in order.

Measured on a 2-core machine with ``bench/bench_gateway.py --seconds 20`` (the whole stack; there
``E2E_WEB_CONCURRENCY`` sets the workers, which tests/stack.py otherwise pins to 2), settings
interleaved in rounds while other work loaded the machine (load average 3-20: compare figures
of one round only). Bills/s and bills p99 ms, one column per round::

    workers x threads   bills/s                              p99 ms
    2 x 4 (before)      22.4  33.2  46.0  50.1  49.5  49.5    967  886  319  319  295  353
    1 x 4 (chosen)      24.8  37.7  53.8  61.6  53.9  40.0    561  353  244  243  277  334
    1 x 8               20.1  41.6  58.2  30.4*               728  400  295  661*
    2 x 8               22.6  33.3                            703  460
    gateway 2 x 8,
    services 1 x 8      27.9  37.4  60.1  27.0*               590  448  292  630*
    (* a round disturbed by the other load: its healthz baseline fell too)

One worker gave more bills/s than two in five rounds of six and a shorter p99 in all six; eight
threads or a second gateway worker did no better. Set ``WEB_CONCURRENCY=2`` where a second worker
should keep a process answering while the first is restarted, and more on more cores.
"""

import os
import shutil
import tempfile

_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
workers = int(os.environ.get("WEB_CONCURRENCY") or max(1, _CORES // 2))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "10"))
keepalive = 5
preload_app = False
# Application logs are JSON from shared.logs; gunicorn's own error log goes to stderr.
errorlog = "-"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# -- Prometheus multiprocess mode (shared.metrics) ---------------------------------------------
# Each worker writes its samples to files in PROMETHEUS_MULTIPROC_DIR, and GET /metrics, whichever
# worker answers it, sums the files of all of them. prometheus_client reads the variable when a
# worker first imports it, so it is set here, in the master, before any worker starts: a fresh
# directory per master (removed on exit) unless the environment names one, which is then emptied
# of a previous run's files at start. Never give two masters the same directory.
_METRICS_DIR_PREFIX = "prometheus-multiproc-"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=_METRICS_DIR_PREFIX)


def _own_metrics_dir(path: str) -> bool:
    """Whether ``path`` is a directory made above (this module runs again when the config is reloaded)."""
    return os.path.dirname(path) == tempfile.gettempdir() and os.path.basename(path).startswith(_METRICS_DIR_PREFIX)


def on_starting(server):
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(path, exist_ok=True)
    for entry in os.scandir(path):
        if entry.name.endswith(".db"):  # samples of a previous run (prometheus_client's files)
            os.remove(entry.path)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    if _own_metrics_dir(path):
        shutil.rmtree(path, ignore_errors=True)
