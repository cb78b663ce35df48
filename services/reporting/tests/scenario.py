"""A realistic month of pharmacy events, and the reports they must give on 31 March 2026 (Kolkata).

Instants are chosen around midnight in Kolkata where it matters: an upload at 19:00 UTC on
24 March is 25 March at the pharmacy, so it belongs to the 7-day window.
"""

from __future__ import annotations

import datetime as dt

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

    def status(contact_id, from_status, to_status, changed_at, assigned_to, by):
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
            },
            CONTACTS,
        )

    def converted(contact_id, converted_at, value, bill_id, assigned_to, category):
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

    def customer(customer_id, category, first_visit):
        add(
            "customer.upserted",
            {
                "customer_id": customer_id,
                "phone": PHONE,
                "name": None,
                "category": category,
                "first_visit_date": first_visit,
                "last_visit_date": first_visit,
                "total_visits": 1 if first_visit else 0,
                "total_purchases": "0.00",
                "contact_record_id": None,
            },
            CUSTOMERS,
        )

    def purchase(purchase_id, customer_id, bill_id, purchase_date, amount):
        add(
            "purchase.recorded",
            {
                "purchase_id": purchase_id,
                "customer_id": customer_id,
                "bill_id": bill_id,
                "purchase_date": purchase_date,
                "medicine_name": "Metformin 500",
                "is_generic": False,
                "quantity": 1,
                "amount": amount,
                "duration_days": 30,
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

    def reminder_update(reminder_id, status_, whatsapp=None, call=None, responded=False, purchased=None):
        add(
            "refill_reminder.updated",
            {
                "reminder_id": reminder_id,
                "status": status_,
                "whatsapp_sent_at": whatsapp,
                "call_made_at": call,
                "responded": responded,
                "purchased_at": purchased,
                "by": 11,
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

    status(108, "pending", "contacted", "2025-12-20T05:00:00Z", 11, 11)
    status(101, "pending", "contacted", "2026-01-12T04:00:00Z", 11, 11)
    bill(BILLING, 9001, "2026-03-05", "regular_branded", "500.00")
    status(101, "contacted", "converted", "2026-03-05T05:00:00Z", 11, 11)
    converted(101, "2026-03-05", "500.00", 9001, 11, "regular_branded")
    status(102, "pending", "yellow", "2026-03-01T19:00:00Z", 11, 11)  # 2 March in Kolkata
    status(102, "yellow", "contacted", "2026-03-26T05:00:00Z", 11, 11)
    status(104, "pending", "contacted", "2026-03-25T10:00:00Z", 12, 12)
    bill(BILLING, 9003, "2026-03-27", "contact_sheet", "100.00")
    status(104, "contacted", "converted", "2026-03-27T06:00:00Z", 12, 12)
    converted(104, "2026-03-27", "100.00", 9003, 12, "contact_sheet")
    bill(BILLING, 9010, "2026-03-29", "contact_sheet", "999.00")
    converted(104, "2026-03-29", "999.00", 9010, 12, "contact_sheet")  # a later bill: not a second conversion
    status(105, "pending", "contacted", "2026-03-30T06:00:00Z", 11, 1)  # the admin called Asha's contact
    bill(BILLING, 9002, "2026-03-31", "contact_sheet", "250.50")
    status(103, "pending", "converted", "2026-03-30T19:00:00Z", 12, None)  # converted by the bill
    converted(103, "2026-03-31", "250.50", 9002, 12, "contact_sheet")
    converted(107, "2026-03-31", None, None, 12, None)  # no status change seen: conversion alone counts
    bill(BILLING, 9004, "2026-03-30", "first_time_prescription", "0.00", visited_no_purchase=True)
    bill(POS, 9001, "2026-02-10", "generic_informed", "80.00")  # same id as billing's, another till
    bill(BILLING, 9005, "2025-11-20", "regular_branded", "1200.00")
    bill(BILLING, 9011, "2026-04-02", "regular_branded", "70.00")  # dated after today: in no window

    customer(501, "regular_branded", "2025-11-20")
    customer(502, "contact_sheet", "2026-03-27")
    customer(502, "regular_branded", "2026-03-27")  # recategorised
    customer(503, "first_time_prescription", "2026-03-30")
    customer(504, "generic_informed", "2026-02-10")
    customer(505, "contact_sheet", None)  # created by hand, never visited
    customer(506, "contact_sheet", "2026-03-31")
    purchase(701, 501, 9001, "2026-03-05", "500.00")
    purchase(702, 506, 9002, "2026-03-31", "250.50")

    reminder(801, "2026-03-26")
    reminder(802, "2026-03-29")
    reminder(803, "2026-03-31")
    reminder(804, "2026-04-10")
    reminder(805, "2026-02-15")
    reminder_update(801, "responded", whatsapp="2026-03-25T05:00:00Z", responded=True)
    reminder_update(801, "purchased", whatsapp="2026-03-25T05:00:00Z", responded=True, purchased="2026-03-27T05:00:00Z")
    reminder_update(802, "open", call="2026-03-29T05:00:00Z")
    reminder_update(805, "responded", whatsapp="2026-02-14T05:00:00Z", responded=True)
    reminder_update(806, "responded", whatsapp="2026-03-28T05:00:00Z", responded=True)  # its reminder never came
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


def _staff(staff_id, name, assigned, contacted, converted, rate, value, interactions):
    return {
        "staff_id": staff_id,
        "name": name,
        "assigned": assigned,
        "contacted": contacted,
        "converted": converted,
        "conversion_rate": rate,
        "conversion_value": value,
        "interactions": interactions,
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
            _staff(1, "Admin", 0, 0, 0, 0.0, "0.00", 1),
            _staff(11, "Asha", 6, 4, 1, 25.0, "500.00", 5),
            _staff(12, "Ravi Kumar", 3, 3, 3, 100.0, "350.50", 2),
            _staff(14, "Kiran", 0, 0, 0, 0.0, "0.00", 0),
        ],
    },
    ("staff", "90d"): {
        "window": "90d",
        "from": "2026-01-01",
        "to": "2026-03-31",
        "items": [
            _staff(1, "Admin", 0, 0, 0, 0.0, "0.00", 1),
            _staff(11, "Asha", 4, 3, 1, 33.33, "500.00", 4),
            _staff(12, "Ravi Kumar", 3, 3, 3, 100.0, "350.50", 2),
            _staff(14, "Kiran", 0, 0, 0, 0.0, "0.00", 0),
        ],
    },
    ("staff", "30d"): {
        "window": "30d",
        "from": "2026-03-02",
        "to": "2026-03-31",
        "items": [
            _staff(1, "Admin", 0, 0, 0, 0.0, "0.00", 1),
            _staff(11, "Asha", 2, 2, 1, 50.0, "500.00", 3),
            _staff(12, "Ravi Kumar", 1, 3, 3, 100.0, "350.50", 2),
            _staff(14, "Kiran", 0, 0, 0, 0.0, "0.00", 0),
        ],
    },
    ("staff", "7d"): {
        "window": "7d",
        "from": "2026-03-25",
        "to": "2026-03-31",
        "items": [
            _staff(1, "Admin", 0, 0, 0, 0.0, "0.00", 1),
            _staff(11, "Asha", 2, 1, 0, 0.0, "0.00", 1),
            _staff(12, "Ravi Kumar", 1, 3, 3, 100.0, "350.50", 2),
            _staff(14, "Kiran", 0, 0, 0, 0.0, "0.00", 0),
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
    ("refills", "all"): _refills("all", None, 4, 3, 2, 1, 25.0),
    ("refills", "90d"): _refills("90d", "2026-01-01", 4, 3, 2, 1, 25.0),
    ("refills", "30d"): _refills("30d", "2026-03-02", 3, 2, 1, 1, 33.33),
    ("refills", "7d"): _refills("7d", "2026-03-25", 3, 2, 1, 1, 33.33),
}

ALL_REPORTS = [
    (report, window)
    for report in ("conversion", "staff", "categories", "refills")
    for window in ("7d", "30d", "90d", "all")
]
assert sorted(EXPECTED) == sorted(ALL_REPORTS)
