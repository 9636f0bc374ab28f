"""The spec and the code cannot drift apart: what the schemas promise is what the API does.

For each resource schema, every property is produced by its presenter (exactly those, through
real HTTP), and every writable property of its create/update schema is accepted, stored and
read back. A field added to the spec but not to the store/presenter (or the reverse) fails
here; so does a writable field these bodies do not cover yet, which is the reminder to add it.
"""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from handlers.app import load_spec
from tests.support import SeededTenant, assert_ok, lead_body
from tests.webhook_support import deliver, receiver

SCHEMAS = load_spec()["components"]["schemas"]


def properties(name: str) -> set[str]:
    return set(SCHEMAS[name]["properties"])


def test_lead_create_and_update_cover_every_writable_field_and_the_lead_every_property(
    client: TestClient, tenant: SeededTenant
) -> None:
    body: dict[str, Any] = {
        **lead_body(),
        "phone": "+1 415 555 2671",
        "company": "Acme Inc",
        "title": "VP Sales",
        "industry": "Software",
        "message": "Call me",
        "source": "referral",
        "status": "contacted",
        "score": 42,
        "assignedTo": tenant.owner_id,
        "customFields": {"plan": "gold", "seats": 12, "trial": False},
        "tags": ["vip", "2026"],
    }
    assert set(body) == properties("LeadCreate"), "a LeadCreate field is missing from this test"
    created = assert_ok(client.post("/v1/leads", json=body, headers=tenant.headers), 201)
    assert set(created) == properties("Lead")
    stored = assert_ok(client.get(f"/v1/leads/{created['id']}", headers=tenant.headers))
    assert {name: stored[name] for name in body} == body

    update: dict[str, Any] = {
        "email": "renamed@example.com", "firstName": "Jo", "lastName": "Ng", "phone": None,
        "company": None, "title": None, "industry": None, "message": None, "source": "web",
        "status": "qualified", "score": 90, "assignedTo": None, "customFields": {"plan": "silver"},
        "tags": ["renewal"],
    }  # fmt: skip
    assert set(update) == properties("LeadUpdate"), "a LeadUpdate field is missing from this test"
    patched = assert_ok(client.patch(f"/v1/leads/{created['id']}", json=update, headers=tenant.headers))
    again = assert_ok(client.get(f"/v1/leads/{created['id']}", headers=tenant.headers))
    assert {name: again[name] for name in update} == update == {name: patched[name] for name in update}


def test_user_create_and_update_are_stored_and_the_user_has_every_property(
    client: TestClient, tenant: SeededTenant
) -> None:
    body = {
        "email": "sam.drift@example.com",
        "name": "Sam Drift",
        "role": "member",
        "password": "a long passphrase",
    }
    assert set(body) == properties("UserCreate")
    created = assert_ok(client.post("/v1/users", json=body, headers=tenant.headers), 201)
    assert set(created) == properties("User")
    assert {k: created[k] for k in ("email", "name", "role")} == {
        k: body[k] for k in ("email", "name", "role")
    }
    update = {"name": "Sam D.", "role": "admin", "active": False, "password": "another long passphrase"}
    assert set(update) == properties("UserUpdate")
    assert_ok(client.patch(f"/v1/users/{created['id']}", json=update, headers=tenant.headers))
    stored = assert_ok(client.get(f"/v1/users/{created['id']}", headers=tenant.headers))
    assert (stored["name"], stored["role"], stored["active"]) == ("Sam D.", "admin", False)


def test_key_creation_fields_are_stored_and_the_key_has_every_property(
    client: TestClient, tenant: SeededTenant
) -> None:
    secret = {
        "name": "drift", "type": "secret", "scopes": ["read:leads"], "description": "d",
        "environment": "live", "rateLimitTier": "high", "expiresAt": "2999-01-01T00:00:00.000Z",
    }  # fmt: skip
    assert set(secret) == properties("SecretApiKeyCreate")
    issued = assert_ok(client.post("/v1/api-keys", json=secret, headers=tenant.headers), 201)
    assert set(issued) == properties("IssuedApiKey")
    stored = assert_ok(client.get(f"/v1/api-keys/{issued['id']}", headers=tenant.headers))
    assert set(stored) | {"allowedOrigins"} == properties("ApiKey")
    assert {k: stored[k] for k in secret} == secret

    publishable = {
        "name": "site", "type": "publishable", "scopes": ["capture:leads"], "description": None,
        "environment": "live", "rateLimitTier": "standard", "expiresAt": None,
        "allowedOrigins": ["https://www.example.com"],
    }  # fmt: skip
    assert set(publishable) == properties("PublishableApiKeyCreate")
    made = assert_ok(client.post("/v1/api-keys", json=publishable, headers=tenant.headers), 201)
    shown = assert_ok(client.get(f"/v1/api-keys/{made['id']}", headers=tenant.headers))
    assert set(shown) == properties("ApiKey")
    assert {k: shown[k] for k in publishable} == publishable

    rotate = {"gracePeriodSeconds": 3600}
    assert set(rotate) == properties("ApiKeyRotate")
    rotated = assert_ok(
        client.post(f"/v1/api-keys/{issued['id']}/rotate", json=rotate, headers=tenant.headers)
    )
    assert set(rotated) == properties("IssuedApiKey")
    after = assert_ok(client.get(f"/v1/api-keys/{issued['id']}", headers=tenant.headers))
    assert after["previousSecretExpiresAt"] is not None  # the grace period was stored
    for bad in ({"gracePeriodSeconds": -1}, {"gracePeriodSeconds": 604801}, {"grace": 1}):
        refused = client.post(f"/v1/api-keys/{issued['id']}/rotate", json=bad, headers=tenant.headers)
        assert refused.status_code == 422, refused.text


