"""The web UI's newer workflows in headless Chromium against the real stack (same fixtures as
test_ui_browser.py): the guide's workflow 4 (generic education: category history, savings,
adherence, a refill reminder set by hand), consent recorded on a profile and honoured on Refill
Reminders, and the exports. Screenshots of every screen visited go to var/screenshots/ (w4-*.png,
consent-*.png); the changed screens get an axe-core scan."""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from .conftest import bill_body, new_phone
from .test_ui_browser import (
    STAFF_PASSWORD,
    STAFF_USERNAME,
    axe_violations,
    browser,
    eventually,
    go,
    open_page,
    shot,
    staff_member,
)

pytestmark = pytest.mark.e2e
__all__ = ["browser", "staff_member"]  # fixtures, shared with test_ui_browser.py


def test_workflow_4_generic_education(stack, browser, staff_member):
    phone = new_phone()
    name = f"Meena Pillai {phone[-4:]}"
    page = open_page(browser, stack, "/bills/new", axe=True)
    found: dict[str, list[str]] = {}

    # 1. A regular customer buys the branded medicine.
    page.get_by_label("Customer phone").fill(phone)
    page.get_by_label("Customer name").fill(name)
    page.get_by_label("Customer category").select_option(label="Regular Branded")
    page.get_by_label("Medicine name").fill("Atorvastatin 10")
    page.get_by_label("Amount (₹)").fill("150.00")
    page.get_by_label("Duration (days)").fill("30")
    assert page.get_by_label("Branded price (₹)").count() == 0  # only for a generic line
    page.get_by_role("button", name="Create bill").click()
    effects = page.get_by_role("region", name="What the bill did")
    effects.get_by_role("link", name=name).wait_for(timeout=60_000)
    assert "Generic savings" not in effects.inner_text()  # a branded bill saves nothing
    shot(page, "w4-branded-bill")

    # 2-4 and 6. The staff member explains generics; the profile records it with the date.
    effects.get_by_role("link", name=name).click()
    page.get_by_role("heading", level=1, name=name).wait_for()
    facts = page.locator("dl.facts")
    assert "Regular Branded" in facts.inner_text()
    assert "Not given yet" in facts.inner_text()
    page.get_by_label("Generic education given").check()
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Customer details saved.").wait_for()
    facts.get_by_text(re.compile(r"Given on \d+ \w+ \d{4}")).wait_for()
    page.get_by_text(re.compile(r"Generic education given on \d+ \w+ \d{4}\.")).wait_for()
    shot(page, "w4-profile-educated")
    profile_url = page.url

    # 5. The next bill is "Generic Informed", with the generic and what the brand would cost.
    go(page, "Create Bill")
    page.get_by_label("Customer phone").fill(phone)
    page.get_by_label("Customer name").fill(name)
    page.get_by_label("Customer category").select_option(label="Generic Informed")
    page.get_by_label("Medicine name").fill("Atorvastatin 10")
    page.get_by_label("Amount (₹)").fill("60.00")
    page.get_by_label("Duration (days)").fill("30")
    page.get_by_label("Generic", exact=True).check()
    page.get_by_label("Branded price (₹)").fill("150.00")
    found["Create Bill with a generic line"] = axe_violations(page)
    shot(page, "w4-generic-bill-form")
    page.get_by_role("button", name="Create bill").click()
    effects = page.get_by_role("region", name="What the bill did")
    effects.get_by_text("Generic savings: ₹90.00").wait_for(timeout=60_000)
    effects.get_by_text("Atorvastatin 10: ₹90.00 (branded ₹150.00)").wait_for()
    assert page.get_by_label("Branded price (₹)").count() == 0  # a fresh form, the generic box unticked
    effects.get_by_role("link", name=name).wait_for(timeout=60_000)
    shot(page, "w4-generic-bill")

    # 8. The profile: category now Generic Informed (with its history), and the savings.
    page.goto(profile_url)

    def updated():
        page.reload()
        page.get_by_role("heading", level=1, name=name).wait_for()
        text = page.locator("dl.facts").inner_text()
        history = page.get_by_role("region", name="Category history")
        return (
            "Generic Informed" in text
            and "₹90.00" in text
            and history.count() == 1
            and "Regular Branded" in history.inner_text()
        )

    eventually(updated, message="the Generic Informed category and the savings on the profile")
    history = page.get_by_role("list", name="Category changes, newest first").locator("li")
    assert re.search(r"Generic Informed\s+since \d+ \w+ \d{4}, from bill #\d+ \(now\)", history.nth(0).inner_text())
    assert "Regular Branded" in history.nth(history.count() - 1).inner_text()
    found["Customer profile"] = axe_violations(page)
    shot(page, "w4-profile-generic-informed")

    page.get_by_role("tab", name="Purchase history").click()
    panel = page.get_by_role("tabpanel")
    panel.get_by_text("₹90.00 (branded ₹150.00)").wait_for()
    found["Customer profile: purchase history"] = axe_violations(page)
    shot(page, "w4-purchase-history")

    # Adherence per medicine, and a refill reminder set by hand for a medicine without a duration.
    page.get_by_role("tab", name="Refill reminders").click()
    adherence = page.get_by_role("region", name="Adherence")
    adherence.get_by_text("Days covered of days since first fill", exact=False).wait_for()
    row = adherence.locator("tbody tr", has_text="Atorvastatin 10")
    row.wait_for()
    assert re.search(r"\d+ of \d+", row.inner_text()) and re.search(r"\b\d{1,3}%", row.inner_text()), row.inner_text()
    form = page.get_by_role("form", name="Set refill reminder")
    form.get_by_role("button", name="Set refill reminder").click()
    assert form.get_by_label("Medicine").get_attribute("aria-invalid") == "true"
    form.get_by_text("Enter the medicine.", exact=True).wait_for()
    form.get_by_text("Choose the day to remind the customer.", exact=True).wait_for()
    form.get_by_label("Medicine").fill("Cough syrup")
    form.get_by_label("Reminder date").fill("2031-03-15")
    form.get_by_role("button", name="Set refill reminder").click()
    form.get_by_text("Refill reminder set: Cough syrup on 15 Mar 2031.").wait_for()
    reminder = page.get_by_role("tabpanel").locator("ul.rows li", has_text="Cough syrup")
    reminder.get_by_text("Set by hand").wait_for()
    found["Customer profile: refill reminders"] = axe_violations(page)
    shot(page, "w4-refills-adherence")
    page.close()
    serious = {screen: v for screen, v in found.items() if v}
    assert not serious, serious


