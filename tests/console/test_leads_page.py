"""Browser: sign in, the live Leads page, filters, CSV export, lead values shown as text."""

from __future__ import annotations

import re
import uuid

from tests.console.conftest import Account, Watched, playwright_expect

expect = playwright_expect()


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


def test_the_token_travels_only_in_the_authorization_header(signed_in: Watched, account: Account) -> None:
    token = signed_in.token()
    pages = {"#/board": "Pipeline", "#/import": "Import leads", "#/integrations": "Settings → Integrations"}
    pages.update({"#/users": "Settings → Users", "#/audit": "Audit log", "#/leads": "Leads"})
    for route, title in pages.items():
        signed_in.open(route)
        expect(signed_in.page.get_by_role("heading", level=1)).to_have_text(title)
    api_calls = [(url, headers) for url, headers in signed_in.requests if "/v1/" in url]
    assert len(api_calls) > 6
    assert all(token not in url for url, _ in signed_in.requests)
    referred = [(url, headers["referer"]) for url, headers in signed_in.requests if headers.get("referer")]
    assert referred == []  # Referrer-Policy: no-referrer
    for url, headers in api_calls:
        if not url.endswith("/v1/auth/login"):
            assert headers.get("authorization") == f"Bearer {token}", url


def test_the_browser_enforces_the_policy(signed_in: Watched) -> None:
    page = signed_in.page
    response = page.request.get(f"{signed_in.base_url}/console/")
    assert "script-src 'self';" in response.headers["content-security-policy"]
    ran = page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.__inline = true";
          document.head.append(script);
          setTimeout("window.__evaluated = true", 0);  // string code: eval by another name
          const styled = document.createElement("style");
          styled.textContent = "body { color: rgb(1, 2, 3); }";
          document.head.append(styled);
          const report = () => [window.__inline === true, window.__evaluated === true,
                                getComputedStyle(document.body).color];
          return new Promise((done) => setTimeout(() => done(report()), 0));
        }"""
    )
    assert ran[0] is False and ran[1] is False and ran[2] != "rgb(1, 2, 3)"
    refused = [text for text in signed_in.console_errors if "Content Security Policy" in text]
    assert len(refused) >= 3  # the inline script, the string timer and the inline style were refused
    signed_in.console_errors.clear()  # provoked on purpose; any other error still fails the test
