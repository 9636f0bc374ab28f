"""Browser: sign out, a revoked session back to sign-in on the same page, Sandbox/Live, keyboard, phone."""

from __future__ import annotations

import pytest
import yaml

from tests.console.conftest import PASSWORD, Account, Watched, playwright_expect
from tests.support import SPEC_PATH, make_tenant

expect = playwright_expect()


def spec_has_operation(operation_id: str) -> bool:
    spec = yaml.safe_load(SPEC_PATH.read_text())
    return any(
        op.get("operationId") == operation_id
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
    )


def test_sign_out_forgets_and_revokes_the_token(signed_in: Watched, account: Account) -> None:
    token = signed_in.token()
    assert token and account.api("GET", "/leads", token=token).status_code == 200
    signed_in.page.get_by_role("button", name="Sign out").click()
    expect(signed_in.page.get_by_role("heading", name="Sign in to Leadpipe")).to_be_visible()
    assert signed_in.token() is None
    expect(signed_in.page.get_by_role("status")).to_have_count(0)  # no "session ended": the user left
    signed_in.page.reload()
    expect(signed_in.page.get_by_role("heading", name="Sign in to Leadpipe")).to_be_visible()
    if not spec_has_operation("logout"):
        pytest.xfail(
            "POST /v1/auth/logout (operationId logout) comes with the concurrency branch, not merged here yet"
        )
    assert account.api("GET", "/leads", token=token).status_code == 401


def test_a_revoked_session_signs_in_again_on_the_same_page(signed_in: Watched, account: Account) -> None:
    lead = account.api(
        "POST", "/leads", json={"email": "keep@example.com", "firstName": "Kip", "lastName": "Page"}
    ).json()["data"]
    page = signed_in.page
    signed_in.open(f"#/leads/{lead['id']}?tab=history")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kip Page")
    # A password change revokes every earlier session token (README); the next poll gets 401.
    assert (
        account.api("PATCH", f"/users/{account.owner_id}", json={"password": PASSWORD + "!"}).status_code
        == 200
    )
    signed_in.open("#/board")  # any request now answers 401
    expect(page.get_by_role("heading", name="Sign in to Leadpipe")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(
        "Your session has ended. Sign in again to return to the page you were on."
    )
    assert page.url.endswith("#/board")
    signed_in.sign_in(account.email, PASSWORD + "!")
    expect(page.get_by_role("heading", name="Pipeline")).to_be_visible()


def test_sandbox_switch_uses_a_sandbox_key_held_in_memory(signed_in: Watched, account: Account) -> None:
    assert (
        account.api(
            "POST", "/leads", json={"email": "live@example.com", "firstName": "L", "lastName": "Ive"}
        ).status_code
        == 201
    )
    sandbox = account.api(
        "POST",
        "/leads",
        json={"email": "sand@example.com", "firstName": "S", "lastName": "And"},
        headers={"X-API-Key": account.sandbox_key},
    )
    assert sandbox.status_code == 201
    page = signed_in.page
    expect(page.locator("tbody")).to_contain_text("live@example.com")
    switch = page.get_by_role("group", name="Sandbox or live data")
    expect(switch.get_by_role("button", name="Live")).to_have_attribute("aria-pressed", "true")
    switch.get_by_role("button", name="Sandbox").click()
    expect(page.get_by_text("Sign-in sessions act on live data only.")).to_be_visible()
    page.get_by_label("Sandbox secret key").fill(account.live_key)
    page.get_by_role("button", name="Use sandbox").click()
    expect(page.locator(".env-form .error")).to_have_text(
        "That is not a sandbox secret key (lp_sandbox_sk_…)."
    )
    page.get_by_label("Sandbox secret key").fill(account.sandbox_key)
    page.get_by_role("button", name="Use sandbox").click()
    expect(page.get_by_text("Sandbox data", exact=True)).to_be_visible()
    expect(page.locator("tbody")).to_contain_text("sand@example.com")
    expect(page.locator("tbody")).not_to_contain_text("live@example.com")
    signed_in.screenshot("sandbox")
    stored = page.evaluate("() => JSON.stringify({...sessionStorage, ...localStorage})")
    assert account.sandbox_key not in stored
    switch.get_by_role("button", name="Live").click()
    expect(page.locator("tbody")).to_contain_text("live@example.com")
    expect(page.locator("tbody")).not_to_contain_text("sand@example.com")


def test_sign_in_by_keyboard_with_visible_focus(console: Watched, account: Account) -> None:
    page = console.page
    console.open()
    page.get_by_label("Email").focus()
    page.keyboard.type(account.email)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Sign in"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    page.get_by_role("link", name="Pipeline").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Pipeline")).to_be_visible()


def test_phone_sized_viewport(phone: Watched, account: Account) -> None:
    for n in range(3):
        body = {
            "email": f"m{n}@example.com",
            "firstName": "Mobile",
            "lastName": f"User{n}",
            "company": "Pocket Ltd",
        }
        assert account.api("POST", "/leads", json=body).status_code == 201
    page = phone.page
    phone.open()
    phone.sign_in(account.email)
    expect(page.locator("tbody tr")).to_have_count(3)
    # Nothing wider than the screen: wide tables scroll inside their own box.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.screenshot("phone-leads")
    phone.open("#/board")
    expect(page.locator("section[data-status='new'] .count")).to_have_text("3")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.screenshot("phone-board")


def test_an_email_in_two_tenants_asks_for_the_tenant(console: Watched, account: Account) -> None:
    other = make_tenant("pro")
    same = {"email": account.email, "name": "Twin", "role": "admin", "password": PASSWORD}
    created = account.api("POST", "/users", json=same, headers={"X-API-Key": other.live_key})
    assert created.status_code == 201, created.text
    page = console.page
    console.open()
    console.sign_in(account.email)
    expect(page.get_by_role("alert")).to_have_text(
        "This email signs in to several tenants: enter the tenant ID to choose one."
    )
    assert console.token() is None
    page.get_by_label("Tenant ID").fill(other.id)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".who")).to_contain_text("Twin · admin")
    token = console.token()
    assert token
    tenant = account.api("GET", "/tenant", token=token).json()["data"]
    assert tenant["id"] == other.id
