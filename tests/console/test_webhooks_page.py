"""Browser: webhook endpoints in Settings → Integrations against a real loopback receiver, and the
Leads page following the event feed (deletions included)."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import UTC, datetime, timedelta

from standardwebhooks.webhooks import Webhook

from tests.console.conftest import Account, Watched, playwright_expect
from tests.webhook_support import deliver, receiver

expect = playwright_expect()
XSS = "<img src=x onerror=alert(1)>"


def run_worker(tenant_id: str) -> None:
    """The real worker, in its own thread: Playwright's sync API keeps an asyncio loop running on
    this one, and the delivery client runs its own loop."""
    done: list[int] = []
    thread = threading.Thread(target=lambda: done.append(deliver(tenant_id)))
    thread.start()
    thread.join()
    assert done, "the worker raised (see the log above)"


def test_endpoint_secret_once_signed_deliveries_log_replay_and_test(
    signed_in: Watched, account: Account
) -> None:
    page = signed_in.page
    with receiver() as hook:
        hook.script = [(500, {}, b"receiver is down"), (200, {}, b'{"ok": true}')]
        signed_in.open("#/integrations/webhooks")
        page.get_by_label("Endpoint URL").fill(hook.url)
        page.get_by_label("Endpoint description").fill(XSS)
        page.get_by_role("button", name="Add endpoint").click()
        secret_box = page.get_by_test_id("webhook-secret-value")
        expect(secret_box).to_have_text(re.compile(r"^whsec_[A-Za-z0-9+/=]+$"))
        expect(page.get_by_text("Copy it now: it is shown only once.")).to_be_visible()
        secret = secret_box.inner_text()
        card = page.locator("article.endpoint")
        expect(card).to_have_count(1)
        expect(card).to_contain_text(hook.url)
        expect(card).to_contain_text(XSS)  # the description is text, not markup
        assert page.locator("article.endpoint img").count() == 0
        expect(card.locator(".state")).to_have_text("Enabled")
        endpoint_id = card.get_attribute("data-endpoint-id")
        stored = account.api("GET", f"/webhook-endpoints/{endpoint_id}").json()["data"]
        assert (stored["url"], stored["events"], stored["description"]) == (hook.url, ["*"], XSS)

        # A lead created through the API reaches the receiver, signed with the secret shown.
        email = f"hook.{uuid.uuid4().hex[:6]}@example.com"
        lead = account.api(
            "POST", "/leads", json={"email": email, "firstName": "Hook", "lastName": "Lead"}
        ).json()["data"]
        run_worker(account.tenant_id)
        hook.verify_all(secret)
        created = [r for r in hook.received if r.payload["type"] == "lead.created"]
        assert len(created) == 2  # failed once (500), then succeeded, same webhook-id
        assert created[0].headers["webhook-id"] == created[1].headers["webhook-id"]
        assert created[0].payload["data"]["object"]["id"] == lead["id"]

        # The log shows the delivery with both attempts.
        card.get_by_role("button", name="Delivery log").click()
        delivery = card.locator("li.delivery")
        expect(delivery).to_have_count(1)
        expect(delivery.locator(".event-type")).to_have_text("lead.created")
        expect(delivery.locator(".delivery-status")).to_have_text("succeeded")
        attempts = delivery.locator("tr.attempt")
        expect(attempts).to_have_count(2)
        expect(attempts.nth(0)).to_contain_text("500")
        expect(attempts.nth(0)).to_contain_text("receiver is down")
        expect(attempts.nth(1)).to_contain_text("200")
        card.get_by_label("Delivery status").select_option("failed")
        expect(card.get_by_text("No deliveries with status failed.")).to_be_visible()
        card.get_by_label("Delivery status").select_option("")
        expect(delivery).to_have_count(1)
        signed_in.screenshot("webhooks")

        # Replay the selected event: delivered again with the same webhook-id.
        event_id = delivery.get_attribute("data-event-id")
        delivery.get_by_label(f"Select event {event_id}").check()
        card.get_by_role("button", name="Replay selected events (1)").click()
        expect(card.get_by_role("status").filter(has_text="Replay: 1 delivery queued.")).to_be_visible()
        before = len(hook.received)
        run_worker(account.tenant_id)
        assert [r.headers["webhook-id"] for r in hook.received[before:]] == [event_id]

        # Replay since a time before the lead: every subscribed event since then.
        start = (datetime.now(UTC) - timedelta(hours=1)).astimezone().strftime("%Y-%m-%dT%H:%M")
        card.get_by_label("Replay since").fill(start)
        card.get_by_role("button", name="Replay every event since then").click()
        expect(
            card.get_by_role("status").filter(has_text=re.compile(r"^Replay since: \d+ deliver"))
        ).to_be_visible()
        before = len(hook.received)
        run_worker(account.tenant_id)
        assert event_id in [r.headers["webhook-id"] for r in hook.received[before:]]

        # A test event, then it is in the log.
        card.get_by_role("button", name="Send test event").click()
        expect(page.get_by_text("Test event queued: see the delivery log.")).to_be_visible()
        run_worker(account.tenant_id)
        assert hook.received[-1].payload["type"] == "webhook.test"
        hook.verify_all(secret)
        card.get_by_role("button", name="Refresh log").click()
        expect(card.locator("li.delivery .event-type").filter(has_text="webhook.test")).to_have_count(1)

        # The secret is gone after navigating away, and was never stored.
        assert secret in page.content()
        signed_in.open("#/leads")
        expect(page.get_by_role("heading", name="Leads", exact=True)).to_be_visible()
        signed_in.open("#/integrations")
        expect(page.get_by_role("heading", name="Webhook endpoints")).to_be_visible()
        expect(page.locator("article.endpoint")).to_have_count(1)
        assert page.get_by_test_id("webhook-secret-value").count() == 0
        assert secret not in page.content()
        assert secret not in page.evaluate("() => JSON.stringify({...sessionStorage, ...localStorage})")

        # Rotate: a new secret shown once; for 24 h both sign every delivery.
        card = page.locator("article.endpoint")
        card.get_by_role("button", name="Rotate secret").click()
        page.get_by_role("button", name="Yes, rotate (the old secret also signs for 24 h)").click()
        expect(secret_box).not_to_have_text(secret)
        rotated = secret_box.inner_text()
        assert rotated.startswith("whsec_")
        expect(card).to_contain_text("Previous secret")
        page.get_by_role("button", name="I have stored the secret").click()
        assert page.get_by_test_id("webhook-secret-value").count() == 0
        before = len(hook.received)
        account.api("PATCH", f"/leads/{lead['id']}", json={"status": "contacted"})
        run_worker(account.tenant_id)
        assert len(hook.received) == before + 1
        for request in hook.received[before:]:
            for key in (secret, rotated):
                Webhook(key).verify(request.body, request.headers)

        # Disable, enable, delete (asks once more).
        card.get_by_role("button", name="Disable").click()
        expect(card.locator(".state")).to_have_text("Disabled")
        expect(card.get_by_role("button", name="Send test event")).to_be_disabled()
        assert account.api("GET", f"/webhook-endpoints/{endpoint_id}").json()["data"]["enabled"] is False
        card.get_by_role("button", name="Enable").click()
        expect(card.locator(".state")).to_have_text("Enabled")
        card.get_by_role("button", name="Delete endpoint").click()
        page.get_by_role("button", name=f"Yes, delete {XSS}").click()
        expect(page.locator("article.endpoint")).to_have_count(0)
        expect(page.get_by_text("No webhook endpoints yet.")).to_be_visible()
        assert account.api("GET", f"/webhook-endpoints/{endpoint_id}").status_code == 404


def test_create_errors_are_shown_per_field_and_nothing_is_stored(
    signed_in: Watched, account: Account
) -> None:
    page = signed_in.page
    signed_in.open("#/integrations/webhooks")
    page.get_by_label("Endpoint URL").fill("http://10.0.0.1/hook")  # a literal private address
    page.get_by_label("All events (*)").uncheck()
    page.get_by_label("lead.created").check()
    page.get_by_label("Only when these fields change (lead.updated)").select_option(["status"])
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.locator(".key-form .banner.error")).to_be_visible()
    expect(page.locator(".key-form small.error").first).to_be_visible()
    assert page.get_by_test_id("webhook-secret-value").count() == 0
    assert account.api("GET", "/webhook-endpoints").json()["data"] == []


def test_the_leads_page_follows_the_event_feed_creates_and_deletes(
    signed_in: Watched, account: Account
) -> None:
    page = signed_in.page
    page.evaluate("window.__sameDocument = true")
    ids = []
    for name in ("Gone", "Stays"):  # the deleted lead is not the newest: a list poll misses it
        body = {
            "email": f"{name.lower()}.{uuid.uuid4().hex[:6]}@example.com",
            "firstName": name,
            "lastName": "Lead",
        }
        ids.append(account.api("POST", "/leads", json=body).json()["data"]["id"])
    row, kept = (page.locator(f"tr[data-lead-id='{lead_id}']") for lead_id in ids)
    expect(row).to_have_count(1)
    expect(kept).to_have_count(1)
    assert account.api("DELETE", f"/leads/{ids[0]}").status_code == 200
    expect(row).to_have_count(0)
    expect(kept).to_have_count(1)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    assert any("/v1/events?" in url for url, _ in signed_in.requests)


def test_the_leads_page_falls_back_to_the_list_when_the_feed_is_refused(
    signed_in: Watched, account: Account
) -> None:
    """Only the feed's answer is replaced (a 403 as from a credential without the feed); the
    lead itself is created through the real API and listed by the real server."""
    page = signed_in.page
    page.route(
        "**/v1/events?*",
        lambda route: route.fulfill(
            status=403,
            content_type="application/json",
            body='{"success": false, "status": 403, "message": "no"}',
        ),
    )
    signed_in.open("#/board")
    signed_in.open("#/leads")  # a fresh subscription that meets the 403
    expect(page.get_by_role("heading", name="Leads", exact=True)).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    lead = account.api(
        "POST",
        "/leads",
        json={
            "email": f"fallback.{uuid.uuid4().hex[:6]}@example.com",
            "firstName": "Fall",
            "lastName": "Back",
        },
    )
    expect(page.locator(f"tr[data-lead-id='{lead.json()['data']['id']}']")).to_have_count(1)
    assert page.evaluate("window.__sameDocument") is True