def test_consent_declined_on_the_profile_blocks_whatsapp(stack, browser, staff_member):
    phone = new_phone()
    name = f"Suresh Iyer {phone[-4:]}"
    bill = staff_member.post(
        "/api/v1/bills",
        json=bill_body(
            phone,
            name=name,
            items=[{"medicine_name": "Losartan 50", "quantity": 1, "amount": "90.00", "duration_days": 5}],
        ),
    )
    assert bill.status_code == 201, bill.text
    page = open_page(browser, stack, "/refills?days=0", axe=True)
    found: dict[str, list[str]] = {}

    def row():
        page.reload()
        page.locator("table, .empty").first.wait_for()
        found_row = page.locator("tbody tr", has_text=name)
        return found_row if found_row.count() else None

    reminder = eventually(row, message=f"{name}'s refill reminder")
    assert reminder.get_by_role("button", name="WhatsApp sent").is_enabled()  # nothing declined yet
    assert "Customer declined" not in reminder.inner_text()

    # The customer replied STOP: the staff member records it on the profile.
    reminder.get_by_role("link", name=name).click()
    page.get_by_role("heading", level=1, name=name).wait_for()
    facts = page.locator("dl.facts")
    facts.get_by_text("WhatsApp: not asked").wait_for()
    page.get_by_role("tab", name="Consent").click()
    form = page.get_by_role("form", name="Record consent")
    form.get_by_role("button", name="Save consent").click()  # nothing chosen: said beside the fields
    form.get_by_text("Choose the answer for at least one channel.").wait_for()
    assert form.get_by_label("Where was this said?").get_attribute("aria-invalid") == "true"
    form.get_by_label("WhatsApp", exact=True).select_option(label="Declined")
    form.get_by_label("Where was this said?").fill("reply STOP")
    form.get_by_role("button", name="Save consent").click()
    form.get_by_text("Consent saved.").wait_for()
    facts.get_by_text("WhatsApp: declined").wait_for()
    changes = page.get_by_role("list", name="Consent changes, newest first")
    changes.get_by_text("reply STOP", exact=False).wait_for()
    assert "WhatsApp: declined" in changes.locator("li").first.inner_text()
    found["Customer profile: consent"] = axe_violations(page)
    shot(page, "consent-profile")

    # On Refill Reminders the WhatsApp button is disabled, and says why.
    go(page, "Refill Reminders")
    page.get_by_label("Days ahead").select_option(label="Today (and overdue)")
    reminder = page.locator("tbody tr", has_text=name)
    reminder.get_by_text("Customer declined WhatsApp").wait_for()
    whatsapp = reminder.get_by_role("button", name="WhatsApp sent")
    assert whatsapp.is_disabled()
    assert page.evaluate(
        "id => document.getElementById(id).textContent", whatsapp.get_attribute("aria-describedby")
    ) == ("Customer declined WhatsApp")
    assert reminder.get_by_role("button", name="Call made").is_enabled()  # calls were not declined
    assert "Customer declined calls" not in reminder.inner_text()
    found["Refill Reminders"] = axe_violations(page)
    shot(page, "consent-refill-reminders")
    page.close()
    serious = {screen: v for screen, v in found.items() if v}
    assert not serious, serious


