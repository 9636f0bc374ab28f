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


def test_the_tenant_has_every_property(client: TestClient, tenant: SeededTenant) -> None:
    assert set(assert_ok(client.get("/v1/tenant", headers=tenant.headers))) == properties("Tenant")
