"""Bills accepted through the gateway per second, against a baseline measured in the same run.

The baseline is ``GET /healthz`` through the same gateway with the same client threads: what the
gateway and this machine serve when no work is done, so the ratio is comparable across machines.
Prints::

    healthz_baseline 2150.3 req/s (p99 4.1 ms)
    bills_accepted 410.2 bills/s (baseline 2150.3, ratio 0.191)
    bills_p99_latency 31.2 ms

Without ``--gateway`` it starts the whole stack like the end-to-end tests (tests/stack.py: PostgreSQL
databases and a RabbitMQ vhost of its own, the Procfile's processes); with ``--gateway URL`` it
measures a running stack (``--username``/``--password``, default the .env.example admin).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import threading
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def hammer(seconds: float, threads: int, make_request) -> tuple[int, int, list[float]]:
    """Run ``make_request(session, n)`` from ``threads`` threads for ``seconds``; (ok, failed, latencies)."""
    stop_at = time.monotonic() + seconds
    counter = itertools.count()
    lock = threading.Lock()
    ok, failed, latencies = [0], [0], []

    def loop():
        session = requests.Session()
        mine_ok = mine_failed = 0
        mine_latencies = []
        while time.monotonic() < stop_at:
            n = next(counter)
            started = time.perf_counter()
            try:
                good = make_request(session, n)
            except requests.RequestException:
                good = False
            mine_latencies.append(time.perf_counter() - started)
            if good:
                mine_ok += 1
            else:
                mine_failed += 1
        with lock:
            ok[0] += mine_ok
            failed[0] += mine_failed
            latencies.extend(mine_latencies)

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return ok[0], failed[0], latencies


def bill_for(n: int) -> dict:
    return {
        "customer_phone": f"+9198765{n % 100_000:05d}",
        "customer_name": f"Bench {n % 1000}",
        "customer_category": "regular_branded",
        "items": [
            {"medicine_name": "Metformin 500", "quantity": 2, "amount": "120.50", "duration_days": 30},
            {"medicine_name": "Vitamin D3", "quantity": 1, "amount": "80.00", "is_generic": True},
        ],
    }


def measure(gateway: str, token: str, seconds: float, baseline_seconds: float, threads: int) -> dict:
    gateway = gateway.rstrip("/")
    headers = {"Authorization": f"Bearer {token}"}

    def healthz(session, _n):
        return session.get(f"{gateway}/healthz", timeout=30).status_code == 200

    def bill(session, n):
        response = session.post(f"{gateway}/api/v1/bills", json=bill_for(n), headers=headers, timeout=60)
        return response.status_code == 201

    hammer(1.0, threads, healthz)  # warm up connections and gunicorn threads
    base_ok, base_failed, base_lat = hammer(baseline_seconds, threads, healthz)
    bills_ok, bills_failed, bill_lat = hammer(seconds, threads, bill)
    baseline = base_ok / baseline_seconds
    rate = bills_ok / seconds
    return {
        "baseline": baseline,
        "baseline_p99_ms": percentile(base_lat, 99) * 1000,
        "baseline_failed": base_failed,
        "bills": rate,
        "bills_failed": bills_failed,
        "bills_p99_ms": percentile(bill_lat, 99) * 1000,
        "bills_median_ms": statistics.median(bill_lat) * 1000 if bill_lat else float("nan"),
        "ratio": rate / baseline if baseline else float("nan"),
    }


def login(gateway: str, username: str, password: str) -> str:
    response = requests.post(
        f"{gateway.rstrip('/')}/api/v1/auth/login", json={"username": username, "password": password}, timeout=30
    )
    response.raise_for_status()
    return response.json()["access_token"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="how long bills are posted (default 20)")
    parser.add_argument("--baseline-seconds", type=float, default=5.0, help="how long /healthz is measured")
    parser.add_argument("--threads", type=int, default=8, help="concurrent client threads (default 8)")
    parser.add_argument("--gateway", help="URL of a running gateway; default: start a stack of its own")
    parser.add_argument(
        "--services",
        help="comma-separated services of the stack it starts (default: all); "
        "'gateway,billing' measures the accept path without any consumer",
    )
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="admin-dev-password")
    args = parser.parse_args(argv)

    if args.gateway:
        result = measure(
            args.gateway,
            login(args.gateway, args.username, args.password),
            args.seconds,
            args.baseline_seconds,
            args.threads,
        )
    else:
        from tests.stack import ADMIN_PASSWORD, ADMIN_USERNAME, standalone_stack

        with standalone_stack(args.services.split(",") if args.services else None) as stack:
            print(f"stack started (logs in {stack.log_dir})", file=sys.stderr)
            token = login(stack.gateway_url, ADMIN_USERNAME, ADMIN_PASSWORD)
            result = measure(stack.gateway_url, token, args.seconds, args.baseline_seconds, args.threads)

    print(
        f"healthz_baseline {result['baseline']:.1f} req/s (p99 {result['baseline_p99_ms']:.1f} ms, "
        f"failed {result['baseline_failed']})"
    )
    print(
        f"bills_accepted {result['bills']:.1f} bills/s (baseline {result['baseline']:.1f}, ratio {result['ratio']:.3f})"
    )
    print(
        f"bills_p99_latency {result['bills_p99_ms']:.1f} ms (median {result['bills_median_ms']:.1f} ms, "
        f"failed {result['bills_failed']})"
    )
    return 0 if result["bills_failed"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
