"""The embedded default: the migration and the consumers' upserts also work on SQLite."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from services.customers.app import create_app
from services.customers.consumers import HANDLERS
from services.customers.models import Customer, CustomerPurchase, messaging
from services.customers.tests.events import bill_event, contact_event, item
from shared.consumer import ConsumerRunner
from shared.migrations import upgrade
from shared.runtime import Runtime
from shared.testing import auth_headers, make_settings


@pytest.fixture
def sqlite_runtime(tmp_path):
    url = f"sqlite:///{tmp_path / 'customers.db'}"
    upgrade("customers", url)
    settings = make_settings("customers", url, "amqp://guest:guest@127.0.0.1:1/%2F")
    rt = Runtime.build(settings)
    yield settings, rt
    rt.engine.dispose()


def test_bills_conversions_and_the_api_on_sqlite(sqlite_runtime):
    settings, rt = sqlite_runtime
    runner = ConsumerRunner(settings, rt.session_factory, messaging, "customers", HANDLERS)
    assert runner.handle(contact_event(9)) is True
    first = bill_event(1, items=[item(amount="10.00"), item(amount="5.50", duration_days=3)])
    assert runner.handle(first) is True and runner.handle(first) is False
    assert runner.handle(bill_event(1)) is True  # republished: recorded, not counted again
    runner.handle(bill_event(2, bill_date="2026-03-01", visited_no_purchase=True))
    with rt.session_factory() as session:
        customer = session.scalars(select(Customer)).one()
        assert (customer.total_visits, customer.total_purchases) == (2, Decimal("15.50"))
        assert customer.contact_record_id == "9" and customer.category == "regular_branded"
        assert len(session.scalars(select(CustomerPurchase)).all()) == 2
    client = create_app(settings, rt).test_client()
    headers = auth_headers("staff", 3)
    assert client.get("/api/v1/customers?q=asha", headers=headers).json["total"] == 1
    assert client.post("/api/v1/customers", json={"phone": "9876543210"}, headers=headers).status_code == 409
    patched = client.patch(f"/api/v1/customers/{customer.id}", json={"allergies": ["latex"]}, headers=headers)
    assert patched.status_code == 200 and patched.json["allergies"] == ["latex"]
