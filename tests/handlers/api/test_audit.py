"""The audit log over HTTP: one event per mutation, no secrets, filters, pagination, read-only."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from store.models import ApiKey, AuditEvent, User
from tests.support import (
    OWNER_PASSWORD,
    PASSWORD,
    SeededTenant,
    assert_error,
    assert_ok,
    create_user,
    lead_body,
    owner_email,
    sign_in,
)


def events(client: TestClient, tenant: SeededTenant, **params: Any) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = assert_ok(
        client.get("/v1/audit-events", params=params, headers=tenant.headers)
    )
    return data


def stored_text(tenant_id: str) -> str:
    rows = AuditEvent.select().where(AuditEvent.tenant_id == tenant_id).dicts()
    return json.dumps(list(rows), default=str)


def test_every_mutation_is_audited_without_secrets(client: TestClient, tenant: SeededTenant) -> None:
    headers = {**tenant.headers, "User-Agent": "audit-test/1.0", "X-Request-ID": "req-audit-1"}
    lead = assert_ok(client.post("/v1/leads", json=lead_body(), headers=headers), 201)
    client.patch(f"/v1/leads/{lead['id']}", json={"status": "contacted"}, headers=tenant.headers)
    client.delete(f"/v1/leads/{lead['id']}", headers=tenant.headers)
    key = assert_ok(
        client.post("/v1/api-keys", json={"name": "k", "scopes": ["read:leads"]}, headers=tenant.headers), 201
    )
    rotated = assert_ok(client.post(f"/v1/api-keys/{key['id']}/rotate", headers=tenant.headers))
    client.delete(f"/v1/api-keys/{key['id']}", headers=tenant.headers)
    user = create_user(client, tenant.headers)
    client.patch(
        f"/v1/users/{user['id']}",
        json={"password": "another passphrase", "name": "N"},
        headers=tenant.headers,
    )
    sign_in(client, owner_email(tenant), OWNER_PASSWORD)
    client.post("/v1/auth/login", json={"email": owner_email(tenant), "password": "wrong password!"})

    actions = [event["action"] for event in events(client, tenant, limit=100)]
    assert actions == [
        "auth.login_failed",
        "auth.login",
        "user.updated",
        "user.created",
        "api_key.revoked",
        "api_key.rotated",
        "api_key.created",
        "lead.deleted",
        "lead.updated",
        "lead.created",
    ]
    created = events(client, tenant, action="lead.created")[0]
    assert created["actor"] == {"type": "api_key", "id": created["apiKeyId"]}
    assert (created["resourceType"], created["resourceId"]) == ("lead", lead["id"])
    assert (created["requestId"], created["userAgent"], created["ip"]) == (
        "req-audit-1",
        "audit-test/1.0",
        "testclient",
    )
    # The lead was erased: its events keep who and when, not the values.
    assert set(created["changes"]["email"]) == {"[erased]"}
    updated = events(client, tenant, action="user.updated")[0]
    assert updated["changes"]["password"] == ["[redacted]", "[redacted]"]
    assert updated["changes"]["name"] == ["Sam Lee", "N"]
    login = events(client, tenant, action="auth.login")[0]
    assert login["actor"] == {"type": "user", "id": tenant.owner_id} and login["apiKeyId"] is None

    text = stored_text(tenant.id)
    stored_key = ApiKey.get((ApiKey.tenant_id == tenant.id) & (ApiKey.id == key["id"]))
    owner = User.get((User.tenant_id == tenant.id) & (User.id == tenant.owner_id))
    for secret in (
        key["key"],
        rotated["key"],
        stored_key.key_hash,
        PASSWORD,
        "another passphrase",
        OWNER_PASSWORD,
        "wrong password!",
        owner.password_hash,
        tenant.live_key,
    ):
        assert secret not in text


def test_history_and_audit_agree(client: TestClient, tenant: SeededTenant) -> None:
    lead = assert_ok(
        client.post("/v1/leads", json=lead_body(tags=["a"], score=5), headers=tenant.headers), 201
    )
    client.patch(
        f"/v1/leads/{lead['id']}", json={"score": 50, "customFields": {"x": 1}}, headers=tenant.headers
    )

    history = assert_ok(client.get(f"/v1/leads/{lead['id']}/history", headers=tenant.headers))
    trail = list(reversed(events(client, tenant, resourceId=lead["id"])))
    assert [e["action"] for e in trail] == [f"lead.{h['action']}" for h in history]
    assert [e["changes"] for e in trail] == [h["changes"] for h in history]
    assert [e["requestId"] for e in trail] == [h["requestId"] for h in history]


def test_on_behalf_of_is_recorded_with_the_key(client: TestClient, tenant: SeededTenant) -> None:
    member = create_user(client, tenant.headers)
    headers = {**tenant.headers, "X-On-Behalf-Of": member["id"]}
    assert_ok(client.post("/v1/leads", json=lead_body(), headers=headers), 201)

    event = events(client, tenant, action="lead.created")[0]
    assert event["onBehalfOf"] == member["id"]
    assert event["actor"]["type"] == "api_key" and event["apiKeyId"] == event["actor"]["id"]


def test_filters_and_pagination(client: TestClient, tenant: SeededTenant) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    leads = [
        assert_ok(client.post("/v1/leads", json=lead_body(), headers=tenant.headers), 201) for _ in range(5)
    ]
    member = create_user(client, tenant.headers)
    session = sign_in(client, member["email"])
    assert_ok(client.post("/v1/leads", json=lead_body(), headers=session), 201)

    assert len(events(client, tenant, action="lead.created")) == 6
    assert [e["resourceId"] for e in events(client, tenant, resourceType="user")] == [
        member["id"],
        member["id"],
    ]
    by_member = events(client, tenant, actorId=member["id"])
    assert {e["action"] for e in by_member} == {"lead.created", "auth.login"}
    assert events(client, tenant, resourceId=leads[2]["id"])[0]["resourceId"] == leads[2]["id"]
    assert events(client, tenant, until=start.isoformat()) == []
    assert len(events(client, tenant, since=start.isoformat(), action="lead.created")) == 6

    seen: list[str] = []
    params: dict[str, Any] = {"action": "lead.created", "limit": 4}
    while True:
        body = client.get("/v1/audit-events", params=params, headers=tenant.headers).json()
        seen += [e["id"] for e in body["data"]]
        if not body["meta"]["pagination"]["hasMore"]:
            break
        params["cursor"] = body["meta"]["pagination"]["nextCursor"]
    assert len(seen) == len(set(seen)) == 6
    all_created = events(client, tenant, action="lead.created", limit=100)
    assert seen == [e["id"] for e in all_created]
    stamps = [e["occurredAt"] for e in all_created]
    assert stamps == sorted(stamps, reverse=True)

    mismatched = client.get("/v1/audit-events", params={"cursor": params["cursor"]}, headers=tenant.headers)
    assert_error(mismatched, 400, "bad_request")


def test_tenants_see_only_their_own_events(
    client: TestClient, tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    assert_ok(client.post("/v1/leads", json=lead_body(), headers=tenant.headers), 201)
    assert events(client, other_tenant) == []


def test_audit_needs_read_audit_and_has_no_write_routes(client: TestClient, tenant: SeededTenant) -> None:
    key = assert_ok(
        client.post("/v1/api-keys", json={"name": "r", "scopes": ["read:leads"]}, headers=tenant.headers), 201
    )
    assert_error(
        client.get("/v1/audit-events", headers={"X-API-Key": key["key"]}), 403, "insufficient_permissions"
    )
    event_id = events(client, tenant)[0]["id"]
    assert_error(client.post("/v1/audit-events", json={}, headers=tenant.headers), 405, "method_not_allowed")
    assert client.delete(f"/v1/audit-events/{event_id}", headers=tenant.headers).status_code == 404
    assert AuditEvent.select().where(AuditEvent.id == event_id).exists()


@pytest.mark.parametrize("param", [{"since": "yesterday"}, {"resourceType": "planet"}, {"limit": 0}])
def test_bad_filters(client: TestClient, tenant: SeededTenant, param: dict[str, Any]) -> None:
    response = client.get("/v1/audit-events", params=param, headers=tenant.headers)
    assert response.status_code in (400, 422) and response.json()["success"] is False


def test_an_idempotent_replay_is_audited_once(client: TestClient, tenant: SeededTenant) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "audit-replay-1"}
    body = lead_body()
    first = client.post("/v1/leads", json=body, headers=headers)
    replay = client.post("/v1/leads", json=body, headers=headers)
    assert_ok(first, 201)
    assert replay.headers.get("idempotent-replayed") == "true"
    assert replay.json()["data"] == first.json()["data"]
    key_body = {"name": "replayed key", "scopes": ["read:leads"]}
    key_headers = {**tenant.headers, "Idempotency-Key": "audit-replay-2"}
    assert_ok(client.post("/v1/api-keys", json=key_body, headers=key_headers), 201)
    client.post("/v1/api-keys", json=key_body, headers=key_headers)

    assert [e["resourceId"] for e in events(client, tenant, action="lead.created")] == [
        first.json()["data"]["id"]
    ]
    assert len(events(client, tenant, action="api_key.created")) == 1


def test_sandbox_credentials_see_only_sandbox_events(client: TestClient, tenant: SeededTenant) -> None:
    live_lead = assert_ok(client.post("/v1/leads", json=lead_body(), headers=tenant.headers), 201)
    sandbox_lead = assert_ok(client.post("/v1/leads", json=lead_body(), headers=tenant.sandbox_headers), 201)

    sandbox_view = assert_ok(client.get("/v1/audit-events", headers=tenant.sandbox_headers))
    assert [e["resourceId"] for e in sandbox_view] == [sandbox_lead["id"]]
    assert {e["resourceId"] for e in events(client, tenant)} == {live_lead["id"], sandbox_lead["id"]}


@pytest.mark.parametrize(
    ("bound", "status"), [("0001-01-01T00:00:00+01:00", 422), ("2026-01-01t00:00:00z", 200)]
)
def test_odd_but_rfc3339_bounds_parse_or_422_never_500(
    client: TestClient, tenant: SeededTenant, bound: str, status: int
) -> None:
    response = client.get("/v1/audit-events", params={"since": bound}, headers=tenant.headers)
    if status == 422:
        assert_error(response, 422, "validation_error", "since")
    else:
        assert_ok(response)
