"""The web UI in headless Chromium against the real stack: sign in, ring up a bill at the till
form, then find the customer it created in the Customers tab (real processes, real browser)."""

from __future__ import annotations

import os
import shutil

import pytest

from .conftest import new_phone, requires
from .stack import ADMIN_PASSWORD, ADMIN_USERNAME

pytestmark = pytest.mark.e2e
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def test_sign_in_create_a_bill_and_find_the_customer(stack, browser, tmp_path):
    requires(stack, "gateway", "billing", "customers")
    page = browser.new_page()
    page.set_default_timeout(20_000)
    page.goto(stack.gateway_url + "/")
    page.fill("#login-form input[name=username]", ADMIN_USERNAME)
    page.fill("#login-form input[name=password]", ADMIN_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#app-view:not([hidden])")

    phone = new_phone()
    page.click("nav#tabs button[data-tab=bills]")
    form = page.locator("#bill-form")
    form.locator("input[name=customer_phone]").fill(phone.replace("+91", ""))
    form.locator("input[name=customer_name]").fill("Lakshmi Menon")
    form.locator("select[name=customer_category]").select_option("regular_branded")
    row = page.locator("#bill-items tbody tr").first
    row.locator("input[name=medicine_name]").fill("Atorvastatin 10")
    row.locator("input[name=quantity]").fill("2")
    row.locator("input[name=amount]").fill("150.00")
    row.locator("input[name=duration_days]").fill("30")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#message:not([hidden])")
    assert "150.00" in page.inner_text("#message")

    # The customer appears once customers has consumed bill.created: search until it shows.
    page.click("nav#tabs button[data-tab=customers]")
    filter_form = page.locator("#customers-filter")
    filter_form.locator("input[name=q]").fill(phone[-10:])
    for _ in range(60):
        filter_form.locator("button[type=submit]").click()
        page.wait_for_timeout(500)
        if "Lakshmi Menon" in page.inner_text("#customers-list"):
            break
    listing = page.inner_text("#customers-list")
    page.screenshot(path=str(tmp_path / "customers.png"), full_page=True)
    assert "Lakshmi Menon" in listing and phone in listing
