"""Gunicorn settings shared by every HTTP process (the bind address is given per process).

Used as ``gunicorn -c gunicorn.conf.py -b HOST:PORT <module>.wsgi:app`` by the Procfile and
docker-compose.yml. Threads, not extra processes, absorb I/O waits (the gateway mostly waits
on upstream services); nothing is preloaded, so no connection crosses a fork.
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "10"))
keepalive = 5
preload_app = False
# Application logs are JSON from shared.logs; gunicorn's own error log goes to stderr.
errorlog = "-"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
