"""Reading eventual effects: customers through the gateway, messaging tables straight from the databases."""

from __future__ import annotations

import collections
from decimal import Decimal
from urllib.parse import quote

from sqlalchemy import create_engine, inspect, text

from shared.testing import eventually

from .stack import Stack, queue_stats

#: Services whose consumer handles bill.created (ARCHITECTURE.md).
BILL_CONSUMERS = ("customers", "contacts", "reporting")
BILL_TOTAL = Decimal("200.50")  # conftest.bill_body's two items
ITEMS_PER_BILL = 2


def customer_by_phone(client, phone: str) -> dict | None:
    """The customer profile of ``phone`` via the gateway; None while it does not exist yet."""
    response = client.get(f"/api/v1/customers/by-phone/{quote(phone, safe='')}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return response.json()


def purchases_of(client, customer_id: int) -> list[dict]:
    items, page = [], 1
    while True:
        response = client.get(f"/api/v1/customers/{customer_id}/purchases", params={"page": page, "per_page": 200})
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        if len(items) >= body["total"] or not body["items"]:
            return items
        page += 1


def money(value) -> Decimal:
    return Decimal(str(value))


class MessagingState:
    """Counts in every service database of the stack: pending outbox rows, dead letters, inbox rows."""

    def __init__(self, stack: Stack):
        self.engines = {service: create_engine(url) for service, url in stack.database_urls.items()}

    def _count(self, service: str, table: str, where: str = "", params: dict | None = None) -> int | None:
        engine = self.engines[service]
        if not inspect(engine).has_table(table):
            return None
        with engine.connect() as conn:
            return conn.scalar(text(f"SELECT count(*) FROM {table} {where}"), params or {})

    def pending_outbox(self) -> dict[str, int]:
        counts = {s: self._count(s, "outbox", "WHERE status = 'pending'") for s in self.engines}
        return {s: n for s, n in counts.items() if n}

    def dead_letters(self) -> dict[str, int]:
        counts = {s: self._count(s, "dead_letters") for s in self.engines}
        return {s: n for s, n in counts.items() if n}

    def inbox(self, service: str, event_type: str, source: str | None = None) -> int:
        where, params = "WHERE event_type = :t", {"t": event_type}
        if source:
            where, params = where + " AND source = :s", {**params, "s": source}
        return self._count(service, "inbox", where, params) or 0

    def outbox_events(self, service: str, event_type: str) -> int:
        return self._count(service, "outbox", "WHERE event_type = :t AND exchange IS NULL", {"t": event_type}) or 0

    def dispose(self) -> None:
        for engine in self.engines.values():
            engine.dispose()


def dead_letter_snapshot(stack) -> dict[str, int]:
    state = MessagingState(stack)
    try:
        return state.dead_letters()
    finally:
        state.dispose()


def assert_each_bill_once(stack, admin, plan: list[str], dead_before: dict[str, int], timeout: float = 60.0) -> None:
    """After the drain every bill of ``plan`` (a phone per bill posted with ``bill_body``'s items) has
    exactly one effect: visits, totals and purchases per customer; one inbox row per billing event in
    each consumer; nothing pending in any outbox; no new dead letters; empty dead-letter queues."""
    expected = collections.Counter(plan)

    def all_counted():
        visits = {}
        for phone in expected:
            customer = customer_by_phone(admin, phone)
            visits[phone] = customer["total_visits"] if customer else 0
        wrong = {p: (v, expected[p]) for p, v in visits.items() if v != expected[p]}
        assert not wrong, f"{len(wrong)} customers off (visits, expected): {dict(list(wrong.items())[:5])}"
        return True

    eventually(all_counted, timeout=timeout, interval=0.5, message="every bill counted once")

    state = MessagingState(stack)
    try:

        def outbox_drained():
            pending = state.pending_outbox()
            assert not pending, f"pending outbox rows: {pending}"
            return True

        eventually(outbox_drained, timeout=30, interval=0.25, message="every outbox drained")
        billed = state.outbox_events("billing", "bill.created")
        for service in (s for s in BILL_CONSUMERS if f"{s}-worker" in stack.commands):

            def handled_once(service=service):
                seen = state.inbox(service, "bill.created", "/services/billing")
                assert seen == billed, f"{service} recorded {seen} of billing's {billed} bill.created events"
                return True

            eventually(handled_once, timeout=30, interval=0.25, message=f"{service} handled every bill.created once")
        assert state.dead_letters() == dead_before, f"new dead letters: {state.dead_letters()} (before: {dead_before})"
    finally:
        state.dispose()
    dlq = {q: s["messages"] for q, s in queue_stats(stack.amqp_url).items() if q.endswith(".dlq") and s["messages"]}
    assert dlq == {}, f"messages waiting in dead-letter queues: {dlq}"

    # No duplicated effect: purchases and totals per customer match the bills.
    for phone, bills in expected.items():
        customer = customer_by_phone(admin, phone)
        assert money(customer["total_purchases"]) == BILL_TOTAL * bills, (phone, customer["total_purchases"], bills)
        assert len(purchases_of(admin, customer["id"])) == ITEMS_PER_BILL * bills, phone
