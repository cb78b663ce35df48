"""Where a bill's time goes: cProfile of the accept path and of each consumer, in-process.

Run from the repository root with PostgreSQL running (no RabbitMQ needed: nothing is published)::

    make profile                                   # or: .venv/bin/python bench/profile_pipeline.py
    .venv/bin/python bench/profile_pipeline.py --bills 300 --top 15 --consumer-top 10

1. **Accept path.** Billing's Flask app (built as services/billing/tests/conftest.py builds it) on a
   fresh, migrated PostgreSQL database takes ``--bills`` ``POST /api/v1/bills`` through its test
   client (the body of bench/bench_gateway.py); then the gateway's app (gateway/tests/conftest.py)
   takes as many through its test client and proxies them over HTTP to billing served on a local
   port over keep-alive connections, as gunicorn serves it (``shared.wire.KeepAliveServer``; the
   TCP connections it accepted are reported). Each path runs twice: timed without the profiler
   (bills/s; SQL statements, BEGINs, commits, rollbacks and pool checkouts per bill, counted with
   SQLAlchemy events, and their sum, the round trips to PostgreSQL: each checkout is one
   ``pool_pre_ping`` that the statement count does not see, and a BEGIN, COMMIT or ROLLBACK on a
   connection in autocommit sends nothing, so it is not counted), then under cProfile (top
   functions by cumulative and by own time, own time by package). cProfile sees only the calling
   thread, so the gateway's profile is the gateway's own work; the billing behind it shows as the
   wait in the socket read. The round trips counted here are the ones a relay counts on the wire
   (``shared.wire.RoundTripCounter``; gateway/tests/test_account_check.py and
   services/billing/tests/test_bill_round_trips.py hold them to it).
2. **Consumers.** The ``bill.created`` events of those bills, read from billing's outbox, are fed to
   customers, contacts, reminders and reporting (in that order, each on a fresh database) the way a
   delivery is handled, without the broker: ``parse_event`` of the outbox payload,
   ``ConsumerRunner.load`` (the validation ``_deliver`` does) and ``ConsumerRunner.apply`` in batches
   of the runner's batch size (``CONSUMER_BATCH_SIZE``; ``--batch 1`` applies one event per
   transaction, as the consumers did before batching): an inbox row and the handler per event, one
   commit per batch. Events a consumer writes to its own outbox (``customer.upserted``,
   ``purchase.recorded``, ...) are fed on to the consumers that handle them, as the relay would. The
   bills of the timed accept runs feed the timed consumer round (events/s, SQL per event); the bills
   of the profiled runs feed the profiled round (top functions by own time).
3. A summary in the benchmark format (``name value unit (baseline -, ratio -)``; no baseline here).

``--accept-only`` stops after the accept path (no consumers).

Single-threaded and in-process: this shows the cost of one bill and one event, not contention
between gunicorn workers or consumers. Logging stays at the services' level (its cost is part of
the profile) but goes to /dev/null. Uses throw-away databases of its own and drops them.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import logging
import os
import pstats
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository: shared, gateway, services
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/: the bill of bench_gateway.py

from bench_gateway import bill_for
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from shared.consumer import ConsumerRunner
from shared.envelope import parse_event
from shared.runtime import Runtime
from shared.testing import DEFAULT_AMQP, DEFAULT_PG, DatabaseFactory, auth_headers, make_settings
from shared.wire import KeepAliveServer

REPO_ROOT = Path(__file__).resolve().parent.parent
ADMIN_ENV = {"ADMIN_USERNAME": "profiler", "ADMIN_PASSWORD": "profile-admin-pass"}
CONSUMERS = ("customers", "contacts", "reminders", "reporting")
SITE_MARKERS = ("site-packages/", "dist-packages/")


# -- counting SQL -----------------------------------------------------------------------------
KINDS = ("statements", "begins", "commits", "rollbacks", "checkouts")


@dataclass(frozen=True)
class Sql:
    """SQL traffic per unit (bill or event). With psycopg 3 each of these is one round trip to
    PostgreSQL: a statement, the BEGIN it sends before a transaction's first statement, COMMIT,
    ROLLBACK, and the ``pool_pre_ping`` of every pool checkout (which the statement events miss).
    A connection in autocommit sends no BEGIN, COMMIT or ROLLBACK: those are not counted."""

    statements: float = 0.0
    begins: float = 0.0
    commits: float = 0.0
    rollbacks: float = 0.0
    checkouts: float = 0.0

    @property
    def round_trips(self) -> float:
        return self.statements + self.begins + self.commits + self.rollbacks + self.checkouts

    def describe(self) -> str:
        return (
            f"{self.statements:.2f} SQL statements, {self.commits:.2f} commits, {self.rollbacks:.2f} rollbacks, "
            f"{self.begins:.2f} BEGIN, {self.checkouts:.2f} pool checkouts (pre-ping) = "
            f"{self.round_trips:.2f} round trips"
        )


class SqlCounter:
    """Counts one engine's statements, transactions and pool checkouts (SQLAlchemy events)."""

    def __init__(self) -> None:
        self.counts = dict.fromkeys(KINDS, 0)
        self._lock = threading.Lock()

    def attach(self, engine: Engine) -> SqlCounter:
        sa_event.listen(engine, "before_cursor_execute", lambda *_: self._count("statements"))
        sa_event.listen(engine, "begin", lambda conn: self._count_unless_autocommit(conn, "begins"))
        sa_event.listen(engine, "commit", lambda conn: self._count_unless_autocommit(conn, "commits"))
        sa_event.listen(engine, "rollback", lambda conn: self._count_unless_autocommit(conn, "rollbacks"))
        sa_event.listen(engine.pool, "checkout", lambda *_: self._count("checkouts"))
        return self

    def _count_unless_autocommit(self, conn: Connection, kind: str) -> None:
        # SQLAlchemy's events fire in autocommit too, where psycopg sends nothing.
        if not getattr(conn.connection.dbapi_connection, "autocommit", False):
            self._count(kind)

    def _count(self, kind: str) -> None:
        with self._lock:  # the gateway's billing runs in a server thread
            self.counts[kind] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)

    def since(self, before: dict[str, int], units: int) -> Sql:
        """The traffic since ``before`` (a ``snapshot``), per unit."""
        now = self.snapshot()
        return Sql(**{kind: (now[kind] - before[kind]) / max(1, units) for kind in KINDS})


