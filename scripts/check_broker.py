"""Exit 0 when RabbitMQ answers at AMQP_URL; otherwise say how to start one and exit 1.

Used by `make run` (through scripts/with_env.py, so .env fills in what the environment lacks) before anything is started.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def main() -> int:
    url = os.environ.get("AMQP_URL") or DEFAULT_AMQP_URL
    try:
        import pika
        from pika.exceptions import ProbableAccessDeniedError, ProbableAuthenticationError
    except ImportError:  # pragma: no cover - the virtualenv always has pika
        print("pika is not installed: run `make install` first", file=sys.stderr)
        return 1
    params = pika.URLParameters(url)
    params.connection_attempts = 1
    params.retry_delay = 0
    params.socket_timeout = 3
    params.blocked_connection_timeout = 3
    try:
        pika.BlockingConnection(params).close()
    except (ProbableAuthenticationError, ProbableAccessDeniedError) as exc:
        print(
            f"RabbitMQ at {_redacted(url)} refused the credentials or virtual host ({type(exc).__name__}).\n"
            "Fix AMQP_URL in .env (user, password and vhost must exist on the broker).",
            file=sys.stderr,
        )
        return 1
    except Exception as exc:
        why = type(exc).__name__ + (f": {exc}" if str(exc) else "")
        print(
            f"RabbitMQ is not reachable at {_redacted(url)} ({why}).\n"
            "Start one, then run `make run` again:\n"
            "  rabbitmq-server -detached            # a locally installed RabbitMQ\n"
            "  docker compose up -d rabbitmq        # or the one from docker-compose.yml\n"
            "or point AMQP_URL in .env at a running broker.",
            file=sys.stderr,
        )
        return 1
    print(f"RabbitMQ reachable at {_redacted(url)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
