"""Reporting against real PostgreSQL and RabbitMQ: events in, exact figures out, in any order."""

import csv
import datetime as dt
import io
import random
from decimal import Decimal

import openpyxl

from services.reporting import domain
from services.reporting.consumers import HANDLERS, PREPARE
from services.reporting.models import messaging
from shared.consumer import ConsumerRunner
from shared.envelope import make_event, to_json
from shared.testing import apply_meeting_halfway as meeting_halfway
from shared.testing import auth_headers, eventually, publish_raw, running

from . import scenario
from .conftest import CountingRunner

STAFF = auth_headers("staff", 11)
ADMIN = auth_headers("admin", 1)
SEED = 20260331


def publish(amqp_url, events):
    for event in events:
        publish_raw(amqp_url, event["type"], to_json(event), message_id=event["id"])


def inbox_size(runtime):
    with runtime.session_factory() as session:
        return session.query(messaging.inbox).count()


def deliver(runner, runtime, amqp_url, deliveries, unique):
    """Publish ``deliveries`` through the broker to the running consumer and wait until all are handled."""
    with running(runner):
        publish(amqp_url, deliveries)
        eventually(lambda: runner.deliveries == len(deliveries), timeout=30, message="every delivery handled")
    assert inbox_size(runtime) == unique


def all_reports(client):
    reports = {}
    for report, window in scenario.ALL_REPORTS:
        response = client.get(f"/api/v1/reports/{report}?window={window}", headers=STAFF)
        assert response.status_code == 200, response.json
        reports[(report, window)] = response.json
    return reports


TODAY = dt.date(2026, 3, 31)


def assert_series_and_adherence(client, runtime):
    """The figures beside ``all_reports``: the daily conversion series and the adherence list."""
    assert client.get("/api/v1/reports/conversion/daily?window=7d", headers=STAFF).json == scenario.DAILY_7D
    for window, days in (("30d", 30), ("90d", 90), ("all", None)):
        series = client.get(f"/api/v1/reports/conversion/daily?window={window}", headers=STAFF).json["days"]
        totals = client.get(f"/api/v1/reports/conversion?window={window}", headers=STAFF).json
        if days is None:
            assert series[0]["date"] == scenario.FIRST_DAY_WITH_DATA
            days = (TODAY - dt.date.fromisoformat(scenario.FIRST_DAY_WITH_DATA)).days + 1
        assert len(series) == days and series[-1]["date"] == "2026-03-31", window
        assert sum(d["contacted"] for d in series) == totals["contacted"], window
        assert sum(d["converted"] for d in series) == totals["converted"], window
        assert sum(Decimal(d["conversion_value"]) for d in series) == Decimal(totals["total_conversion_value"])
    # The worker computes each row for its own today; the refresh step computes them for 31 March.
    with runtime.session_factory() as session:
        while domain.refresh_adherence(session, TODAY, limit=2):
            session.commit()
        session.commit()
    assert client.get("/api/v1/reports/adherence?threshold=0.80", headers=STAFF).json == scenario.ADHERENCE_BELOW_80


def test_events_delivered_in_order_give_exact_figures(client, runner, runtime, amqp_url):
    events = scenario.events()
    with running(runner):
        publish(amqp_url, events)

        def conversion_complete():
            body = client.get("/api/v1/reports/conversion?window=all", headers=ADMIN).json
            assert body == scenario.EXPECTED[("conversion", "all")]
            return True

        eventually(conversion_complete, timeout=30, message="the conversion report")
        eventually(lambda: runner.deliveries == len(events), timeout=30)
    assert all_reports(client) == scenario.EXPECTED
    assert_series_and_adherence(client, runtime)


def test_every_event_delivered_2_to_5_times_shuffled_gives_the_same_figures(client, runner, runtime, amqp_url):
    """The same figures as the in-order delivery above (both are asserted against scenario.EXPECTED)."""
    events = scenario.events()
    rng = random.Random(SEED)
    deliveries = [event for event in events for _ in range(rng.randint(2, 5))]
    rng.shuffle(deliveries)
    assert deliveries[: len(events)] != events
    deliver(runner, runtime, amqp_url, deliveries, len(events))
    assert all_reports(client) == scenario.EXPECTED
    assert_series_and_adherence(client, runtime)