# -- profiles ---------------------------------------------------------------------------------
def where(key: tuple[str, int, str]) -> str:
    """``path:line(function)`` with the path shortened to the repository or the installed package."""
    filename, line, name = key
    if filename == "~":
        return name  # a built-in such as {method 'execute' of 'psycopg...'}
    text = filename
    root = str(REPO_ROOT) + os.sep
    if text.startswith(root):
        text = text[len(root) :]
    else:
        for marker in SITE_MARKERS:
            if marker in text:
                text = text.split(marker, 1)[1]
                break
        else:
            lib = text.rfind("/python3.")
            if lib >= 0:
                text = "stdlib/" + text[lib:].split("/", 2)[-1]
    return f"{text}:{line}({name})"


#: The test client and this script: left out of the cumulative list (they only wrap the request).
HARNESS = ("bench/profile_pipeline.py", "werkzeug/test.py", "flask/testing.py")


def package_of(key: tuple[str, int, str]) -> str:
    """What a function belongs to: an installed package, a module of the repository, the stdlib or C."""
    filename, _line, name = key
    if filename == "~":
        return "socket (waiting on the peer)" if "socket" in name else "C built-ins"
    place = where(key).split(":", 1)[0]
    if place.startswith("stdlib/"):
        return "stdlib"
    if place.startswith(".venv/") or any(marker in filename for marker in SITE_MARKERS):
        return place.split("site-packages/", 1)[-1].split("/", 1)[0]
    parts = place.split("/")
    return ".".join(parts[:2]) if parts[0] == "services" else parts[0]


