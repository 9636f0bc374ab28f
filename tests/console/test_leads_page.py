"""Browser: sign in, the live Leads page, filters, CSV export, lead values shown as text."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.console.conftest import Account, Watched


def test_sign_in_errors_then_success_keeps_the_token_out_of_the_url(
    console: Watched, account: Account
) -> None:
    console.open()
    expect(console.page.get_by_role("heading", name="Sign in to Leadpipe")).to_be_visible()
    console.screenshot("sign-in")
    console.sign_in(account.email, "not the password")
    expect(console.page.get_by_role("alert")).to_have_text("Wrong email or password.")
    assert console.token() is None

    console.sign_in(account.email)
    expect(console.page.get_by_role("heading", name="Leads")).to_be_visible()
    token = console.token()
    assert token and token not in console.page.url
    assert account.api("GET", "/leads", token=token).status_code == 200


def test_throttled_sign_in_says_so(console: Watched, account: Account) -> None:
    console.open()
    for _ in range(5):  # LEADPIPE_LOGIN_MAX_FAILURES_PER_ACCOUNT (default 5)
        console.sign_in(account.email, "wrong password")
        expect(console.page.get_by_role("alert")).to_have_text("Wrong email or password.")
        console.page.get_by_role("button", name="Sign in").wait_for()
        expect(console.page.get_by_role("button", name="Sign in")).to_be_enabled()
    console.sign_in(account.email)  # the right password, refused while throttled
    expect(console.page.get_by_role("alert")).to_have_text(
        re.compile(r"^Too many failed sign-ins\. Wait \d+ seconds")
    )
    assert console.token() is None


def test_a_lead_created_through_the_api_appears_without_reload(signed_in: Watched, account: Account) -> None:
    page = signed_in.page
    expect(page.get_by_text("No leads match.")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    email = f"live.{uuid.uuid4().hex[:6]}@example.com"
    created = account.api(
        "POST", "/leads", json={"email": email, "firstName": "Lina", "lastName": "Live", "company": "Acme"}
    )
    assert created.status_code == 201
    row = page.locator(f"tr[data-lead-id='{created.json()['data']['id']}']")
    expect(row).to_contain_text(email)
    expect(row).to_contain_text("Lina Live")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    signed_in.screenshot("leads")


def test_search_filters_and_export_use_the_api(signed_in: Watched, account: Account) -> None:
    page = signed_in.page
    for first, status, score in (("Ada", "qualified", 90), ("Bob", "new", 10), ("Cy", "qualified", 20)):
        body = {
            "email": f"{first.lower()}@example.com",
            "firstName": first,
            "lastName": "Test",
            "status": status,
            "score": score,
        }
        assert account.api("POST", "/leads", json=body).status_code == 201
    page.reload()
    expect(page.locator("tbody tr")).to_have_count(3)
    page.get_by_label("Status filter").select_option("qualified")
    page.get_by_label("Score from").fill("50")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("ada@example.com")
    assert "status=qualified" in page.url  # the filters survive a return to sign-in

    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    csv_text = download.value.path().read_text()
    assert csv_text.startswith("id,email,firstName")
    assert "ada@example.com" in csv_text and "bob@example.com" not in csv_text

    page.get_by_role("button", name="Clear").click()
    page.get_by_label("Search").fill("bob")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("bob@example.com")


def test_paging_follows_the_cursor(signed_in: Watched, account: Account) -> None:
    leads = [{"email": f"p{n}@example.com", "firstName": "Page", "lastName": f"N{n:02d}"} for n in range(27)]
    assert account.api("POST", "/leads/import", json=leads).status_code == 200
    page = signed_in.page
    page.reload()
    expect(page.locator("tbody tr")).to_have_count(25)
    page.get_by_role("button", name="Next page").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    page.get_by_role("button", name="Previous page").click()
    expect(page.locator("tbody tr")).to_have_count(25)


def test_markup_in_a_lead_is_shown_as_text(signed_in: Watched, account: Account) -> None:
    payload = "<img src=x onerror=alert(1)>"
    created = account.api(
        "POST",
        "/leads",
        json={
            "email": "xss@example.com",
            "firstName": payload,
            "lastName": "<b>bold</b>",
            "company": payload,
        },
    )
    lead_id = created.json()["data"]["id"]
    page = signed_in.page
    row = page.locator(f"tr[data-lead-id='{lead_id}']")
    expect(row).to_contain_text(f"{payload} <b>bold</b>")
    signed_in.open(f"#/leads/{lead_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{payload} <b>bold</b>")
    expect(page.get_by_label("Company")).to_have_value(payload)
    signed_in.open("#/board")
    expect(page.locator(f"li[data-lead-id='{lead_id}']")).to_contain_text(payload)
    assert page.locator("img").count() == 0 and page.locator("b").count() == 0
    assert signed_in.dialogs == []
