"""Liveness of relays and workers, which serve no HTTP: a file they touch while every loop runs.

A background process with ``LIVENESS_FILE`` set touches that file every few seconds for as long as
all of its loops are alive; ``python -m shared.liveness FILE [MAX_AGE_SECONDS]`` (a container's
health check) exits 0 while the file is fresher than ``MAX_AGE_SECONDS`` (default 30) and 1
otherwise, so a hung or dead loop makes the container unhealthy.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

DEFAULT_MAX_AGE_SECONDS = 30.0


def touch(path: str | os.PathLike[str]) -> None:
    """Mark the process alive now."""
    Path(path).touch()


def is_alive(
    path: str | os.PathLike[str], max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS, now: float | None = None
) -> bool:
    """Whether ``path`` was touched within ``max_age_seconds``."""
    try:
        modified = os.stat(path).st_mtime
    except FileNotFoundError:
        return False
    return ((time.time() if now is None else now) - modified) <= max_age_seconds


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2:
        print("usage: python -m shared.liveness FILE [MAX_AGE_SECONDS]", file=sys.stderr)
        return 2
    max_age = float(argv[1]) if len(argv) == 2 else DEFAULT_MAX_AGE_SECONDS
    if is_alive(argv[0], max_age):
        return 0
    print(f"{argv[0]} not touched within {max_age:g}s: a loop is dead or stuck", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
