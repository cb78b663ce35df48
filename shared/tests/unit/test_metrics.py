"""shared.metrics in one process (the default registry): what each recording function counts, the
bounded labels, and the outbox gauges read from a real (SQLite) outbox at scrape time."""

from __future__ import annotations

import datetime as dt

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import MetaData, create_engine, insert

from shared import metrics
from shared.clock import utcnow
from shared.messaging import PENDING, SENT, MessagingTables


def value(name: str, **labels: str) -> float:
    """A sample of the process's registry (0 when the series does not exist yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(*collectors) -> dict[tuple[str, tuple], float]:
    body, content_type = metrics.exposition(None, *collectors)
    assert content_type.startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def test_event_handled_counts_each_outcome_and_times_every_attempt():
    labels = {"consumer": "unit-consumer", "type": "bill.created"}
    before = {
        name: value(name, **labels)
        for name in (
            "pharmacy_events_consumed_total",
            "pharmacy_events_duplicate_total",
            "pharmacy_events_failed_total",
            "pharmacy_handler_duration_seconds_count",
            "pharmacy_handler_duration_seconds_sum",
        )
    }
    metrics.event_handled("unit-consumer", "bill.created", "consumed", 0.25)
    metrics.event_handled("unit-consumer", "bill.created", "consumed", 0.5)
    metrics.event_handled("unit-consumer", "bill.created", "duplicate", 0.01)
    metrics.event_handled("unit-consumer", "bill.created", "failed", 0.1)

    def delta(name: str) -> float:
        return value(name, **labels) - before[name]

    assert delta("pharmacy_events_consumed_total") == 2
    assert delta("pharmacy_events_duplicate_total") == 1
    assert delta("pharmacy_events_failed_total") == 1
    assert delta("pharmacy_handler_duration_seconds_count") == 4
    assert delta("pharmacy_handler_duration_seconds_sum") == pytest.approx(0.86)


def test_an_unknown_outcome_is_a_programming_error():
    with pytest.raises(ValueError, match="consumed, duplicate, failed"):
        metrics.event_handled("unit-consumer", "bill.created", "ok", 0.1)


def test_dead_letters_of_unreadable_or_unknown_types_share_one_label():
    labels = {"consumer": "unit-dlq"}
    before_unknown = value("pharmacy_events_dead_lettered_total", type="unknown", **labels)
    before_known = value("pharmacy_events_dead_lettered_total", type="purchase.recorded", **labels)
    metrics.event_dead_lettered("unit-dlq", None)
    metrics.event_dead_lettered("unit-dlq", "anything.a.sender.made.up")
    metrics.event_dead_lettered("unit-dlq", "purchase.recorded")
    assert value("pharmacy_events_dead_lettered_total", type="unknown", **labels) - before_unknown == 2
    assert value("pharmacy_events_dead_lettered_total", type="purchase.recorded", **labels) - before_known == 1
    assert (
        REGISTRY.get_sample_value(
            "pharmacy_events_dead_lettered_total", {"type": "anything.a.sender.made.up", **labels}
        )
        is None
    )


def test_batch_sizes_fall_in_their_buckets():
    def bucket(le: str) -> float:
        return value("pharmacy_consumer_batch_size_bucket", consumer="unit-batch", le=le)

    before = {le: bucket(le) for le in ("1.0", "2.0", "5.0", "200.0", "+Inf")}
    metrics.batch_applied("unit-batch", 3)
    metrics.batch_applied("unit-batch", 1)
    assert bucket("1.0") - before["1.0"] == 1
    assert bucket("2.0") - before["2.0"] == 1
    assert bucket("5.0") - before["5.0"] == 2
    assert bucket("200.0") - before["200.0"] == 2
    assert bucket("+Inf") - before["+Inf"] == 2
    assert metrics.BATCH_SIZE_BUCKETS == (1, 2, 5, 10, 20, 50, 100, 200)


def test_events_published_by_service_and_type():
    labels = {"service": "unit-relay", "type": "staff.created"}
    before = value("pharmacy_events_published_total", **labels)
    metrics.events_published("unit-relay", "staff.created")
    metrics.events_published("unit-relay", "staff.created", 4)
    assert value("pharmacy_events_published_total", **labels) - before == 5


def test_http_labels_stay_bounded():
    before = value("pharmacy_http_requests_total", service="unit-http", method="OTHER", route="unmatched", status="405")
    metrics.http_request("unit-http", "BREW", None, 405, 0.001)
    assert (
        value("pharmacy_http_requests_total", service="unit-http", method="OTHER", route="unmatched", status="405")
        - before
        == 1
    )
    metrics.http_request("unit-http", "GET", "/api/v1/things/<int:thing_id>", 200, 0.002)
    assert (
        value(
            "pharmacy_http_request_duration_seconds_count",
            service="unit-http",
            method="GET",
            route="/api/v1/things/<int:thing_id>",
        )
        >= 1
    )


def test_a_scrape_of_one_process_shows_its_own_metrics():
    metrics.events_published("unit-scrape", "bill.created")
    samples = scrape()
    assert samples[("pharmacy_events_published_total", (("service", "unit-scrape"), ("type", "bill.created")))] >= 1
    assert not any(name.endswith("_created") for name, _labels in samples)


@pytest.fixture
def outbox(tmp_path):
    metadata = MetaData()
    tables = MessagingTables(metadata, source="/unit")
    engine = create_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    metadata.create_all(engine)
    yield engine, tables
    engine.dispose()


def add_row(engine, tables, event_id: str, status: str, age: dt.timedelta) -> None:
    created = utcnow() - age
    with engine.begin() as connection:
        connection.execute(
            insert(tables.outbox).values(
                event_id=event_id,
                event_type="bill.created",
                routing_key="bill.created",
                payload="{}",
                status=status,
                attempts=0,
                created_at=created,
                next_attempt_at=created,
            )
        )


def test_outbox_gauges_are_read_at_scrape_time(outbox):
    engine, tables = outbox
    collector = metrics.OutboxCollector("unit-outbox", engine, tables.outbox)
    pending = ("pharmacy_outbox_pending_events", (("service", "unit-outbox"),))
    oldest = ("pharmacy_outbox_oldest_pending_age_seconds", (("service", "unit-outbox"),))

    samples = scrape(collector)
    assert samples[pending] == 0 and samples[oldest] == 0

    add_row(engine, tables, "e1", SENT, dt.timedelta(hours=2))  # sent rows do not count, however old
    add_row(engine, tables, "e2", PENDING, dt.timedelta(seconds=90))
    add_row(engine, tables, "e3", PENDING, dt.timedelta(seconds=5))
    samples = scrape(collector)
    assert samples[pending] == 2
    assert 90 <= samples[oldest] < 120


def test_an_unreadable_outbox_leaves_its_gauges_out_of_the_scrape(tmp_path):
    metrics.events_published("unit-broken", "bill.created")
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no outbox table
    try:
        tables = MessagingTables(MetaData(), source="/unit")
        samples = scrape(metrics.OutboxCollector("unit-broken", engine, tables.outbox))
    finally:
        engine.dispose()
    assert not any(name.startswith("pharmacy_outbox_") for name, _labels in samples)
    assert samples[("pharmacy_events_published_total", (("service", "unit-broken"), ("type", "bill.created")))] == 1