def print_profile(
    profile: cProfile.Profile, cumulative: int, own: int, units: int, unit: str, packages: int = 8
) -> None:
    """Top functions by cumulative time (``cumulative`` rows, 0 for none) and by own time, and own time by package."""
    stats: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in stats.values())
    print(
        f"  profiled: {total:.2f} s over {units} {unit}s = {total / units * 1000:.2f} ms/{unit} (cProfile overhead included)"
    )
    header = (
        f"    {'ncalls':>11} {'tottime s':>9} {'cumtime s':>9} {f'cum ms/{unit}':>12} {f'own ms/{unit}':>12}  function"
    )

    def rows(items: list[tuple[tuple[str, int, str], tuple[int, int, float, float, Any]]]) -> None:
        print(header)
        for key, (cc, nc, tt, ct, _callers) in items:
            calls = str(nc) if cc == nc else f"{nc}/{cc}"
            print(
                f"    {calls:>11} {tt:9.3f} {ct:9.3f} {ct / units * 1000:12.3f} {tt / units * 1000:12.3f}  {where(key)}"
            )

    if cumulative:
        print(f"  top {cumulative} by cumulative time (the test client and this script left out):")
        framework = [item for item in stats.items() if not any(h in item[0][0] for h in HARNESS)]
        rows(sorted(framework, key=lambda item: item[1][3], reverse=True)[:cumulative])
    print(f"  top {own} by own time:")
    rows(sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:own])
    by_package: dict[str, float] = {}
    for key, row in stats.items():
        by_package[package_of(key)] = by_package.get(package_of(key), 0.0) + row[2]
    top = sorted(by_package.items(), key=lambda item: item[1], reverse=True)[:packages]
    print(
        "  own time by package: "
        + ", ".join(f"{name} {seconds / total:.0%} ({seconds / units * 1000:.2f} ms)" for name, seconds in top)
    )


def profiled(action: Callable[[], None]) -> tuple[cProfile.Profile, float]:
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    try:
        action()
    finally:
        profile.disable()
    return profile, time.perf_counter() - started


def quiet_logs() -> None:
    """Keep the services' log records (and their formatting cost) but drop the output."""
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)


# -- the accept path --------------------------------------------------------------------------
@dataclass
class AcceptResult:
    name: str
    bills: int
    seconds: float
    cpu_seconds: float  # this process's CPU time (the gateway's and the billing behind it, not PostgreSQL's)
    sql: dict[str, Sql]  # per bill, by database
    timed_ids: set[int]
    profiled_ids: set[int]
    upstream_connections: int | None = None  # TCP connections billing accepted from the gateway


def post_bills(client: Any, headers: dict[str, str], numbers: Iterable[int], bodies: list[bytes]) -> None:
    """POST each bill; the answers' bodies go to ``bodies`` (parsed later, outside any timing)."""
    for n in numbers:
        response = client.post("/api/v1/bills", json=bill_for(n), headers=headers)
        body = response.get_data()
        response.close()
        if response.status_code != 201:
            raise SystemExit(f"POST /api/v1/bills answered {response.status_code}: {body!r}")
        bodies.append(body)


def bill_ids(bodies: list[bytes]) -> set[int]:
    return {json.loads(body)["id"] for body in bodies}


def accept_path(
    name: str,
    client: Any,
    headers: dict[str, str],
    counters: dict[str, SqlCounter],
    first: int,
    bills: int,
    args: argparse.Namespace,
    upstream: KeepAliveServer | None = None,
) -> AcceptResult:
    """``bills`` bills timed (and counted), then as many under cProfile; prints the profile."""
    warm: list[bytes] = []
    timed: list[bytes] = []
    under_profile: list[bytes] = []
    post_bills(client, headers, range(first - 5, first), warm)  # warm-up: lazy imports, compiled statements
    before = {db: counter.snapshot() for db, counter in counters.items()}
    started, cpu_started = time.perf_counter(), time.process_time()
    post_bills(client, headers, range(first, first + bills), timed)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    sql = {db: counter.since(before[db], bills) for db, counter in counters.items()}
    profile, profiled_seconds = profiled(
        lambda: post_bills(client, headers, range(first + bills, first + 2 * bills), under_profile)
    )
    print(f"\n== accept path: {name}")
    print(
        f"  timed: {bills} bills in {seconds:.2f} s = {bills / seconds:.1f} bills/s, {cpu_seconds / bills * 1000:.2f} ms "
        f"of CPU per bill in this process; under cProfile {profiled_seconds:.2f} s"
    )
    for db, traffic in sql.items():
        print(f"  {db} database per bill: {traffic.describe()}")
    connections = upstream.connections if upstream is not None else None
    if connections is not None:
        print(f"  billing accepted {connections} TCP connection(s) from the gateway for {2 * bills + 5} bills")
    print_profile(profile, args.top, args.top, bills, "bill")
    if args.dump:
        Path(args.dump).mkdir(parents=True, exist_ok=True)
        profile.dump_stats(str(Path(args.dump) / f"accept_{name.split()[0]}.prof"))
    return AcceptResult(name, bills, seconds, cpu_seconds, sql, bill_ids(timed), bill_ids(under_profile), connections)


