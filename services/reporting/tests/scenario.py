"""A realistic month of pharmacy events, and the reports they must give on 31 March 2026 (Kolkata).

Instants are chosen around midnight in Kolkata where it matters: an upload at 19:00 UTC on
24 March is 25 March at the pharmacy, so it belongs to the 7-day window.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from shared.envelope import make_event

GATEWAY, CONTACTS, CUSTOMERS = "/gateway", "/services/contacts", "/services/customers"
REMINDERS, BILLING, POS = "/services/reminders", "/services/billing", "/integrations/pos-17"
PHONE = "+919876543210"


def events() -> list[dict]:
    """Every event of the scenario, in the order the system would publish them."""
    clock = iter(dt.datetime(2026, 3, 31, 0, 0, tzinfo=dt.UTC) + dt.timedelta(seconds=n) for n in range(10_000))
    out: list[dict] = []

    def add(event_type, data, source):
        out.append(make_event(event_type, data, source=source, time=next(clock)))

    def staff(event_type, staff_id, name, role="staff", active=True):
        add(
            event_type,
            {"staff_id": staff_id, "username": f"user{staff_id}", "name": name, "role": role, "active": active},
            GATEWAY,
        )

    def upload(upload_id, uploaded_at, imported, assigned):
        add(
            "contacts.uploaded",
            {
                "upload_id": upload_id,
                "list_name": f"list {upload_id}",
                "uploaded_by": 1,
                "uploaded_at": uploaded_at,
                "imported": imported,
                "assigned": assigned,
            },
            CONTACTS,
        )

    def status(contact_id, from_status, to_status, changed_at, assigned_to, by, upload=None):
        add(
            "contact.status_changed",
            {
                "contact_id": contact_id,
                "phone": PHONE,
                "from_status": from_status,
                "to_status": to_status,
                "changed_at": changed_at,
                "assigned_to": assigned_to,
                "by": by,
                "upload_id": upload,
            },
            CONTACTS,
        )

    def converted(contact_id, converted_at, value, bill_id, assigned_to, category, upload=None):
        add(
            "contact.converted",
            {
                "contact_id": contact_id,
                "phone": PHONE,
                "name": None,
                "converted_at": converted_at,
                "conversion_value": value,
                "bill_id": bill_id,
                "assigned_to": assigned_to,
                "customer_category": category,
                "upload_id": upload,
            },
            CONTACTS,
        )

    def interaction(interaction_id, contact_id, kind, logged_at, by):
        add(
            "contact.interaction_logged",
            {
                "contact_id": contact_id,
                "interaction_id": interaction_id,
                "type": kind,
                "logged_at": logged_at,
                "by": by,
                "call_successful": True if kind == "call" else None,
            },
            CONTACTS,
        )

    def bill(source, bill_id, bill_date, category, total, visited_no_purchase=False):
        items = (
            []
            if visited_no_purchase
            else [
                {
                    "line_id": bill_id * 10,
                    "medicine_name": "Metformin 500",
                    "is_generic": False,
                    "quantity": 1,
                    "amount": total,
                    "duration_days": 30,
                }
            ]
        )
        add(
            "bill.created",
            {
                "bill_id": bill_id,
                "bill_number": f"B{bill_id}",
                "bill_date": bill_date,
                "customer_phone": PHONE,
                "customer_name": "Asha Rao",
                "customer_category": category,
                "was_contacted_before": False,
                "visited_no_purchase": visited_no_purchase,
                "total_amount": total,
                "items": items,
                "created_by": 11,
            },
            source,
        )

    def customer(customer_id, category, first_visit, educated_on=None, name=None):
        add(
            "customer.upserted",
            {
                "customer_id": customer_id,
                "phone": PHONE,
                "name": name,
                "generic_education_given_on": educated_on,
                "category": category,
                "first_visit_date": first_visit,
                "last_visit_date": first_visit,
                "total_visits": 1 if first_visit else 0,
                "total_purchases": "0.00",
                "contact_record_id": None,
            },
            CUSTOMERS,
        )

    def purchase(
        purchase_id, customer_id, bill_id, purchase_date, amount, medicine="Metformin 500", days=30, branded=None
    ):
        generic = branded is not None or medicine.endswith("(generic)")
        savings = None if branded is None else f"{Decimal(branded) - Decimal(amount):.2f}"
        add(
            "purchase.recorded",
            {
                "purchase_id": purchase_id,
                "customer_id": customer_id,
                "bill_id": bill_id,
                "purchase_date": purchase_date,
                "medicine_name": medicine,
                "is_generic": generic,
                "quantity": 1,
                "amount": amount,
                "duration_days": days,
                "branded_price": branded,
                "savings": savings,
            },
            CUSTOMERS,
        )

    def reminder(reminder_id, reminder_date):
        add(
            "refill_reminder.created",
            {
                "reminder_id": reminder_id,
                "customer_id": 501,
                "purchase_id": 701,
                "medicine_name": "Metformin 500",
                "reminder_date": reminder_date,
            },
            REMINDERS,
        )

    def reminder_update(
        reminder_id, status_, whatsapp=None, call=None, responded=False, purchased=None, by=11, closed_by=None
    ):
        add(
            "refill_reminder.updated",
            {
                "reminder_id": reminder_id,
                "status": status_,
                "whatsapp_sent_at": whatsapp,
                "call_made_at": call,
                "responded": responded,
                "purchased_at": purchased,
                "by": by,
                "closed_by_purchase_id": closed_by,
            },
            REMINDERS,
        )

    staff("staff.created", 1, "Admin", role="admin")
    staff("staff.created", 11, "Asha")
    staff("staff.created", 12, "Ravi")
    staff("staff.created", 13, "Meera")
    staff("staff.created", 14, "Kiran")
    staff("staff.updated", 12, "Ravi Kumar")
    staff("staff.updated", 13, "Meera", active=False)

    upload(1, "2025-12-15T06:00:00Z", 2, {"11": 2})  # contacts 108, 109
    upload(2, "2026-01-10T05:00:00Z", 4, {"11": 2, "12": 2})  # contacts 101-104
    upload(3, "2026-03-24T19:00:00Z", 3, {"11": 2, "12": 1})  # 25 March in Kolkata: contacts 105-107

    # Lists: contacts 108-109 came with upload 1, 101-104 with upload 2, 105-107 with upload 3.
    status(108, "pending", "contacted", "2025-12-20T05:00:00Z", 11, 11, upload=1)
    status(101, "pending", "contacted", "2026-01-12T04:00:00Z", 11, 11, upload=2)
    bill(BILLING, 9001, "2026-03-05", "regular_branded", "500.00")
    status(101, "contacted", "converted", "2026-03-05T05:00:00Z", 11, 11, upload=2)
    converted(101, "2026-03-05", "500.00", 9001, 11, "regular_branded", upload=2)
    status(102, "pending", "yellow", "2026-03-01T19:00:00Z", 11, 11)  # 2 March in Kolkata; list not said
    status(102, "yellow", "contacted", "2026-03-26T05:00:00Z", 11, 11, upload=2)  # ...said here
    status(104, "pending", "contacted", "2026-03-25T10:00:00Z", 12, 12, upload=2)
    bill(BILLING, 9003, "2026-03-27", "contact_sheet", "100.00")
    status(104, "contacted", "converted", "2026-03-27T06:00:00Z", 12, 12, upload=2)
    converted(104, "2026-03-27", "100.00", 9003, 12, "contact_sheet", upload=2)
    bill(BILLING, 9010, "2026-03-29", "contact_sheet", "999.00")
    converted(104, "2026-03-29", "999.00", 9010, 12, "contact_sheet", upload=2)  # a later bill: no second one
    status(105, "pending", "contacted", "2026-03-30T06:00:00Z", 11, 1, upload=3)  # the admin called Asha's
    bill(BILLING, 9002, "2026-03-31", "contact_sheet", "250.50")
    status(103, "pending", "converted", "2026-03-30T19:00:00Z", 12, None, upload=2)  # converted by the bill
    converted(103, "2026-03-31", "250.50", 9002, 12, "contact_sheet", upload=2)
    converted(107, "2026-03-31", None, None, 12, None, upload=3)  # no status change seen: conversion alone

    # Interactions logged (the staff report's interactions), by the day they were logged.
    interaction(6001, 108, "whatsapp", "2025-12-20T05:00:00Z", 11)
    interaction(6002, 101, "call", "2026-01-12T04:00:00Z", 11)
    interaction(6003, 102, "whatsapp", "2026-03-01T19:00:00Z", 11)  # 2 March in Kolkata
    interaction(6004, 104, "visit", "2026-03-25T10:00:00Z", 12)
    interaction(6005, 105, "call", "2026-03-30T06:00:00Z", 1)
    interaction(6006, 105, "email", "2026-03-30T07:00:00Z", 11)
    interaction(6007, 106, "call", "2026-03-31T04:00:00Z", None)  # logged by an integration: nobody's
    bill(BILLING, 9004, "2026-03-30", "first_time_prescription", "0.00", visited_no_purchase=True)
    bill(POS, 9001, "2026-02-10", "generic_informed", "80.00")  # same id as billing's, another till
    bill(BILLING, 9005, "2025-11-20", "regular_branded", "1200.00")
    bill(BILLING, 9011, "2026-04-02", "regular_branded", "70.00")  # dated after today: in no window

    customer(501, "regular_branded", "2025-11-20")
    customer(502, "contact_sheet", "2026-03-27")
    customer(502, "regular_branded", "2026-03-27", educated_on="2026-03-27")  # recategorised, educated
    customer(503, "first_time_prescription", "2026-03-30")
    customer(504, "generic_informed", "2026-02-10", educated_on="2026-02-10", name="Meena Iyer")
    customer(505, "contact_sheet", None)  # created by hand, never visited
    customer(506, "contact_sheet", "2026-03-31")
    purchase(701, 501, 9001, "2026-03-05", "500.00")
    purchase(702, 506, 9002, "2026-03-31", "250.50")
    purchase(703, 501, 9003, "2026-03-27", "320.00")  # closes reminder 801
    purchase(706, 504, None, "2026-02-01", "30.00", "Atorvastatin 10 (generic)")  # before education
    purchase(704, 504, None, "2026-03-28", "60.00", "Atorvastatin 10 (generic)", branded="150.00")
    purchase(707, 501, None, "2026-01-15", "45.00", "Amlodipine 5", days=10)

    reminder(801, "2026-03-26")
    reminder(802, "2026-03-29")
    reminder(803, "2026-03-31")
    reminder(804, "2026-04-10")
    reminder(805, "2026-02-15")
    reminder_update(801, "responded", whatsapp="2026-03-25T05:00:00Z", responded=True)
    reminder_update(
        801,
        "purchased",
        whatsapp="2026-03-25T05:00:00Z",
        responded=True,
        purchased="2026-03-27T05:00:00Z",
        by=None,
        closed_by=703,
    )
    reminder_update(802, "open", call="2026-03-29T05:00:00Z")
    reminder_update(805, "responded", whatsapp="2026-02-14T05:00:00Z", responded=True)
    reminder_update(806, "responded", whatsapp="2026-03-28T05:00:00Z", responded=True)  # its reminder never came
    # 803: Ravi sends the WhatsApp, Asha calls (the update repeats the WhatsApp), then purchase 705 closes
    # it, its event arriving after the reminder's: both worked it, both recover its amount.
    reminder_update(803, "open", whatsapp="2026-03-30T05:00:00Z", by=12)
    reminder_update(803, "open", whatsapp="2026-03-30T05:00:00Z", call="2026-03-30T09:00:00Z")
    reminder_update(
        803,
        "purchased",
        whatsapp="2026-03-30T05:00:00Z",
        call="2026-03-30T09:00:00Z",
        purchased="2026-03-31T04:00:00Z",
        by=None,
        closed_by=705,
    )
    purchase(705, 506, None, "2026-03-31", "150.00", "Amlodipine 5 (generic)", branded="190.00")
    return out


def _conversion(window, first, total, contacted, converted, rate, value, average):
    return {
        "window": window,
        "from": first,
        "to": "2026-03-31",
        "total_contacts": total,
        "contacted": contacted,
        "converted": converted,
        "conversion_rate": rate,
        "total_conversion_value": value,
        "average_conversion_value": average,
    }


def _staff(
    staff_id, name, assigned, contacted, converted, rate, value, by_type=(0, 0, 0, 0), funnel=(0, 0, 0, 0, "0.00")
):
    """A staff row; ``by_type``: interactions (call, whatsapp, visit, email); ``funnel``: refill WhatsApps
    sent, calls, responses recorded, purchased after their work and the value those purchases recovered
    (Asha: 801 closed by purchase 703, 320.00, and 803 by 705, 150.00; Ravi: 803)."""
    call, whatsapp, visit, email = by_type
    sent, calls, responded, purchased, recovered = funnel
    return {
        "staff_id": staff_id,
        "name": name,
        "assigned": assigned,
        "contacted": contacted,
        "converted": converted,
        "conversion_rate": rate,
        "conversion_value": value,
        "interactions": call + whatsapp + visit + email,
        "interactions_by_type": {"call": call, "whatsapp": whatsapp, "visit": visit, "email": email},
        "refill_whatsapp_sent": sent,
        "refill_calls": calls,
        "refills_responded": responded,
        "refills_purchased": purchased,
        "refill_recovered_value": recovered,
    }


def _list(upload_id, uploaded_at, contacts, contacted, converted, rate, value):
    return {
        "upload_id": upload_id,
        "list_name": f"list {upload_id}",
        "uploaded_at": uploaded_at,
        "contacts": contacts,
        "contacted": contacted,
        "converted": converted,
        "conversion_rate": rate,
        "conversion_value": value,
    }


def _lists(window, first, *items):
    return {"window": window, "from": first, "to": "2026-03-31", "items": list(items), "page": 1, "per_page": 50}


LIST_3 = "2026-03-24T19:00:00Z"


def _generics(window, first, generic, branded, share, sales, educated, then_generic):
    return {
        "window": window,
        "from": first,
        "to": "2026-03-31",
        "generic_items": generic,
        "branded_items": branded,
        "generic_share": share,
        "generic_sales": sales,
        "savings": "130.00",
        "customers_educated": educated,
        "educated_then_generic": then_generic,
    }


def _category(category, customers, bills, sales):
    return {"category": category, "customers": customers, "bills": bills, "sales": sales}


def _refills(window, first, due, contacted, responded, purchased, rate):
    return {
        "window": window,
        "from": first,
        "to": "2026-03-31",
        "due": due,
        "contacted": contacted,
        "responded": responded,
        "purchased": purchased,
        "recovery_rate": rate,
    }


EXPECTED = {
    ("conversion", "all"): _conversion("all", None, 9, 7, 4, 57.14, "850.50", "212.63"),
    ("conversion", "90d"): _conversion("90d", "2026-01-01", 7, 6, 4, 66.67, "850.50", "212.63"),
    ("conversion", "30d"): _conversion("30d", "2026-03-02", 3, 5, 4, 80.0, "850.50", "212.63"),
    ("conversion", "7d"): _conversion("7d", "2026-03-25", 3, 4, 3, 75.0, "350.50", "116.83"),
    ("staff", "all"): {
        "window": "all",
        "from": None,
        "to": "2026-03-31",
        "items": [
            _staff(1, "Admin", 0, 0, 0, 0.0, "0.00", by_type=(1, 0, 0, 0)),
            _staff(11, "Asha", 6, 4, 1, 25.0, "500.00", by_type=(1, 2, 0, 1), funnel=(3, 2, 3, 2, "470.00")),
            _staff(12, "Ravi Kumar", 3, 3, 3, 100.0, "350.50", by_type=(0, 0, 1, 0), funnel=(1, 0, 0, 1, "150.00")),
            _staff(14, "Kiran", 0, 0, 0, 0.0, "0.00"),
        ],
    },
    ("staff", "90d"): {
        "window": "90d",
        "from": "2026-01-01",
        "to": "2026-03-31",
        "items": [
            _staff(1, "Admin", 0, 0, 0, 0.0, "0.00", by_type=(1, 0, 0, 0)),
            _staff(11, "Asha", 4, 3, 1, 33.33, "500.00", by_type=(1, 1, 0, 1), funnel=(3, 2, 3, 2, "470.00")),
            _staff(12, "Ravi Kumar", 3, 3, 3, 100.0, "350.50", by_type=(0, 0, 1, 0), funnel=(1, 0, 0, 1, "150.00")),
            _staff(14, "Kiran", 0, 0, 0, 0.0, "0.00"),
        ],
    },
    ("staff", "30d"): {
        "window": "30d",
        "from": "2026-03-02",
        "to": "2026-03-31",
        "items": [
            _staff(1, "Admin", 0, 0, 0, 0.0, "0.00", by_type=(1, 0, 0, 0)),
            _staff(11, "Asha", 2, 2, 1, 50.0, "500.00", by_type=(0, 1, 0, 1), funnel=(2, 2, 3, 2, "470.00")),
            _staff(12, "Ravi Kumar", 1, 3, 3, 100.0, "350.50", by_type=(0, 0, 1, 0), funnel=(1, 0, 0, 1, "150.00")),
            _staff(14, "Kiran", 0, 0, 0, 0.0, "0.00"),
        ],
    },
    ("staff", "7d"): {
        "window": "7d",
        "from": "2026-03-25",
        "to": "2026-03-31",
        "items": [
            _staff(1, "Admin", 0, 0, 0, 0.0, "0.00", by_type=(1, 0, 0, 0)),
            _staff(11, "Asha", 2, 1, 0, 0.0, "0.00", by_type=(0, 0, 0, 1), funnel=(2, 2, 3, 2, "470.00")),
            _staff(12, "Ravi Kumar", 1, 3, 3, 100.0, "350.50", by_type=(0, 0, 1, 0), funnel=(1, 0, 0, 1, "150.00")),
            _staff(14, "Kiran", 0, 0, 0, 0.0, "0.00"),
        ],
    },
    ("categories", "all"): {
        "window": "all",
        "from": None,
        "to": "2026-03-31",
        "items": [
            _category("contact_sheet", 1, 3, "1349.50"),
            _category("first_time_prescription", 1, 1, "0.00"),
            _category("regular_branded", 2, 2, "1700.00"),
            _category("generic_informed", 1, 1, "80.00"),
        ],
    },
    ("categories", "90d"): {
        "window": "90d",
        "from": "2026-01-01",
        "to": "2026-03-31",
        "items": [
            _category("contact_sheet", 1, 3, "1349.50"),
            _category("first_time_prescription", 1, 1, "0.00"),
            _category("regular_branded", 1, 1, "500.00"),
            _category("generic_informed", 1, 1, "80.00"),
        ],
    },
    ("categories", "30d"): {
        "window": "30d",
        "from": "2026-03-02",
        "to": "2026-03-31",
        "items": [
            _category("contact_sheet", 1, 3, "1349.50"),
            _category("first_time_prescription", 1, 1, "0.00"),
            _category("regular_branded", 1, 1, "500.00"),
            _category("generic_informed", 0, 0, "0.00"),
        ],
    },
    ("categories", "7d"): {
        "window": "7d",
        "from": "2026-03-25",
        "to": "2026-03-31",
        "items": [
            _category("contact_sheet", 1, 3, "1349.50"),
            _category("first_time_prescription", 1, 1, "0.00"),
            _category("regular_branded", 1, 0, "0.00"),
            _category("generic_informed", 0, 0, "0.00"),
        ],
    },
    ("refills", "all"): _refills("all", None, 4, 4, 2, 2, 50.0),
    ("refills", "90d"): _refills("90d", "2026-01-01", 4, 4, 2, 2, 50.0),
    ("refills", "30d"): _refills("30d", "2026-03-02", 3, 3, 1, 2, 66.67),
    ("refills", "7d"): _refills("7d", "2026-03-25", 3, 3, 1, 2, 66.67),
    ("lists", "all"): {
        **_lists(
            "all",
            None,
            _list(3, LIST_3, 3, 2, 1, 50.0, "0.00"),
            _list(2, "2026-01-10T05:00:00Z", 4, 4, 3, 75.0, "850.50"),
            _list(1, "2025-12-15T06:00:00Z", 2, 1, 0, 0.0, "0.00"),
        ),
        "total": 3,
    },
    ("lists", "90d"): {
        **_lists(
            "90d",
            "2026-01-01",
            _list(3, LIST_3, 3, 2, 1, 50.0, "0.00"),
            _list(2, "2026-01-10T05:00:00Z", 4, 4, 3, 75.0, "850.50"),
        ),
        "total": 2,
    },
    ("lists", "30d"): {
        **_lists(
            "30d",
            "2026-03-02",
            _list(3, LIST_3, 3, 2, 1, 50.0, "0.00"),
            _list(2, "2026-01-10T05:00:00Z", 0, 3, 3, 100.0, "850.50"),
        ),
        "total": 2,
    },
    ("lists", "7d"): {
        **_lists(
            "7d",
            "2026-03-25",
            _list(3, LIST_3, 3, 2, 1, 50.0, "0.00"),
            _list(2, "2026-01-10T05:00:00Z", 0, 2, 2, 100.0, "350.50"),
        ),
        "total": 2,
    },
    ("generics", "all"): _generics("all", None, 3, 4, 42.86, "240.00", 2, 1),
    ("generics", "90d"): _generics("90d", "2026-01-01", 3, 4, 42.86, "240.00", 2, 1),
    ("generics", "30d"): _generics("30d", "2026-03-02", 2, 3, 40.0, "210.00", 1, 1),
    ("generics", "7d"): _generics("7d", "2026-03-25", 2, 2, 50.0, "210.00", 1, 1),
}


def _day(date, contacted=0, converted=0, value="0.00"):
    return {"date": date, "contacted": contacted, "converted": converted, "conversion_value": value}


#: The daily series of the last week (the other windows are checked against the conversion report).
DAILY_7D = {
    "window": "7d",
    "from": "2026-03-25",
    "to": "2026-03-31",
    "days": [
        _day("2026-03-25", contacted=1),
        _day("2026-03-26"),
        _day("2026-03-27", converted=1, value="100.00"),
        _day("2026-03-28"),
        _day("2026-03-29"),
        _day("2026-03-30", contacted=1),
        _day("2026-03-31", contacted=2, converted=2, value="250.50"),
    ],
}
FIRST_DAY_WITH_DATA = "2025-12-20"  # contact 108 left pending

#: ``GET /reports/adherence?threshold=0.80`` once every row is computed for 31 March: the (customer,
#: medicine) pairs below 80 % over 180 days, lowest first.
ADHERENCE_BELOW_80 = {
    "threshold": "0.80",
    "days": 180,
    "items": [
        # Amlodipine 5: 10 days bought on 15 January, 76 days measured.
        {
            "customer_id": 501,
            "name": None,
            "phone": PHONE,
            "medicine_name": "Amlodipine 5",
            "pdc": "0.13",
            "as_of": "2026-03-31",
        },
        # Atorvastatin: 30 days from 1 February, 30 from 28 March; 34 of the 59 days since 1 February.
        {
            "customer_id": 504,
            "name": "Meena Iyer",
            "phone": PHONE,
            "medicine_name": "Atorvastatin 10 (generic)",
            "pdc": "0.58",
            "as_of": "2026-03-31",
        },
    ],
    "page": 1,
    "per_page": 50,
    "total": 2,
}

ALL_REPORTS = [
    (report, window)
    for report in ("conversion", "staff", "categories", "refills", "lists", "generics")
    for window in ("7d", "30d", "90d", "all")
]
assert sorted(EXPECTED) == sorted(ALL_REPORTS)