def test_facts_are_idempotent_even_when_an_event_is_resent_under_a_new_id(client, runner, runtime):
    """Past the inbox (a publisher re-sending after a crash mints a new id): facts still count once."""
    events = scenario.events()
    rng = random.Random(SEED + 1)
    resent = [{**event, "id": f"{event['id']}-{copy}"} for event in events for copy in range(rng.randint(2, 3))]
    rng.shuffle(resent)
    for event in resent:
        assert runner.handle(event) is True
    assert all_reports(client) == scenario.EXPECTED
    assert_series_and_adherence(client, runtime)


def test_reports_start_at_zero(client):
    assert client.get("/api/v1/reports/conversion", headers=STAFF).json == {
        "window": "all",
        "from": None,
        "to": "2026-03-31",
        "total_contacts": 0,
        "contacted": 0,
        "converted": 0,
        "conversion_rate": 0,
        "total_conversion_value": "0.00",
        "average_conversion_value": "0.00",
    }
    assert client.get("/api/v1/reports/staff?window=7d", headers=STAFF).json["items"] == []
    categories = client.get("/api/v1/reports/categories?window=30d", headers=STAFF).json["items"]
    assert [c["category"] for c in categories] == [
        "contact_sheet",
        "first_time_prescription",
        "regular_branded",
        "generic_informed",
    ]
    assert all(c["customers"] == 0 and c["bills"] == 0 and c["sales"] == "0.00" for c in categories)
    assert client.get("/api/v1/reports/refills?window=90d", headers=STAFF).json["recovery_rate"] == 0


def test_an_unknown_window_is_a_422_problem(client):
    for report in (
        "conversion",
        "staff",
        "categories",
        "refills",
        "lists",
        "generics",
        "conversion/daily",
        "staff/export",
        "lists/export",
    ):
        for window in ("14d", "", "ALL", "7"):
            response = client.get(f"/api/v1/reports/{report}?window={window}", headers=STAFF)
            assert response.status_code == 422, (report, window)
            assert response.mimetype == "application/problem+json"
            assert "window" in response.json["errors"]


def test_every_route_needs_a_token(client):
    app = client.application
    public = {"healthz", "readyz", "metrics", "static", "api-docs.openapi_json"}
    routes = [rule for rule in app.url_map.iter_rules() if rule.endpoint not in public]
    assert {rule.rule for rule in routes} >= {
        "/api/v1/reports/conversion",
        "/api/v1/reports/staff",
        "/api/v1/reports/categories",
        "/api/v1/reports/refills",
        "/api/v1/reports/lists",
        "/api/v1/reports/conversion/daily",
        "/api/v1/reports/generics",
        "/api/v1/reports/adherence",
        "/api/v1/reports/adherence/export",
        *(f"/api/v1/reports/{r}/export" for r in ("conversion", "staff", "lists", "categories", "refills", "generics")),
    }
    for rule in routes:
        path = rule.rule.replace("<", "").replace(">", "")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            assert response.status_code == 401, (method, path)
            assert response.mimetype == "application/problem+json"
            response = client.open(path, method=method, headers={"Authorization": "Bearer not-a-token"})
            assert response.status_code == 401, (method, path)
    assert client.get("/healthz").status_code == 200


def test_three_competing_workers_reach_the_exact_figures(client, runner, settings, runtime, amqp_url):
    workers = [runner] + [
        CountingRunner(settings, runtime.session_factory, messaging, "reporting", HANDLERS, prepare=PREPARE)
        for _ in range(2)
    ]
    events = scenario.events()
    rng = random.Random(SEED + 2)
    deliveries = [event for event in events for _ in range(rng.randint(2, 5))]
    rng.shuffle(deliveries)
    with running(*workers):
        publish(amqp_url, deliveries)
        eventually(
            lambda: sum(w.deliveries for w in workers) == len(deliveries), timeout=30, message="every delivery handled"
        )
    assert inbox_size(runtime) == len(events)
    assert all_reports(client) == scenario.EXPECTED
    assert_series_and_adherence(client, runtime)


