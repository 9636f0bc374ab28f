"""Browser: the pipeline board (drag and keyboard), lead detail editing, merge and delete."""

from __future__ import annotations

from typing import Any

from handlers.worker import Worker
from tests.console.conftest import Account, Watched, playwright_expect

expect = playwright_expect()


def make_lead(account: Account, **body: Any) -> dict[str, Any]:
    response = account.api("POST", "/leads", json={"firstName": "Bea", "lastName": "Board", **body})
    assert response.status_code == 201, response.text
    lead: dict[str, Any] = response.json()["data"]
    return lead


def stored(account: Account, lead_id: str) -> dict[str, Any]:
    response = account.api("GET", f"/leads/{lead_id}")
    data: dict[str, Any] = response.json()["data"] if response.status_code == 200 else {}
    return data


def test_board_moves_a_lead_by_keyboard_and_by_drag(signed_in: Watched, account: Account) -> None:
    lead = make_lead(account, email="bea@example.com")
    make_lead(account, email="other@example.com", status="contacted")
    page = signed_in.page
    signed_in.open("#/board")
    column = {
        status: page.locator(f"section[data-status='{status}']")
        for status in ("new", "contacted", "qualified")
    }
    expect(column["new"].locator(".count")).to_have_text("1")
    expect(column["contacted"].locator(".count")).to_have_text("1")
    card = page.locator(f"li[data-lead-id='{lead['id']}']")
    expect(column["new"].locator(f"li[data-lead-id='{lead['id']}']")).to_be_visible()

    # Keyboard: focus the card's control, pick a status with the arrow keys.
    control = card.get_by_label("Move Bea Board to")
    control.focus()
    control.select_option("qualified")
    expect(column["qualified"].locator(f"li[data-lead-id='{lead['id']}']")).to_be_visible()
    expect(column["new"].locator(".count")).to_have_text("0")
    expect(column["qualified"].locator(".count")).to_have_text("1")
    assert stored(account, lead["id"])["status"] == "qualified"
    signed_in.screenshot("board")

    # Drag and drop onto the "contacted" column.
    page.locator(f"li[data-lead-id='{lead['id']}']").drag_to(column["contacted"])
    expect(column["contacted"].locator(".count")).to_have_text("2")
    expect(column["contacted"].locator(f"li[data-lead-id='{lead['id']}']")).to_be_visible()
    assert stored(account, lead["id"])["status"] == "contacted"


def test_detail_edit_shows_field_errors_then_saves(signed_in: Watched, account: Account) -> None:
    lead = make_lead(
        account, email="edit@example.com", company="Acme", customFields={"role": "VP"}, tags=["vip"]
    )
    page = signed_in.page
    signed_in.open(f"#/leads/{lead['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bea Board")

    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Score").fill("150")
    page.get_by_role("button", name="Save changes").click()
    email_error = page.locator(".field.has-error", has=page.get_by_label("Email")).get_by_role("alert")
    expect(email_error).to_be_visible()
    expect(
        page.locator(".field.has-error", has=page.get_by_label("Score")).get_by_role("alert")
    ).to_be_visible()
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    assert stored(account, lead["id"])["email"] == "edit@example.com"  # nothing written
    signed_in.screenshot("lead-validation-error")

    page.get_by_label("Email").fill("edited@example.com")
    page.get_by_label("Score").fill("70")
    page.get_by_label("Status").select_option("qualified")
    page.get_by_label("Assignee").select_option(account.owner_id)
    page.get_by_label("Tags").fill("vip, hot")
    page.get_by_role("button", name="Add custom field").click()
    page.get_by_label("Name").last.fill("region")
    page.get_by_label("Value").last.fill("EMEA")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    saved = stored(account, lead["id"])
    assert (saved["email"], saved["score"], saved["status"], saved["assignedTo"]) == (
        "edited@example.com",
        70,
        "qualified",
        account.owner_id,
    )
    assert saved["tags"] == ["vip", "hot"] and saved["customFields"] == {"role": "VP", "region": "EMEA"}

    history = page.locator(".timeline > li")
    expect(history).to_have_count(2)  # created, updated
    expect(history.last).to_contain_text("updated")
    expect(history.last).to_contain_text("Owner (user)")
    expect(history.last.locator("tr", has_text="email")).to_contain_text("edited@example.com")


def test_history_shows_on_behalf_of(signed_in: Watched, account: Account) -> None:
    lead = make_lead(account, email="obo@example.com")
    assert (
        account.api(
            "PATCH", f"/leads/{lead['id']}", json={"score": 5}, headers={"X-On-Behalf-Of": account.owner_id}
        ).status_code
        == 200
    )
    signed_in.open(f"#/leads/{lead['id']}")
    expect(signed_in.page.locator(".timeline > li").last).to_contain_text("on behalf of Owner")


def test_merge_a_detected_duplicate(signed_in: Watched, account: Account) -> None:
    target = make_lead(account, email="dana@example.com", firstName="Dana", lastName="Dup", score=10)
    source = make_lead(
        account,
        email="Dana+promo@example.com",
        firstName="Dana",
        lastName="Dup",
        phone="+1-555-0100",
        score=60,
    )
    Worker().run_until_idle(tenant_id=account.tenant_id)  # the dedup job records the match
    page = signed_in.page
    signed_in.open(f"#/leads/{target['id']}")
    duplicate = page.locator(f".dup-list li[data-lead-id='{source['id']}']")
    expect(duplicate).to_contain_text("matches on email")
    signed_in.screenshot("lead-detail")
    duplicate.get_by_role("button", name="Merge Dana+promo@example.com").click()
    page.get_by_role("button", name="Yes, merge it into this lead").click()
    expect(page.get_by_role("status").filter(has_text="Merged Dana+promo@example.com")).to_be_visible()
    expect(page.get_by_label("Phone")).to_have_value("+1-555-0100")
    expect(page.get_by_label("Score")).to_have_value("60")
    expect(page.locator(".timeline > li").last).to_contain_text("merged")
    assert stored(account, source["id"]) == {}  # the source is gone
    assert stored(account, target["id"])["score"] == 60


def test_delete_asks_once_more(signed_in: Watched, account: Account) -> None:
    lead = make_lead(account, email="gone@example.com")
    page = signed_in.page
    signed_in.open(f"#/leads/{lead['id']}")
    page.get_by_role("button", name="Delete lead").click()
    page.get_by_role("button", name="Cancel").click()
    assert stored(account, lead["id"])["id"] == lead["id"]
    page.get_by_role("button", name="Delete lead").click()
    page.get_by_role("button", name="Yes, delete this lead and its history").click()
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    assert stored(account, lead["id"]) == {}
    assert signed_in.dialogs == []
