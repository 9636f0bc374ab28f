"""Browser: CSV import with progress, API keys (secret shown once), users, audit log, roles."""

from __future__ import annotations

import re
import uuid

from handlers.worker import Worker
from tests.console.conftest import PASSWORD, Account, Watched, playwright_expect

expect = playwright_expect()

CSV = (
    "email,firstName,lastName,company,tags\n"
    "ivy@example.com,Ivy,Import,Acme,vip;csv\n"
    "not-an-email,Bad,Row,,\n"
    "jon@example.com,Jon,Import,Beta,\n"
)


def test_csv_import_shows_progress_and_row_errors(signed_in: Watched, account: Account) -> None:
    page = signed_in.page
    signed_in.open("#/import")
    expect(page.get_by_text("customFields.<name>", exact=True)).to_be_visible()  # text, not an entity
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "leads.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    page.get_by_role("button", name="Upload and import").click()
    status = page.locator(".import-status")
    title = page.locator("#import-title")
    expect(title).to_contain_text(": queued")  # stored, waiting for a worker
    expect(page.get_by_label("Progress")).to_have_attribute("value", "0")

    Worker().run_until_idle(tenant_id=account.tenant_id)  # the import job (and the dedup jobs it queues)
    expect(title).to_contain_text(": completed")
    expect(page.get_by_label("Progress")).to_have_attribute("value", "100")
    expect(status).to_contain_text("2 created · 0 updated · 1 failed")
    errors = page.locator("table.row-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("3")  # the header is row 1
    expect(errors.first).to_contain_text("email")
    signed_in.screenshot("import")
    listed = account.api("GET", "/leads", params={"q": "Import"}).json()["data"]
    assert sorted(lead["email"] for lead in listed) == ["ivy@example.com", "jon@example.com"]


def test_a_new_key_secret_is_shown_once(signed_in: Watched, account: Account) -> None:
    page = signed_in.page
    signed_in.open("#/integrations")
    page.get_by_label("Key name").fill("Nightly sync")
    page.get_by_label("write:leads").check()
    page.get_by_label("Environment").select_option("sandbox")
    page.get_by_label("Rate-limit tier").select_option("high")
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_test_id("secret-value")
    expect(secret).to_have_text(re.compile(r"^lp_sandbox_sk_\w{32}$"))
    expect(page.get_by_text("Copy it now: it is shown only once.")).to_be_visible()
    plaintext = secret.inner_text()
    signed_in.screenshot("integrations")
    page.get_by_role("button", name="Copy key").click()  # clipboard may be refused headless: either message
    expect(page.locator(".secret [role=status]")).not_to_be_empty()

    # The key works, with what was asked for.
    tenant = account.api("GET", "/tenant", token=plaintext).json()["data"]
    assert (tenant["environment"], tenant["limits"]["rateLimitTier"]) == ("sandbox", "high")

    # Gone after navigating away and back, and nowhere in storage.
    signed_in.open("#/leads")
    expect(page.get_by_role("heading", name="Leads", exact=True)).to_be_visible()
    signed_in.open("#/integrations")
    expect(page.get_by_role("row", name="Nightly sync")).to_be_visible()
    assert page.get_by_test_id("secret-value").count() == 0
    assert plaintext not in page.content()
    assert plaintext not in page.evaluate("() => JSON.stringify({...sessionStorage, ...localStorage})")

    # Rotate shows the new secret once; revoke marks it revoked.
    row = page.get_by_role("row", name="Nightly sync")
    row.get_by_role("button", name="Rotate Nightly sync").click()
    page.get_by_role("button", name="Yes, rotate (issues a new secret)").click()
    expect(secret).not_to_have_text(plaintext)
    rotated = secret.inner_text()  # the new secret works (how long the old one lasts is the API's rule)
    assert (
        rotated.startswith("lp_sandbox_sk_")
        and account.api("GET", "/tenant", token=rotated).status_code == 200
    )
    page.get_by_role("button", name="I have stored it").click()
    row.get_by_role("button", name="Revoke Nightly sync").click()
    page.get_by_role("button", name="Yes, revoke").click()
    expect(row).to_contain_text("revoked")


def test_publishable_key_gives_a_form_snippet(signed_in: Watched, account: Account) -> None:
    page = signed_in.page
    signed_in.open("#/integrations")
    page.get_by_label("Key name").fill("Website form")
    page.get_by_label("Key type").select_option("publishable")
    page.get_by_label("Allowed origins").fill("https://www.example.com")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_test_id("secret-value").inner_text()
    assert key.startswith("lp_live_pk_")
    snippet = page.get_by_label("HTML form snippet")
    expect(snippet).to_contain_text(f'<input type="hidden" name="key" value="{key}">')
    expect(snippet).to_contain_text(f'action="{account.base_url}/v1/public/leads"')
    expect(snippet).to_contain_text("https://www.example.com/thanks")
    expect(page.get_by_role("heading", name="Webhook endpoints")).to_be_visible()


def test_users_invite_change_role_deactivate_and_audit(signed_in: Watched, account: Account) -> None:
    page = signed_in.page
    signed_in.open("#/users")
    email = f"sam-{uuid.uuid4().hex[:6]}@example.com"
    page.get_by_label("User email").fill(email)
    page.get_by_label("Full name").fill("Sam Lee")
    page.get_by_label("First password").fill("short")
    page.get_by_role("button", name="Invite").click()
    expect(page.locator(".invite small.error")).to_have_text(
        "Must be at least 8 characters"
    )  # the 422's field
    page.get_by_label("First password").fill(PASSWORD)
    page.get_by_role("button", name="Invite").click()
    row = page.get_by_role("row", name="Sam Lee")
    expect(row).to_contain_text(email)
    row.get_by_label("Role of Sam Lee").select_option("admin")
    expect(page.get_by_role("status").filter(has_text="Sam Lee is now admin.")).to_be_visible()
    row.get_by_role("button", name="Deactivate Sam Lee").click()
    page.get_by_role("button", name="Yes, deactivate (signs them out)").click()
    expect(row.get_by_role("button", name="Reactivate Sam Lee")).to_be_visible()
    signed_in.screenshot("users")
    users = account.api("GET", "/users").json()["data"]
    sam = next(user for user in users if user["email"] == email)
    assert (sam["role"], sam["active"]) == ("admin", False)

    signed_in.open("#/audit")
    expect(page.locator("table.audit tbody tr").first).to_be_visible()
    page.get_by_label("Action").fill("user.updated")
    page.get_by_label("Resource id").fill(sam["id"])
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("table.audit tbody tr")).to_have_count(2)
    expect(page.locator("table.audit tbody tr").first).to_contain_text("active: true → false")
    signed_in.screenshot("audit")


