"""End to end (issue 9: consent in contacts, WhatsApp from a contact, yellow follow-ups, export):
a phone that declined WhatsApp before its list was uploaded cannot be sent one; another contact's
WhatsApp is logged and makes it contacted; a visit without purchase turns a third yellow and
schedules its follow-up; staff export their own contacts (real processes, through the gateway)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest

from shared.testing import eventually

from .conftest import new_phone, requires
from .test_e2e_contacts import new_staff

pytestmark = pytest.mark.e2e
DEADLINE = 30.0


@pytest.fixture(autouse=True)
def _services(stack):
    requires(stack, "gateway", "billing", "customers", "contacts")


def test_consent_whatsapp_yellow_follow_up_and_export_through_the_gateway(admin, gateway_url):
    declined_phone, messaged_phone, visiting_phone = new_phone(), new_phone(), new_phone()
    # The customer said STOP before the phone was in any contact list.
    said = admin.put(f"/api/v1/consent/{declined_phone}", json={"whatsapp": "declined", "source": "reply STOP"})
    assert said.status_code == 200, said.text

    staff_id, staff = new_staff(admin, gateway_url)
    content = f"phone,name\n{declined_phone},Asha\n{messaged_phone},Ravi\n{visiting_phone},Meera\n"

    def uploaded():
        response = admin.post(
            "/api/v1/contacts/uploads",
            files={"file": ("consent.csv", io.BytesIO(content.encode()), "text/csv")},
            data={"list_name": "Consent list", "assign_to": str(staff_id)},
        )
        if response.status_code == 422 and "staff" in response.text.lower():
            return None  # the roster has not heard of the new staff member yet
        assert response.status_code == 201, response.text
        return response.json()

    upload = eventually(uploaded, timeout=DEADLINE, interval=0.5, message="roster knows the staff member")
    assert upload["imported"] == 3
    listed = staff.get("/api/v1/contacts", params={"upload_id": upload["id"]}).json()["items"]
    by_phone = {c["phone"]: c for c in listed}
    declined, messaged, visiting = by_phone[declined_phone], by_phone[messaged_phone], by_phone[visiting_phone]

    # consent.changed reaches contacts (eventually) and applies to the contact uploaded after it.
    eventually(
        lambda: staff.get(f"/api/v1/contacts/{declined['id']}").json()["consent"]["whatsapp"] == "declined",
        timeout=DEADLINE,
        message="contact shows WhatsApp declined",
    )
    refused = staff.post(f"/api/v1/contacts/{declined['id']}/whatsapp", json={})
    assert refused.status_code == 409, refused.text
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert staff.get(f"/api/v1/contacts/{declined['id']}").json()["status"] == "pending"

    sent = staff.post(f"/api/v1/contacts/{messaged['id']}/whatsapp", json={"template": "Hi {name}"})
    assert sent.status_code == 201, sent.text
    assert sent.json()["url"].startswith(f"https://wa.me/{messaged_phone.lstrip('+')}?text=Hi")
    assert sent.json()["contact"]["status"] == "contacted"
    detail = staff.get(f"/api/v1/contacts/{messaged['id']}").json()
    assert detail["status"] == "contacted" and [i["type"] for i in detail["interactions"]] == ["whatsapp"]

    today = dt.datetime.now(ZoneInfo("Asia/Kolkata")).date().isoformat()
    visit = admin.post(
        "/api/v1/bills",
        json={
            "customer_phone": visiting_phone,
            "customer_category": "contact_sheet",
            "visited_no_purchase": True,
            "bill_date": today,
            "items": [],
        },
    )
    assert visit.status_code == 201, visit.text

    def follow_up():
        items = staff.get("/api/v1/contacts/follow-ups", params={"due_within_days": 3}).json()["items"]
        return next((f for f in items if f["contact_id"] == visiting["id"]), None)

    scheduled = eventually(follow_up, timeout=DEADLINE, message="yellow contact's follow-up")
    assert scheduled["contact_status"] == "yellow" and scheduled["staff_id"] == staff_id

    # /contacts/export is the export, not a contact id; the staff member gets exactly their three.
    export = staff.get("/api/v1/contacts/export", params={"format": "csv"})
    assert export.status_code == 200, export.text
    assert export.content.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert sorted(int(row["id"]) for row in rows) == sorted(c["id"] for c in listed)
    assert {row["id"]: row["whatsapp_consent"] for row in rows}[str(declined["id"])] == "declined"