def test_the_tenant_has_every_property(client: TestClient, tenant: SeededTenant) -> None:
    assert set(assert_ok(client.get("/v1/tenant", headers=tenant.headers))) == properties("Tenant")


def test_webhook_endpoint_fields_are_stored_and_the_endpoint_has_every_property(
    client: TestClient, tenant: SeededTenant
) -> None:
    body = {
        "url": "http://127.0.0.1:9/drift", "events": ["lead.updated"], "fields": ["status"],
        "description": "drift", "enabled": False,
    }  # fmt: skip
    assert set(body) == properties("WebhookEndpointCreate"), "a WebhookEndpointCreate field is missing here"
    issued = assert_ok(client.post("/v1/webhook-endpoints", json=body, headers=tenant.headers), 201)
    assert set(issued) == properties("IssuedWebhookEndpoint")
    stored = assert_ok(client.get(f"/v1/webhook-endpoints/{issued['id']}", headers=tenant.headers))
    assert set(stored) == properties("WebhookEndpoint")
    assert {k: stored[k] for k in body} == body

    update = {
        "url": "http://127.0.0.1:9/moved", "events": ["lead.created"], "fields": None,
        "description": None, "enabled": True,
    }  # fmt: skip
    assert set(update) == properties("WebhookEndpointUpdate"), "a WebhookEndpointUpdate field is missing here"
    patched = assert_ok(
        client.patch(f"/v1/webhook-endpoints/{issued['id']}", json=update, headers=tenant.headers)
    )
    again = assert_ok(client.get(f"/v1/webhook-endpoints/{issued['id']}", headers=tenant.headers))
    assert {k: again[k] for k in update} == update == {k: patched[k] for k in update}
    rotated = assert_ok(
        client.post(f"/v1/webhook-endpoints/{issued['id']}/rotate-secret", headers=tenant.headers)
    )
    assert set(rotated) == properties("IssuedWebhookEndpoint")


def test_events_deliveries_and_replays_have_every_property(client: TestClient, tenant: SeededTenant) -> None:
    """An event's ``data.object`` for a lead is the Lead exactly as the API shows it."""
    with receiver() as rx:
        endpoint = assert_ok(
            client.post(
                "/v1/webhook-endpoints", json={"url": rx.url, "events": ["*"]}, headers=tenant.headers
            ),
            201,
        )
        lead = assert_ok(client.post("/v1/leads", json=lead_body(), headers=tenant.headers), 201)
        events = assert_ok(client.get(f"/v1/events?resourceId={lead['id']}", headers=tenant.headers))
        assert [event["type"] for event in events] == ["lead.created"]
        assert set(events[0]) == properties("Event")
        assert set(events[0]["data"]) >= set(SCHEMAS["Event"]["properties"]["data"]["required"])
        assert set(events[0]["data"]["object"]) == properties("Lead")
        one = assert_ok(client.get(f"/v1/events/{events[0]['id']}", headers=tenant.headers))
        assert one == events[0]

        queued = assert_ok(
            client.post(f"/v1/webhook-endpoints/{endpoint['id']}/test", headers=tenant.headers), 202
        )
        assert set(queued) == properties("WebhookDelivery")
        deliver(tenant.id)
        log = assert_ok(
            client.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=tenant.headers)
        )
        assert log and all(set(delivery) == properties("WebhookDelivery") for delivery in log)
        attempts = [attempt for delivery in log for attempt in delivery["attempts"]]
        assert attempts and all(set(attempt) == properties("WebhookAttempt") for attempt in attempts)

        replay_path = f"/v1/webhook-endpoints/{endpoint['id']}/replay"
        assert properties("WebhookReplay") == {"eventIds", "since"}
        by_id = assert_ok(
            client.post(replay_path, json={"eventIds": [events[0]["id"]]}, headers=tenant.headers), 202
        )
        assert set(by_id) == properties("WebhookReplayResult") and by_id["queued"] == 1
        deliver(tenant.id)
        since = assert_ok(
            client.post(replay_path, json={"since": events[0]["createdAt"]}, headers=tenant.headers), 202
        )
        assert since["queued"] >= 1