def test_new_reports_start_at_zero_with_a_row_per_day(client):
    week = client.get("/api/v1/reports/conversion/daily?window=7d", headers=STAFF).json["days"]
    assert [d["date"] for d in week] == [f"2026-03-{day}" for day in range(25, 32)]
    assert all(d["contacted"] == d["converted"] == 0 and d["conversion_value"] == "0.00" for d in week)
    assert client.get("/api/v1/reports/conversion/daily?window=all", headers=STAFF).json["days"] == [
        {"date": "2026-03-31", "contacted": 0, "converted": 0, "conversion_value": "0.00"}
    ]
    lists = client.get("/api/v1/reports/lists", headers=STAFF).json
    assert (lists["items"], lists["total"]) == ([], 0)
    generics = client.get("/api/v1/reports/generics?window=30d", headers=STAFF).json
    assert (generics["generic_items"], generics["generic_share"], generics["savings"]) == (0, 0, "0.00")
    adherence = client.get("/api/v1/reports/adherence", headers=STAFF).json
    assert (adherence["items"], adherence["total"], adherence["threshold"], adherence["days"]) == ([], 0, "0.80", 180)


def test_bad_report_parameters_are_422_problems_naming_the_field(client):
    cases = [
        ("/api/v1/reports/adherence?threshold=1.5", "threshold"),
        ("/api/v1/reports/adherence?threshold=-0.1", "threshold"),
        ("/api/v1/reports/adherence?threshold=eighty", "threshold"),
        ("/api/v1/reports/adherence?days=45", "days"),
        ("/api/v1/reports/adherence/export?format=pdf", "format"),
        ("/api/v1/reports/lists?per_page=500", "per_page"),
        *((f"/api/v1/reports/{r}/export?format=xls", "format") for r in ("conversion", "staff", "lists")),
        *((f"/api/v1/reports/{r}/export?format=", "format") for r in ("categories", "refills", "generics")),
    ]
    for path, field in cases:
        response = client.get(path, headers=STAFF)
        assert response.status_code == 422, path
        assert response.mimetype == "application/problem+json"
        assert field in response.json["errors"], (path, response.json)