def test_exports_download_with_the_current_filters(stack, browser, staff_member):
    phone = new_phone()
    name = f"Export Customer {phone[-4:]}"
    bill = staff_member.post(
        "/api/v1/bills",
        json=bill_body(
            phone,
            name=name,
            category="generic_informed",
            items=[{"medicine_name": "Metformin 500", "quantity": 1, "amount": "40.00", "duration_days": 5}],
        ),
    )
    assert bill.status_code == 201, bill.text
    page = open_page(browser, stack, "/customers?category=generic_informed")
    eventually(
        lambda: page.reload() or page.get_by_role("link", name=name).count() == 1,
        message="the exported customer in the list",
    )
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert name in text and phone in text, text[:500]
    shot(page, "export-customers")
    page.close()

    page = open_page(browser, stack, "/refills?days=0")
    eventually(
        lambda: page.reload() or page.locator("tbody tr", has_text=name).count() == 1,
        message="the exported reminder in the list",
    )
    with page.expect_download() as download:
        page.get_by_role("button", name="Export Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    assert Path(download.value.path()).read_bytes()[:2] == b"PK"  # an xlsx is a zip
    page.close()

    page = open_page(browser, stack, "/contacts")
    page.get_by_role("heading", level=1, name="Contact Records").wait_for()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    header = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()[0]
    assert "phone" in header.lower(), header
    page.close()

    # Staff members see no customer export (admins only).
    page = open_page(browser, stack, "/customers", username=STAFF_USERNAME, password=STAFF_PASSWORD)
    page.get_by_role("heading", level=1, name="Customers").wait_for()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("button", name="Export CSV").count() == 0
    page.close()


def test_reports_adherence_lists_a_customer_below_the_threshold(stack, browser, staff_member):
    phone = new_phone()
    name = f"Low Cover {phone[-4:]}"
    today = datetime.datetime.now(ZoneInfo(os.environ.get("PHARMACY_TZ", "Asia/Kolkata"))).date()
    # One 30-day supply bought 100 days ago, never refilled: about 30 % of the days covered.
    bill = staff_member.post(
        "/api/v1/bills",
        json=bill_body(
            phone,
            name=name,
            bill_date=(today - datetime.timedelta(days=100)).isoformat(),
            items=[{"medicine_name": "Glimepiride 1", "quantity": 1, "amount": "50.00", "duration_days": 30}],
        ),
    )
    assert bill.status_code == 201, bill.text
    page = open_page(browser, stack, "/reports?threshold=0.7", axe=True)
    adherence = page.get_by_role("region", name="Adherence")

    def row():
        page.reload()
        adherence.locator("table, .empty").first.wait_for()
        found = adherence.locator("tbody tr", has_text=name)
        return found if found.count() == 1 else None

    found_row = eventually(row, message=f"{name} in the adherence report")
    assert adherence.get_by_label("Days covered below").input_value() == "0.7"
    cells = found_row.inner_text()
    assert "Glimepiride 1" in cells and phone in cells, cells
    percent = re.search(r"\b(\d{1,3})%", cells)
    assert percent and int(percent.group(1)) < 70, cells  # the PDC as a percentage, below the threshold
    found = {"Reports with adherence rows": axe_violations(page)}
    shot(page, "reports-adherence")
    found_row.get_by_role("link", name=name).click()
    page.get_by_role("heading", level=1, name=name).wait_for()
    page.close()
    serious = {screen: v for screen, v in found.items() if v}
    assert not serious, serious
