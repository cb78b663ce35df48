"""Reading eventual effects: customers through the gateway, messaging tables straight from the databases."""
from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

from sqlalchemy import create_engine, inspect, text

from .stack import Stack

#: Services whose consumer handles bill.created (ARCHITECTURE.md).
BILL_CONSUMERS = ("customers", "contacts", "reporting")


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
