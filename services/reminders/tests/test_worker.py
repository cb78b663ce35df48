"""The worker's entry point and subscriptions."""

import pytest

from services.reminders import worker
from services.reminders.consumers import HANDLERS
from shared.envelope import known_types


def test_reminders_consume_purchases_customers_and_consent_only():
    assert sorted(HANDLERS) == ["consent.changed", "customer.upserted", "purchase.recorded"]
    assert set(HANDLERS) <= set(known_types())


def test_worker_refuses_unknown_loops(monkeypatch, tmp_path):
    monkeypatch.setenv("JWT_PUBLIC_KEY_FILE", str(tmp_path / "jwt-public.pem"))
    monkeypatch.setenv("REMINDERS_DATABASE_URL", f"sqlite:///{tmp_path / 'reminders.db'}")
    with pytest.raises(SystemExit, match="unknown loop"):
        worker.main(["relay", "sweep"])
