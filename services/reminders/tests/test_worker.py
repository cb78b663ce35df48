"""The worker's entry point and subscriptions."""

import pytest

from services.reminders import worker
from services.reminders.consumers import HANDLERS
from shared.envelope import known_types


def test_reminders_consume_purchases_and_customers_only():
    assert sorted(HANDLERS) == ["customer.upserted", "purchase.recorded"]
    assert set(HANDLERS) <= set(known_types())


def test_worker_refuses_unknown_loops(monkeypatch, tmp_path):
    monkeypatch.setenv("JWT_SECRET", "x" * 32)
    monkeypatch.setenv("REMINDERS_DATABASE_URL", f"sqlite:///{tmp_path / 'reminders.db'}")
    with pytest.raises(SystemExit, match="unknown loop"):
        worker.main(["relay", "sweep"])
