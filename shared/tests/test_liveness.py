"""Relays and workers report liveness through a file their loops keep fresh (compose health checks)."""

from __future__ import annotations

import os
import threading
import time

from shared import liveness
from shared.process import run_until_signalled


class _Loop:
    def __init__(self) -> None:
        self.stop: threading.Event | None = None

    def run(self, stop: threading.Event) -> None:
        self.stop = stop
        stop.wait()


def test_the_file_is_fresh_while_the_loops_run_and_stale_after(tmp_path, monkeypatch):
    alive = tmp_path / "alive"
    monkeypatch.setenv("LIVENESS_FILE", str(alive))
    assert liveness.main([str(alive)]) == 1  # never touched: unhealthy
    loop = _Loop()
    runner = threading.Thread(target=lambda: run_until_signalled(loop), daemon=True)
    # run_until_signalled runs in a thread here, where Python refuses to install signal handlers
    monkeypatch.setattr("signal.signal", lambda *_args: None)
    runner.start()
    deadline = time.monotonic() + 5
    while not alive.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert liveness.main([str(alive), "5"]) == 0
    assert loop.stop is not None
    loop.stop.set()
    runner.join(timeout=5)
    old = time.time() - 60
    os.utime(alive, (old, old))
    assert liveness.main([str(alive), "30"]) == 1
