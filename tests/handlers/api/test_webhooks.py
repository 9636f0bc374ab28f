"""Webhook endpoints and delivery through the real app, to a real receiver on loopback that
verifies every signature with the ``standardwebhooks`` package."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from starlette.testclient import TestClient

from store.models import AuditEvent, utcnow
from store.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.support import SeededTenant, assert_error, assert_ok, lead_body, make_key
from tests.webhook_support import create_endpoint, deliver, receiver


def new_lead(client: TestClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = assert_ok(client.post("/v1/leads", json=lead_body(**fields), headers=headers), 201)
    return data


def deliveries(
    client: TestClient, tenant: SeededTenant, endpoint_id: str, **params: Any
) -> list[dict[str, Any]]:
    response = client.get(
        f"/v1/webhook-endpoints/{endpoint_id}/deliveries", params=params, headers=tenant.headers
    )
    data: list[dict[str, Any]] = assert_ok(response)
    return data


def test_deliveries_follow_standard_webhooks_and_verify(client: TestClient, tenant: SeededTenant) -> None:
    with receiver() as rx:
        endpoint = create_endpoint(client, tenant.headers, rx.url)
        assert endpoint["secret"].startswith("whsec_")
        lead = new_lead(client, tenant.headers)
        client.patch(f"/v1/leads/{lead['id']}", json={"status": "contacted"}, headers=tenant.headers)
        deliver(tenant.id)
        rx.verify_all(endpoint["secret"])  # raises unless every signature verifies
        assert not rx.rejects(endpoint["secret"])
    events = assert_ok(client.get("/v1/events", params={"resourceId": lead["id"]}, headers=tenant.headers))
    by_id = {e["id"]: e for e in events}
    received = [
        r
        for r in rx.received
        if r.payload["type"].startswith("lead.") and r.payload["data"]["object"]["id"] == lead["id"]
    ]
    assert len(received) == 2
    for request in received:
        body = request.payload
        assert set(body) == {"id", "type", "timestamp", "data"}
        event = by_id[request.headers["webhook-id"]]  # webhook-id is the event id
        assert (body["id"], body["type"], body["timestamp"], body["data"]) == (
            event["id"],
            event["type"],
            event["createdAt"],
            event["data"],
        )
        assert request.headers["content-type"] == "application/json"
        assert request.headers["webhook-signature"].startswith("v1,")
        assert request.headers["webhook-timestamp"].isdigit()
    log = deliveries(client, tenant, endpoint["id"])
    assert {d["status"] for d in log} == {"succeeded"}
    assert all(d["attemptCount"] == 1 and d["attempts"][0]["statusCode"] == 200 for d in log)


def test_after_a_rotation_deliveries_carry_both_signatures_for_24_hours(
    client: TestClient, tenant: SeededTenant
) -> None:
    with receiver() as rx:
        endpoint = create_endpoint(client, tenant.headers, rx.url)
        rotated = assert_ok(
            client.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=tenant.headers)
        )
        assert rotated["secret"] != endpoint["secret"] and rotated["previousSecretExpiresAt"]
        new_lead(client, tenant.headers)
        deliver(tenant.id)
        rx.verify_all(rotated["secret"], endpoint["secret"])  # each secret alone verifies
        assert len(rx.received[0].headers["webhook-signature"].split(" ")) == 2
        # Once the 24 hours are over, only the new secret signs.
        WebhookEndpoint.update(previous_secret_until=utcnow() - dt.timedelta(seconds=1)).where(
            (WebhookEndpoint.tenant_id == tenant.id) & (WebhookEndpoint.id == endpoint["id"])
        ).execute()
        rx.received.clear()
        new_lead(client, tenant.headers)
        deliver(tenant.id)
        rx.verify_all(rotated["secret"])
        assert rx.rejects(endpoint["secret"])
        assert len(rx.received[0].headers["webhook-signature"].split(" ")) == 1


def test_a_receiver_failing_twice_then_succeeding(client: TestClient, tenant: SeededTenant) -> None:
    with receiver() as rx:
        rx.script += [(500, {}, b"boom " * 400), (502, {}, b"bad gateway")]
        endpoint = create_endpoint(client, tenant.headers, rx.url, events=["lead.created"])
        new_lead(client, tenant.headers)
        deliver(tenant.id)  # the test schedule retries at once
    assert len(rx.received) == 3
    assert len({r.headers["webhook-id"] for r in rx.received}) == 1  # the same message id every time
    rx.verify_all(endpoint["secret"])
    [delivery] = deliveries(client, tenant, endpoint["id"])
    assert (delivery["status"], delivery["attemptCount"], delivery["lastStatusCode"]) == ("succeeded", 3, 200)
    first, second, third = delivery["attempts"]
    assert (first["statusCode"], first["error"]) == (500, "HTTP 500")
    assert len(first["responseBody"]) == 1024  # truncated to 1 KB
    assert first["nextAttemptAt"] is not None and second["nextAttemptAt"] is not None
    assert (second["statusCode"], second["responseBody"]) == (502, "bad gateway")
    assert (third["statusCode"], third["error"], third["nextAttemptAt"]) == (200, None, None)
    assert all(a["durationMs"] >= 0 for a in delivery["attempts"])
    assert first["attemptedAt"] <= second["attemptedAt"] <= third["attemptedAt"]


def test_a_dead_letter_is_visible_and_replayable(client: TestClient, tenant: SeededTenant) -> None:
    with receiver() as rx:
        rx.script += [(500, {}, b"")] * 4  # 1 attempt + the 3 retries of the test schedule
        endpoint = create_endpoint(client, tenant.headers, rx.url)
        new_lead(client, tenant.headers)
        deliver(tenant.id)
        [dead] = deliveries(client, tenant, endpoint["id"], status="failed")
        assert (dead["attemptCount"], dead["nextAttemptAt"], dead["lastStatusCode"]) == (4, None, 500)
        assert deliveries(client, tenant, endpoint["id"], status="pending") == []
        replay = client.post(
            f"/v1/webhook-endpoints/{endpoint['id']}/replay",
            json={"eventIds": [dead["eventId"]]},
            headers=tenant.headers,
        )
        assert assert_ok(replay, 202) == {"queued": 1, "deliveryIds": [dead["id"]]}
        deliver(tenant.id)
    [again] = deliveries(client, tenant, endpoint["id"])
    assert (again["id"], again["status"], again["attemptCount"]) == (dead["id"], "succeeded", 5)
    assert len(again["attempts"]) == 5
    assert {r.headers["webhook-id"] for r in rx.received} == {dead["eventId"]}


def test_a_3xx_is_a_failure_and_no_redirect_is_followed(client: TestClient, tenant: SeededTenant) -> None:
    with receiver() as rx, receiver() as elsewhere:
        rx.script.append((302, {"Location": elsewhere.url}, b""))
        endpoint = create_endpoint(client, tenant.headers, rx.url)
        new_lead(client, tenant.headers)
        deliver(tenant.id)
    assert elsewhere.received == []
    [delivery] = deliveries(client, tenant, endpoint["id"])
    assert delivery["attempts"][0]["error"] == "HTTP 302: redirects are not followed"
    assert delivery["status"] == "succeeded" and delivery["attemptCount"] == 2


def test_410_gone_disables_the_endpoint_with_an_audit_event(client: TestClient, tenant: SeededTenant) -> None:
    with receiver() as rx:
        rx.script.append((410, {}, b"gone"))
        endpoint = create_endpoint(client, tenant.headers, rx.url)
        new_lead(client, tenant.headers)
        deliver(tenant.id)
        assert len(rx.received) == 1  # not retried
        state = assert_ok(client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers))
        assert state["enabled"] is False and "410" in state["disabledReason"] and state["disabledAt"]
        [delivery] = deliveries(client, tenant, endpoint["id"])
        assert delivery["status"] == "failed"
        audit = AuditEvent.get(
            (AuditEvent.tenant_id == tenant.id) & (AuditEvent.action == "webhook_endpoint.disabled")
        )
        assert (audit.actor_type, audit.resource_id) == ("system", endpoint["id"])
        # While disabled: nothing is sent, the feed still has everything.
        missed = new_lead(client, tenant.headers)
        deliver(tenant.id)
        assert len(rx.received) == 1
        assert_error(
            client.post(f"/v1/webhook-endpoints/{endpoint['id']}/test", headers=tenant.headers),
            409,
            "conflict",
        )
        # Re-enable and replay to catch up.
        enabled = assert_ok(
            client.patch(
                f"/v1/webhook-endpoints/{endpoint['id']}", json={"enabled": True}, headers=tenant.headers
            )
        )
        assert enabled["enabled"] is True and enabled["disabledReason"] is None
        replay = client.post(
            f"/v1/webhook-endpoints/{endpoint['id']}/replay",
            json={"since": "2000-01-01T00:00:00Z"},
            headers=tenant.headers,
        )
        assert assert_ok(replay, 202)["queued"] == 2
        deliver(tenant.id)
    resent = {r.payload["data"]["object"]["id"] for r in rx.received[1:]}
    assert missed["id"] in resent and len(rx.received) == 3


def test_an_endpoint_failing_for_5_days_is_disabled_never_deleted(
    client: TestClient, tenant: SeededTenant
) -> None:
    with receiver() as rx:
        rx.script += [(503, {}, b"")] * 10
        endpoint = create_endpoint(client, tenant.headers, rx.url)
        WebhookEndpoint.update(failing_since=utcnow() - dt.timedelta(days=5, minutes=1)).where(
            (WebhookEndpoint.tenant_id == tenant.id) & (WebhookEndpoint.id == endpoint["id"])
        ).execute()
        new_lead(client, tenant.headers)
        deliver(tenant.id)
    state = assert_ok(client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers))
    assert state["enabled"] is False and "5 days" in state["disabledReason"]
    assert len(rx.received) == 1
    assert (
        AuditEvent.select()
        .where((AuditEvent.tenant_id == tenant.id) & (AuditEvent.action == "webhook_endpoint.disabled"))
        .count()
        == 1
    )


def test_a_success_resets_the_failure_streak(client: TestClient, tenant: SeededTenant) -> None:
    with receiver() as rx:
        rx.script.append((500, {}, b""))
        endpoint = create_endpoint(client, tenant.headers, rx.url)
        new_lead(client, tenant.headers)
        deliver(tenant.id)
    row = WebhookEndpoint.get(
        (WebhookEndpoint.tenant_id == tenant.id) & (WebhookEndpoint.id == endpoint["id"])
    )
    assert row.failing_since is None and row.enabled


def test_retry_after_on_429_is_honoured(client: TestClient, tenant: SeededTenant) -> None:
    with receiver() as rx:
        rx.script.append((429, {"Retry-After": "120"}, b"slow down"))
        endpoint = create_endpoint(client, tenant.headers, rx.url)
        new_lead(client, tenant.headers)
        deliver(tenant.id)  # the retry is not due yet, though the schedule says "at once"
    assert len(rx.received) == 1
    [delivery] = deliveries(client, tenant, endpoint["id"])
    assert delivery["status"] == "pending"
    attempt = delivery["attempts"][0]
    waited = dt.datetime.fromisoformat(attempt["nextAttemptAt"]) - dt.datetime.fromisoformat(
        attempt["attemptedAt"]
    )
    assert dt.timedelta(seconds=119) <= waited <= dt.timedelta(seconds=121)
    assert delivery["nextAttemptAt"] == attempt["nextAttemptAt"]


def test_the_fields_filter_narrows_lead_updated(client: TestClient, tenant: SeededTenant) -> None:
    with receiver() as rx:
        create_endpoint(client, tenant.headers, rx.url, events=["lead.updated"], fields=["status"])
        lead = new_lead(client, tenant.headers)
        client.patch(f"/v1/leads/{lead['id']}", json={"score": 50}, headers=tenant.headers)
        client.patch(f"/v1/leads/{lead['id']}", json={"status": "qualified"}, headers=tenant.headers)
        client.patch(
            f"/v1/leads/{lead['id']}", json={"status": "unqualified", "score": 1}, headers=tenant.headers
        )
        deliver(tenant.id)
    payloads = rx.payloads()
    assert [p["data"]["previous"] for p in payloads] == [
        {"status": "new"},
        {"status": "qualified", "score": 50},
    ]
    assert {p["type"] for p in payloads} == {"lead.updated"}


def test_sandbox_changes_never_reach_live_endpoints(client: TestClient, tenant: SeededTenant) -> None:
    with receiver() as live, receiver() as sandbox:
        live_endpoint = create_endpoint(client, tenant.headers, live.url)
        sandbox_endpoint = create_endpoint(client, tenant.sandbox_headers, sandbox.url)
        assert sandbox_endpoint["environment"] == "sandbox"
        live_lead = new_lead(client, tenant.headers)
        sandbox_lead = new_lead(client, tenant.sandbox_headers)
        deliver(tenant.id)
    assert [p["data"]["object"]["id"] for p in live.payloads()] == [live_lead["id"]]
    assert [p["data"]["object"]["id"] for p in sandbox.payloads()] == [sandbox_lead["id"]]
    sandbox.verify_all(sandbox_endpoint["secret"])
    listed = assert_ok(client.get("/v1/webhook-endpoints", headers=tenant.sandbox_headers))
    assert [e["id"] for e in listed] == [sandbox_endpoint["id"]]
    path = f"/v1/webhook-endpoints/{live_endpoint['id']}"
    assert_error(client.get(path, headers=tenant.sandbox_headers), 404, "not_found")
    sandbox_event = assert_ok(client.get("/v1/events", headers=tenant.sandbox_headers))[0]
    replay = client.post(f"{path}/replay", json={"eventIds": [sandbox_event["id"]]}, headers=tenant.headers)
    assert_error(replay, 404, "not_found")


def test_other_tenants_endpoints_and_events_are_404(
    client: TestClient, tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    endpoint = create_endpoint(client, tenant.headers, "https://hooks.example.com/a")
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    calls = [
        client.get(path, headers=other_tenant.headers),
        client.patch(path, json={"enabled": False}, headers=other_tenant.headers),
        client.delete(path, headers=other_tenant.headers),
        client.post(f"{path}/rotate-secret", headers=other_tenant.headers),
        client.get(f"{path}/deliveries", headers=other_tenant.headers),
        client.post(f"{path}/replay", json={"since": "2020-01-01T00:00:00Z"}, headers=other_tenant.headers),
        client.post(f"{path}/test", headers=other_tenant.headers),
    ]
    for response in calls:
        assert_error(response, 404, "not_found")
    assert assert_ok(client.get("/v1/webhook-endpoints", headers=other_tenant.headers)) == []
    theirs = new_lead(client, other_tenant.headers)
    [their_event] = assert_ok(
        client.get("/v1/events", params={"resourceId": theirs["id"]}, headers=other_tenant.headers)
    )
    replay = client.post(f"{path}/replay", json={"eventIds": [their_event["id"]]}, headers=tenant.headers)
    assert_error(replay, 404, "not_found")
    assert assert_ok(client.get(path, headers=tenant.headers))["enabled"] is True  # untouched


def test_the_secret_is_shown_once_and_never_rests_in_clear(client: TestClient, tenant: SeededTenant) -> None:
    endpoint = create_endpoint(client, tenant.headers, "https://hooks.example.com/b?token=abc")
    secret = endpoint["secret"]
    shown = assert_ok(client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=tenant.headers))
    assert "secret" not in shown and shown["url"] == "https://hooks.example.com/b?token=abc"
    assert all(
        "secret" not in e for e in assert_ok(client.get("/v1/webhook-endpoints", headers=tenant.headers))
    )
    rotated = assert_ok(
        client.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=tenant.headers)
    )
    row = WebhookEndpoint.get(
        (WebhookEndpoint.tenant_id == tenant.id) & (WebhookEndpoint.id == endpoint["id"])
    )
    stored = " ".join(str(v) for v in row.__data__.values())
    for plain in (
        secret,
        rotated["secret"],
        secret.removeprefix("whsec_"),
        rotated["secret"].removeprefix("whsec_"),
    ):
        assert plain not in stored
    trail = " ".join(str(a.changes) for a in AuditEvent.select().where(AuditEvent.tenant_id == tenant.id))
    assert secret not in trail and rotated["secret"] not in trail and "token=abc" not in trail


def test_the_test_event_goes_to_that_endpoint_only(client: TestClient, tenant: SeededTenant) -> None:
    with receiver() as rx, receiver() as other:
        endpoint = create_endpoint(client, tenant.headers, rx.url, events=["import.failed"])
        create_endpoint(client, tenant.headers, other.url)
        queued = assert_ok(
            client.post(f"/v1/webhook-endpoints/{endpoint['id']}/test", headers=tenant.headers), 202
        )
        assert (queued["status"], queued["eventType"], queued["attempts"]) == ("pending", "webhook.test", [])
        deliver(tenant.id)
    [request] = rx.received
    assert request.payload["type"] == "webhook.test"
    assert request.payload["data"]["object"]["endpointId"] == endpoint["id"]
    rx.verify_all(endpoint["secret"])
    assert other.received == []


def test_erasure_reaches_pending_deliveries(client: TestClient, tenant: SeededTenant) -> None:
    with receiver() as rx:
        create_endpoint(client, tenant.headers, rx.url, events=["lead.created"])
        lead = new_lead(client, tenant.headers, email="gone.soon@example.com")
        assert_ok(client.delete(f"/v1/leads/{lead['id']}", headers=tenant.headers))  # before the worker ran
        deliver(tenant.id)
    [request] = rx.received
    assert request.payload["data"] == {"object": {"id": lead["id"], "erased": True}, "previous": None}
    assert b"gone.soon" not in request.body


def test_endpoints_need_admin_webhooks(client: TestClient, tenant: SeededTenant) -> None:
    reader = {"X-API-Key": make_key(client, tenant.headers, scopes=["read:leads", "write:leads"])["key"]}
    endpoint = create_endpoint(client, tenant.headers, "https://hooks.example.com/c")
    for response in (
        client.post(
            "/v1/webhook-endpoints", json={"url": "https://h.example.com", "events": ["*"]}, headers=reader
        ),
        client.get("/v1/webhook-endpoints", headers=reader),
        client.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=reader),
    ):
        assert_error(response, 403, "insufficient_permissions")


def test_a_webhooks_only_key_cannot_read_leads_through_an_endpoint(
    client: TestClient, tenant: SeededTenant
) -> None:
    """Power never grows: an endpoint is a standing read of lead data (events carry leads), so
    creating, re-pointing, re-keying or replaying one needs read:leads beside admin:webhooks."""
    hooks_only = {"X-API-Key": make_key(client, tenant.headers, scopes=["admin:webhooks"])["key"]}
    assert_error(client.get("/v1/leads", headers=hooks_only), 403, "insufficient_permissions")
    endpoint = create_endpoint(client, tenant.headers, "https://hooks.example.com/owner")
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    for response in (
        client.post(
            "/v1/webhook-endpoints",
            json={"url": "https://evil.example.com/h", "events": ["*"]},
            headers=hooks_only,
        ),
        client.patch(path, json={"url": "https://evil.example.com/h"}, headers=hooks_only),
        client.post(f"{path}/rotate-secret", headers=hooks_only),
        client.post(f"{path}/replay", json={"since": "2000-01-01T00:00:00Z"}, headers=hooks_only),
    ):
        assert_error(response, 403, "insufficient_permissions")
    assert WebhookEndpoint.select().where(WebhookEndpoint.tenant_id == tenant.id).count() == 1
    stored = client.get(path, headers=hooks_only)  # managing what exists stays possible
    assert assert_ok(stored)["url"] == "https://hooks.example.com/owner"
    both = {"X-API-Key": make_key(client, tenant.headers, scopes=["admin:webhooks", "read:leads"])["key"]}
    create_endpoint(client, both, "https://hooks.example.com/reader")


def test_crud(client: TestClient, tenant: SeededTenant) -> None:
    endpoint = create_endpoint(
        client, tenant.headers, "https://hooks.example.com/d", events=["lead.created"], description="CRM"
    )
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    changed = assert_ok(
        client.patch(
            path,
            json={"events": ["lead.updated"], "fields": ["status", "assignedTo"], "description": None},
            headers=tenant.headers,
        )
    )
    assert (changed["events"], changed["fields"], changed["description"]) == (
        ["lead.updated"],
        ["status", "assignedTo"],
        None,
    )
    assert_error(
        client.patch(path, json={"events": ["lead.created"]}, headers=tenant.headers),
        422,
        "validation_error",
        "fields",
    )
    assert_ok(client.delete(path, headers=tenant.headers))
    assert_error(client.get(path, headers=tenant.headers), 404, "not_found")
    actions = [
        a.action
        for a in AuditEvent.select()
        .where((AuditEvent.tenant_id == tenant.id) & (AuditEvent.resource_id == endpoint["id"]))
        .order_by(AuditEvent.occurred_at)
    ]
    assert actions == ["webhook_endpoint.created", "webhook_endpoint.updated", "webhook_endpoint.deleted"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://hooks.example.com/x"}, "url"),
        ({"url": "https://user:pass@hooks.example.com/x"}, "url"),
        ({"url": "https://hooks.example.com/x#frag"}, "url"),
        ({"url": "http://10.0.0.8/hook"}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data"}, "url"),
        ({"url": "http://[::1]:8080/"}, "url"),
        ({"url": "http://[::ffff:127.0.0.1]/"}, "url"),
        ({"url": "http://2130706433/"}, "url"),
        ({"url": "http://0x7f.1/"}, "url"),
        ({"url": "http://100.64.0.1/"}, "url"),
        ({"url": "https://hooks.example.com:99999/"}, "url"),
        ({"events": ["lead.exploded"]}, "events"),
        ({"events": ["lead.created"], "fields": ["status"]}, "fields"),
        ({"events": ["lead.updated"], "fields": ["password"]}, "fields"),
        ({"secret": "whsec_mine"}, "secret"),
    ],
)
def test_bad_input_is_422_and_nothing_is_stored(
    client: TestClient, tenant: SeededTenant, body: dict[str, Any], field: str
) -> None:
    payload = {"url": "https://hooks.example.com/x", "events": ["*"], **body}
    response = client.post("/v1/webhook-endpoints", json=payload, headers=tenant.headers)
    errors = assert_error(response, 422, "validation_error")["errors"]
    assert any(e["field"].startswith(field) or field in e["message"] for e in errors), errors
    assert WebhookEndpoint.select().where(WebhookEndpoint.tenant_id == tenant.id).count() == 0
    assert WebhookDelivery.select().where(WebhookDelivery.tenant_id == tenant.id).count() == 0


def test_http_is_refused_in_production(client: TestClient, tenant: SeededTenant) -> None:
    from store.webhooks import config

    saved = config.current()
    config.configure(config.WebhookConfig(production=True, secret_keys=saved.secret_keys))
    try:
        response = client.post(
            "/v1/webhook-endpoints",
            json={"url": "http://hooks.example.com/", "events": ["*"]},
            headers=tenant.headers,
        )
        assert_error(response, 422, "validation_error", "url")
        ok = client.post(
            "/v1/webhook-endpoints",
            json={"url": "https://hooks.example.com/", "events": ["*"]},
            headers=tenant.headers,
        )
        assert ok.status_code == 201
    finally:
        config.configure(saved)