# -- the consumers ----------------------------------------------------------------------------
@dataclass
class Consumer:
    service: str
    runtime: Runtime
    runner: ConsumerRunner
    outbox: Any
    counter: SqlCounter
    last_outbox_id: int = 0

    def new_events(self) -> list[dict[str, Any]]:
        """Envelopes this consumer wrote to its outbox since the last call (what its relay would publish)."""
        table = self.outbox
        with self.runtime.engine.connect() as conn:
            rows = conn.execute(
                select(table.c.id, table.c.payload).where(table.c.id > self.last_outbox_id).order_by(table.c.id)
            ).all()
        if rows:
            self.last_outbox_id = rows[-1].id
        return [json.loads(row.payload) for row in rows]


def build_consumer(service: str, databases: DatabaseFactory) -> Consumer:
    import importlib

    models = importlib.import_module(f"services.{service}.models")
    consumers = importlib.import_module(f"services.{service}.consumers")
    handlers = consumers.HANDLERS
    cls: Any = None
    if service == "contacts":
        from services.contacts.settings import ContactsSettings

        cls = ContactsSettings
    url = databases.create(f"profile_{service}", service=service)
    settings = make_settings(service, url, DEFAULT_AMQP, **({"cls": cls} if cls else {}))
    runtime = Runtime.build(settings)
    runner = ConsumerRunner(
        settings,
        runtime.session_factory,
        models.messaging,
        service,
        handlers,
        prepare=getattr(consumers, "PREPARE", None),
    )
    counter = SqlCounter().attach(runtime.engine)
    return Consumer(service, runtime, runner, models.messaging.outbox, counter)


#: Deliveries applied per transaction (``--batch``; the runner's own batch size by default).
BATCH: dict[str, int] = {}


def deliver_all(runner: ConsumerRunner, bodies: list[str]) -> None:
    """What ``ConsumerRunner._deliver`` does with the bodies, minus the broker: parse and validate
    each, then apply them in batches (``ConsumerRunner.apply``: one transaction per batch)."""
    size = BATCH.get("size") or runner.batch_size
    for start in range(0, len(bodies), size):
        events = [parse_event(body) for body in bodies[start : start + size]]
        for event in events:
            runner.load(event)
        runner.apply(events)


@dataclass
class ConsumeResult:
    service: str
    events: int = 0
    seconds: float = 0.0
    sql: Sql = field(default_factory=Sql)
    types: dict[str, int] = field(default_factory=dict)
    profiled_events: int = 0
    profiled_seconds: float = 0.0
    profile: cProfile.Profile | None = None


def consume_round(
    consumers: list[Consumer], bill_events: list[dict[str, Any]], results: dict[str, ConsumeResult], profile: bool
) -> None:
    """Feed the bills' events through every consumer in turn, passing each one's new outbox events on."""
    pool = list(bill_events)
    for consumer in consumers:
        mine = [e for e in pool if e["type"] in consumer.runner.handlers]
        bodies = [json.dumps(e) for e in mine]  # the wire form the relay publishes
        result = results[consumer.service]
        if profile:
            result.profile, result.profiled_seconds = profiled(lambda c=consumer, b=bodies: deliver_all(c.runner, b))
            result.profiled_events = len(bodies)
        else:
            deliver_all(consumer.runner, bodies[:5])  # warm-up
            bodies = bodies[5:]
            before = consumer.counter.snapshot()
            started = time.perf_counter()
            deliver_all(consumer.runner, bodies)
            result.seconds = time.perf_counter() - started
            result.events = len(bodies)
            result.sql = consumer.counter.since(before, len(bodies))
            for e in mine:
                result.types[e["type"]] = result.types.get(e["type"], 0) + 1
        pool.extend(consumer.new_events())