def read_export(response, file_format):
    assert response.status_code == 200, response.data
    assert "attachment" in response.headers["Content-Disposition"]
    if file_format == "csv":
        text = response.data.decode("utf-8")
        assert text.startswith("\ufeff")
        return list(csv.reader(io.StringIO(text[1:])))
    sheet = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True).active
    return [["" if cell is None else str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]


def test_exports_give_the_report_figures_as_csv_and_xlsx(client, runner, runtime):
    events = scenario.events()
    for event in events:
        runner.handle(event)
    for file_format in ("csv", "xlsx"):
        staff = read_export(
            client.get(f"/api/v1/reports/staff/export?window=all&format={file_format}", headers=STAFF), file_format
        )
        header = staff[0]
        asha = dict(zip(header, staff[[row[0] for row in staff].index("11")], strict=True))
        assert (asha["interactions"], asha["interactions_whatsapp"]) == ("4", "2")
        assert Decimal(asha["refill_recovered_value"]) == Decimal("470.00")
        lists = read_export(
            client.get(f"/api/v1/reports/lists/export?window=7d&format={file_format}", headers=STAFF), file_format
        )
        assert [row[:2] for row in lists] == [["upload_id", "list_name"], ["3", "list 3"], ["2", "list 2"]]
        conversion = read_export(
            client.get(f"/api/v1/reports/conversion/export?window=all&format={file_format}", headers=STAFF), file_format
        )
        assert Decimal(dict(zip(*conversion, strict=True))["total_conversion_value"]) == Decimal("850.50")
        generics = read_export(
            client.get(f"/api/v1/reports/generics/export?format={file_format}", headers=STAFF), file_format
        )
        assert Decimal(dict(zip(*generics, strict=True))["generic_share"]) == Decimal("42.86")
        categories = read_export(
            client.get(f"/api/v1/reports/categories/export?format={file_format}", headers=STAFF), file_format
        )
        assert len(categories) == 5
        refills = read_export(
            client.get(f"/api/v1/reports/refills/export?format={file_format}", headers=STAFF), file_format
        )
        assert Decimal(dict(zip(*refills, strict=True))["recovery_rate"]) == 50
    with runtime.session_factory() as session:
        domain.refresh_adherence(session, TODAY)
        session.commit()
    adherence = read_export(client.get("/api/v1/reports/adherence/export?threshold=0.8", headers=STAFF), "csv")
    assert adherence == [
        ["customer_id", "name", "phone", "medicine_name", "pdc", "as_of"],
        ["501", "", "'+919876543210", "Amlodipine 5", "0.13", "2026-03-31"],
        ["504", "Meena Iyer", "'+919876543210", "Atorvastatin 10 (generic)", "0.58", "2026-03-31"],
    ]


def apply_meeting_halfway(settings, runtime, batches):
    """``shared.testing.apply_meeting_halfway`` with reporting's workers."""
    return meeting_halfway(
        lambda handlers: ConsumerRunner(
            settings, runtime.session_factory, messaging, "reporting", handlers, prepare=PREPARE
        ),
        HANDLERS,
        batches,
    )


def report_event(event_type, source, **data):
    return make_event(event_type, data, source=source)


def bill_on(bill_id, day):
    return report_event(
        "bill.created",
        scenario.BILLING,
        bill_id=bill_id,
        bill_number=f"B{bill_id}",
        bill_date=day,
        customer_phone=scenario.PHONE,
        customer_name="Asha Rao",
        customer_category="regular_branded",
        was_contacted_before=False,
        visited_no_purchase=False,
        total_amount="100.00",
        items=[],
        created_by=11,
    )


def test_replicas_batches_moving_the_same_days_in_opposite_orders_both_commit(client, settings, runtime):
    """Two workers' batches of bills on the same two days, in opposite orders, both commit (no
    deadlock, no retry) and every bill is counted once: the rollup rows are written when a batch
    commits, in one key order, so neither holds a day's row while waiting for the other's."""
    batches = [
        [bill_on(1, "2026-03-20"), bill_on(2, "2026-03-21")],
        [bill_on(3, "2026-03-21"), bill_on(4, "2026-03-20")],
    ]
    assert apply_meeting_halfway(settings, runtime, batches) == [[True, True], [True, True]]
    categories = client.get("/api/v1/reports/categories?window=30d", headers=STAFF).json["items"]
    branded = next(c for c in categories if c["category"] == "regular_branded")
    assert (branded["bills"], branded["sales"]) == (4, "400.00")


def test_replicas_batches_touching_the_same_customers_in_opposite_orders_both_commit(client, settings, runtime):
    """One worker's batch has customer 1's profile then a purchase of customer 2, another's customer
    2's profile then a purchase of customer 1: both commit, because each batch locks the facts its
    events change first, all in one order (``lock_facts``), so one waits for the other instead of
    each holding the customer the other needs."""

    def customer(customer_id):
        return report_event(
            "customer.upserted",
            scenario.CUSTOMERS,
            customer_id=customer_id,
            phone=f"+91987654321{customer_id}",
            name=f"Customer {customer_id}",
            generic_education_given_on=None,
            category="regular_branded",
            first_visit_date="2026-03-20",
            last_visit_date="2026-03-20",
            total_visits=1,
            total_purchases="100.00",
            contact_record_id=None,
        )

    def purchase(purchase_id, customer_id):
        return report_event(
            "purchase.recorded",
            scenario.CUSTOMERS,
            purchase_id=purchase_id,
            customer_id=customer_id,
            bill_id=purchase_id,
            purchase_date="2026-03-21",
            medicine_name="Metformin 500",
            is_generic=False,
            quantity=1,
            amount="100.00",
            duration_days=30,
            branded_price=None,
            savings=None,
        )

    batches = [[customer(1), purchase(21, 2)], [customer(2), purchase(11, 1)]]
    assert apply_meeting_halfway(settings, runtime, batches) == [[True, True], [True, True]]
    generics = client.get("/api/v1/reports/generics?window=30d", headers=STAFF).json
    assert generics["branded_items"] == 2
    categories = client.get("/api/v1/reports/categories?window=all", headers=STAFF).json["items"]
    assert next(c for c in categories if c["category"] == "regular_branded")["customers"] == 2
