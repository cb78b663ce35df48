"""``GET /contacts/export``: every matching contact (not a page) as CSV or XLSX, staff only theirs,
cells a spreadsheet would run neutralized, consent per channel (real PostgreSQL)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from shared.testing import auth_headers

ADMIN = auth_headers("admin", 1)
ALICE = auth_headers("staff", 11)
CONTACTS = "/api/v1/contacts"
COLUMNS = [
    "id",
    "phone",
    "name",
    "status",
    "whatsapp_status",
    "assigned_to",
    "upload_id",
    "last_interaction_at",
    "converted_at",
    "conversion_value",
    "customer_id",
    "created_at",
    "whatsapp_consent",
    "call_consent",
    "sms_consent",
]


@pytest.fixture
def contacts(client, staff, deliver):
    """250 contacts spread over three staff (more than one page of 200); one named like a formula,
    one converted with a value, one with WhatsApp declined."""
    content = "phone,name\n" + "".join(f"98765{n:05d},Person {n}\n" for n in range(250))
    response = client.post(
        f"{CONTACTS}/uploads",
        data={"file": (io.BytesIO(content.encode()), "list.csv")},
        headers=ADMIN,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    mine = client.get(f"{CONTACTS}?assigned_to=11&per_page=200", headers=ADMIN).json["items"]
    formula, converted, declined = mine[0], mine[1], mine[2]
    assert (
        client.patch(
            f"{CONTACTS}/{formula['id']}", json={"name": '=HYPERLINK("http://x","y")'}, headers=ALICE
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"{CONTACTS}/{converted['id']}/convert", json={"conversion_value": "99.50"}, headers=ALICE
        ).status_code
        == 200
    )
    deliver(
        "consent.changed",
        {
            "phone": declined["phone"],
            "whatsapp": "declined",
            "call": "granted",
            "sms": "unknown",
            "source": "reply STOP",
            "changed_at": "2026-03-01T09:00:00Z",
            "by": None,
        },
        source="/services/customers",
    )
    return {"formula": formula, "converted": converted, "declined": declined, "alice": len(mine)}


def read_csv(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    assert 'filename="contacts.csv"' in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(body[len(codecs.BOM_UTF8) :].decode("utf-8"))))
    assert rows[0] == COLUMNS
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]]


def test_admins_export_every_contact_and_staff_only_theirs(client, contacts):
    everyone = read_csv(client.get(f"{CONTACTS}/export?format=csv", headers=ADMIN))
    assert len(everyone) == 250 and len({row["id"] for row in everyone}) == 250  # all, not a page

    theirs = read_csv(client.get(f"{CONTACTS}/export", headers=ALICE))  # csv by default
    assert len(theirs) == contacts["alice"] and {row["assigned_to"] for row in theirs} == {"11"}
    # Asking for someone else's contacts gives nothing, not theirs.
    assert read_csv(client.get(f"{CONTACTS}/export?assigned_to=12", headers=ALICE)) == []

    by_id = {int(row["id"]): row for row in theirs}
    formula = by_id[contacts["formula"]["id"]]
    assert formula["name"] == '\'=HYPERLINK("http://x","y")'
    converted = by_id[contacts["converted"]["id"]]
    assert (converted["status"], converted["conversion_value"]) == ("converted", "99.50")
    assert converted["converted_at"] == dt.date.fromisoformat(converted["converted_at"]).isoformat()
    declined = by_id[contacts["declined"]["id"]]
    assert (declined["whatsapp_consent"], declined["call_consent"], declined["sms_consent"]) == (
        "declined",
        "granted",
        "unknown",
    )
    # E.164 starts with "+", which a spreadsheet would run: neutralized like every export's phones.
    assert declined["phone"] == "'" + contacts["declined"]["phone"] and declined["created_at"].endswith("Z")


def test_the_export_applies_the_lists_filters(client, contacts):
    converted = read_csv(client.get(f"{CONTACTS}/export?status=converted", headers=ADMIN))
    assert [int(row["id"]) for row in converted] == [contacts["converted"]["id"]]
    found = read_csv(client.get(f"{CONTACTS}/export?q=Person%2012", headers=ADMIN))
    listed = client.get(f"{CONTACTS}?q=Person%2012&per_page=200", headers=ADMIN).json
    assert sorted(int(row["id"]) for row in found) == sorted(c["id"] for c in listed["items"])
    assert len(found) == listed["total"] > 1


def test_the_xlsx_export_opens_and_holds_no_formula(client, contacts):
    response = client.get(f"{CONTACTS}/export?format=xlsx", headers=ALICE)
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="contacts.xlsx"' in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == COLUMNS and len(rows) == contacts["alice"] + 1
    names = {row[2] for row in rows[1:]}
    assert '\'=HYPERLINK("http://x","y")' in names
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_bad_export_queries_are_422_naming_the_field(client, contacts):
    for query, field in [("format=pdf", "format"), ("status=gone", "status"), ("assigned_to=0", "assigned_to")]:
        response = client.get(f"{CONTACTS}/export?{query}", headers=ADMIN)
        assert response.status_code == 422 and response.mimetype == "application/problem+json", query
        assert field in response.json["errors"], response.json


def test_export_is_not_taken_for_a_contact_id(client, staff):
    # /contacts/<int:contact_id> never matches "export": the export answers, even with no contacts.
    response = client.get(f"{CONTACTS}/export", headers=ADMIN)
    assert response.status_code == 200 and response.get_data().startswith(codecs.BOM_UTF8)
    assert client.get(f"{CONTACTS}/export", headers={}).status_code == 401