def billing_events(engine: Engine, outbox: Any, ids: set[int]) -> list[dict[str, Any]]:
    """The ``bill.created`` envelopes in billing's outbox of the bills ``ids``, in the order written."""
    with engine.connect() as conn:
        payloads = conn.execute(select(outbox.c.payload).order_by(outbox.c.id)).scalars().all()
    events = [json.loads(p) for p in payloads]
    return [e for e in events if e["type"] == "bill.created" and e["data"]["bill_id"] in ids]


# -- main -------------------------------------------------------------------------------------
def summary(name: str, value: float, unit: str, digits: int = 1) -> str:
    return f"{name} {value:.{digits}f} {unit} (baseline -, ratio -)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=300, help="bills per timed run and per profiled run (default 300)")
    parser.add_argument("--top", type=int, default=15, help="functions listed per accept-path profile (default 15)")
    parser.add_argument("--consumer-top", type=int, default=10, help="functions listed per consumer (default 10)")
    parser.add_argument(
        "--no-gateway", action="store_true", help="profile billing's app only (not the gateway in front of it)"
    )
    parser.add_argument("--dump", metavar="DIR", help="also write each profile as DIR/<name>.prof (for snakeviz etc.)")
    parser.add_argument("--accept-only", action="store_true", help="profile the accept path only (no consumers)")
    parser.add_argument("--batch", type=int, default=0, help="events per consumer transaction (default: the runner's)")
    args = parser.parse_args(argv)
    BATCH["size"] = max(0, args.batch)
    n = args.bills
    started = time.perf_counter()

    from gateway.app import create_app as create_gateway
    from gateway.settings import GatewaySettings
    from services.billing.app import create_app as create_billing
    from services.billing.models import messaging as billing_messaging

    databases = DatabaseFactory(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG))
    runtimes: list[Runtime] = []
    upstream: KeepAliveServer | None = None
    lines: list[str] = []
    try:
        print(f"creating and migrating databases (prefix {databases.prefix})", file=sys.stderr)
        setup_log = io.StringIO()  # migrations and the first admin log at INFO: shown only when setup fails
        try:
            with contextlib.redirect_stderr(setup_log):
                billing_settings = make_settings(
                    "billing", databases.create("profile_billing", service="billing"), DEFAULT_AMQP
                )
                billing_runtime = Runtime.build(billing_settings)
                runtimes.append(billing_runtime)
                billing_app = create_billing(billing_settings, billing_runtime)
                billing_sql = SqlCounter().attach(billing_runtime.engine)
                consumers = [] if args.accept_only else [build_consumer(service, databases) for service in CONSUMERS]
                runtimes.extend(c.runtime for c in consumers)
                if not args.no_gateway:
                    gateway_url = databases.create("profile_gateway", service="gateway")
                    upstream = KeepAliveServer(billing_app)
                    nowhere = "http://127.0.0.1:9"
                    gateway_settings = make_settings(
                        "gateway", gateway_url, DEFAULT_AMQP, cls=GatewaySettings
                    ).with_upstreams({"billing": upstream.url, **dict.fromkeys(CONSUMERS, nowhere)})
                    gateway_runtime = Runtime.build(gateway_settings)
                    runtimes.append(gateway_runtime)
                    gateway_app = create_gateway(gateway_settings, gateway_runtime, environ=ADMIN_ENV)
                    gateway_sql = SqlCounter().attach(gateway_runtime.engine)
        except BaseException:
            sys.stderr.write(setup_log.getvalue())
            raise
        quiet_logs()
        print(f"ready in {time.perf_counter() - started:.1f} s; {n} bills per run", file=sys.stderr)

        # 1. accept path: billing alone, bills numbered 1000+ (timed) and 1000+n+ (profiled).
        results: list[AcceptResult] = []
        billing_first = 1000
        results.append(
            accept_path(
                "billing app (test client, POST /api/v1/bills)",
                billing_app.test_client(),
                auth_headers("admin", 1),
                {"billing": billing_sql},
                billing_first,
                n,
                args,
            )
        )
        if not args.no_gateway:
            client = gateway_app.test_client()
            login = client.post(
                "/api/v1/auth/login",
                json={"username": ADMIN_ENV["ADMIN_USERNAME"], "password": ADMIN_ENV["ADMIN_PASSWORD"]},
            )
            if login.status_code != 200:
                raise SystemExit(f"gateway login answered {login.status_code}: {login.get_data(as_text=True)}")
            headers = {"Authorization": f"Bearer {login.json['access_token']}"}
            results.append(
                accept_path(
                    "gateway app (test client) -> HTTP proxy -> billing app (werkzeug thread, not profiled)",
                    client,
                    headers,
                    {"gateway": gateway_sql, "billing": billing_sql},
                    billing_first + 10 * n,  # other phone numbers than billing's own run
                    n,
                    args,
                    upstream,
                )
            )
        timed_ids = set().union(*(r.timed_ids for r in results))
        profiled_ids = set().union(*(r.profiled_ids for r in results))

        # 2. consumers: the timed bills' events, then the profiled bills' events.
        outbox = billing_messaging.outbox
        consume: dict[str, ConsumeResult] = {c.service: ConsumeResult(c.service) for c in consumers}
        consume_round(consumers, billing_events(billing_runtime.engine, outbox, timed_ids), consume, profile=False)
        consume_round(consumers, billing_events(billing_runtime.engine, outbox, profiled_ids), consume, profile=True)
        for c in consumers:
            r = consume[c.service]
            kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(r.types.items()))
            print(f"\n== consumer: {c.service} (ConsumerRunner.apply in batches; events of the timed round: {kinds})")
            print(
                f"  timed: {r.events} events in {r.seconds:.2f} s = {r.events / r.seconds:.1f} events/s; "
                f"under cProfile {r.profiled_events} events in {r.profiled_seconds:.2f} s"
            )
            print(f"  per event: {r.sql.describe()}")
            if r.profile is not None and r.profiled_events:
                print_profile(r.profile, 0, args.consumer_top, r.profiled_events, "event")
                if args.dump:
                    Path(args.dump).mkdir(parents=True, exist_ok=True)
                    r.profile.dump_stats(str(Path(args.dump) / f"consume_{c.service}.prof"))

        # 3. summary
        for result in results:
            prefix = "accept_billing" if result.name.startswith("billing") else "accept_gateway"
            lines.append(summary(f"{prefix}_bills_per_s", result.bills / result.seconds, "bills/s"))
            lines.append(summary(f"{prefix}_cpu_ms_per_bill", result.cpu_seconds / result.bills * 1000, "ms", 2))
            for db, traffic in result.sql.items():
                label = prefix if prefix == "accept_billing" else f"{prefix}_{db}db"
                lines.append(summary(f"{label}_sql_per_bill", traffic.statements, "statements", 2))
                lines.append(summary(f"{label}_commits_per_bill", traffic.commits, "commits", 2))
                lines.append(summary(f"{label}_round_trips_per_bill", traffic.round_trips, "round trips", 2))
            if result.upstream_connections is not None:
                lines.append(summary(f"{prefix}_upstream_connections", result.upstream_connections, "connections", 0))
        for c in consumers:
            r = consume[c.service]
            lines.append(summary(f"consume_{c.service}_events_per_s", r.events / r.seconds, "events/s"))
            lines.append(summary(f"consume_{c.service}_sql_per_event", r.sql.statements, "statements", 2))
            lines.append(summary(f"consume_{c.service}_commits_per_event", r.sql.commits, "commits", 2))
            lines.append(summary(f"consume_{c.service}_round_trips_per_event", r.sql.round_trips, "round trips", 2))
        print(f"\n== summary ({n} bills per run, {time.perf_counter() - started:.0f} s in all)")
        for line in lines:
            print(line)
    finally:
        if upstream is not None:
            upstream.close()
        for runtime in runtimes:
            runtime.engine.dispose()
        databases.drop_all()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