def test_a_member_sees_no_settings(console: Watched, account: Account) -> None:
    email = f"member-{uuid.uuid4().hex[:6]}@example.com"
    body = {"email": email, "name": "Mo Member", "role": "member", "password": PASSWORD}
    assert account.api("POST", "/users", json=body).status_code == 201
    console.open()
    console.sign_in(email)
    menu = console.page.get_by_role("navigation", name="Main")
    expect(menu.get_by_role("link", name="Leads")).to_be_visible()
    for hidden in ("Settings → Integrations", "Settings → Users", "Audit log"):
        expect(menu.get_by_role("link", name=hidden)).to_have_count(0)
    console.open("#/integrations")
    expect(console.page.get_by_role("heading", name="Not available")).to_be_visible()


def test_the_keys_and_the_audit_log_page_through_cursors(signed_in: Watched, account: Account) -> None:
    names = [f"Batch key {n:02d}" for n in range(30)]  # over a page of keys (20) and of audit events (25)
    for name in names:
        made = account.api("POST", "/api-keys", json={"name": name, "scopes": ["read:leads"]})
        assert made.status_code == 201, made.text
    page = signed_in.page
    signed_in.open("#/integrations")
    keys = page.locator("section[aria-labelledby=keys-title]")
    expect(keys.get_by_role("row", name=names[-1])).to_be_visible()  # newest first
    expect(keys.get_by_role("row", name=names[0])).to_have_count(0)
    keys.get_by_role("button", name="Next page").click()
    expect(keys.get_by_role("row", name=names[0])).to_be_visible()
    expect(keys.get_by_role("row", name=names[-1])).to_have_count(0)
    keys.get_by_role("button", name="Previous page").click()
    expect(keys.get_by_role("row", name=names[-1])).to_be_visible()

    signed_in.open("#/audit")  # one event per key created
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(25)
    newest = rows.first.text_content() or ""
    page.get_by_role("button", name="Next page").click()
    expect(rows.first).not_to_have_text(newest)
    page.get_by_role("button", name="Previous page").click()
    expect(rows.first).to_have_text(newest)
