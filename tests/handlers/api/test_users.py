"""User endpoints and role powers, through the real app and database."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from store.models import User
from tests.support import (
    PASSWORD,
    SeededTenant,
    assert_error,
    assert_ok,
    create_user,
    lead_body,
    sign_in,
    user_body,
)


def test_create_get_list_never_show_the_password(client: TestClient, tenant: SeededTenant) -> None:
    response = client.post("/v1/users", json=user_body(email="Sam.Lee@Example.com"), headers=tenant.headers)
    user = assert_ok(response, 201)

    assert user["email"] == "sam.lee@example.com" and user["role"] == "member" and user["active"] is True
    assert user["tenantId"] == tenant.id
    assert PASSWORD not in response.text and "argon2" not in response.text
    assert assert_ok(client.get(f"/v1/users/{user['id']}", headers=tenant.headers)) == user
    listed = assert_ok(client.get("/v1/users", headers=tenant.headers))
    assert [u["id"] for u in listed] == [tenant.owner_id, user["id"]]
    assert "password" not in str(listed).lower()
    stored = User.get((User.tenant_id == tenant.id) & (User.id == user["id"]))
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash


def test_user_list_paginates(client: TestClient, tenant: SeededTenant) -> None:
    for _ in range(2):
        create_user(client, tenant.headers)
    first = client.get("/v1/users?limit=2", headers=tenant.headers).json()
    assert first["meta"]["pagination"]["hasMore"] is True
    cursor = first["meta"]["pagination"]["nextCursor"]
    second = client.get("/v1/users", params={"limit": 2, "cursor": cursor}, headers=tenant.headers).json()
    assert len(second["data"]) == 1 and second["meta"]["pagination"]["hasMore"] is False
    assert not {u["id"] for u in first["data"]} & {u["id"] for u in second["data"]}


def test_duplicate_email_in_tenant_conflicts_but_other_tenant_may_reuse(
    client: TestClient, tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    body = user_body()
    assert_ok(client.post("/v1/users", json=body, headers=tenant.headers), 201)
    assert_error(client.post("/v1/users", json=body, headers=tenant.headers), 409, "conflict")
    assert_ok(client.post("/v1/users", json=body, headers=other_tenant.headers), 201)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"email": "nope", "name": "A", "role": "member", "password": PASSWORD}, {"email"}),
        ({"email": "a@example.com", "name": "A", "role": "boss", "password": PASSWORD}, {"role"}),
        ({"email": "a@example.com", "name": "A", "role": "member", "password": "short"}, {"password"}),
        ({"email": "a@example.com", "name": "A", "role": "member"}, {"password"}),
        ({**user_body(), "id": "x", "passwordHash": "y"}, {"id", "passwordHash"}),
    ],
)
def test_create_validation(
    client: TestClient, tenant: SeededTenant, body: dict[str, Any], fields: set[str]
) -> None:
    assert_error(
        client.post("/v1/users", json=body, headers=tenant.headers), 422, "validation_error", *fields
    )


def test_other_tenants_users_are_not_found(
    client: TestClient, tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    url = f"/v1/users/{other_tenant.owner_id}"
    assert_error(client.get(url, headers=tenant.headers), 404, "not_found")
    assert_error(client.patch(url, json={"name": "Mallory"}, headers=tenant.headers), 404, "not_found")


def test_role_powers(client: TestClient, tenant: SeededTenant) -> None:
    admin = create_user(client, tenant.headers, "admin")
    member = create_user(client, tenant.headers, "member")
    admin_session = sign_in(client, admin["email"])
    member_session = sign_in(client, member["email"])

    # A member reads users and leads but administers nothing.
    assert_ok(client.get("/v1/users", headers=member_session))
    assert_ok(client.post("/v1/leads", json=lead_body(), headers=member_session), 201)
    assert_error(
        client.post("/v1/users", json=user_body(), headers=member_session), 403, "insufficient_permissions"
    )
    assert_error(client.get("/v1/audit-events", headers=member_session), 403, "insufficient_permissions")
    # An admin manages members and admins, never owners.
    assert_ok(client.post("/v1/users", json=user_body("admin"), headers=admin_session), 201)
    patched = client.patch(f"/v1/users/{member['id']}", json={"name": "Renamed"}, headers=admin_session)
    assert assert_ok(patched)["name"] == "Renamed"
    owner_url = f"/v1/users/{tenant.owner_id}"
    assert_error(
        client.post("/v1/users", json=user_body("owner"), headers=admin_session),
        403,
        "insufficient_permissions",
    )
    assert_error(
        client.patch(owner_url, json={"name": "X"}, headers=admin_session), 403, "insufficient_permissions"
    )
    promote = client.patch(f"/v1/users/{member['id']}", json={"role": "owner"}, headers=admin_session)
    assert_error(promote, 403, "insufficient_permissions")
    # The owner (whose key this is) may grant ownership.
    promoted = client.patch(f"/v1/users/{member['id']}", json={"role": "owner"}, headers=tenant.headers)
    assert assert_ok(promoted)["role"] == "owner"


def test_the_last_active_owner_stays(client: TestClient, tenant: SeededTenant) -> None:
    url = f"/v1/users/{tenant.owner_id}"
    assert_error(client.patch(url, json={"role": "admin"}, headers=tenant.headers), 409, "conflict")
    assert_error(client.patch(url, json={"active": False}, headers=tenant.headers), 409, "conflict")
    second = create_user(client, tenant.headers, "owner")
    assert assert_ok(client.patch(url, json={"role": "admin"}, headers=tenant.headers))["role"] == "admin"
    # The demoted owner's key now acts as an admin; the remaining owner cannot leave either.
    second_session = sign_in(client, second["email"])
    deactivate = client.patch(f"/v1/users/{second['id']}", json={"active": False}, headers=second_session)
    assert_error(deactivate, 409, "conflict")


def test_assignee_must_be_an_active_user_of_the_tenant(
    client: TestClient, tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    member = create_user(client, tenant.headers)
    lead = assert_ok(
        client.post("/v1/leads", json=lead_body(assignedTo=member["id"]), headers=tenant.headers), 201
    )
    assert lead["assignedTo"] == member["id"]

    foreign = client.post(
        "/v1/leads", json=lead_body(assignedTo=other_tenant.owner_id), headers=tenant.headers
    )
    assert_error(foreign, 422, "validation_error", "assignedTo")
    assert_ok(client.patch(f"/v1/users/{member['id']}", json={"active": False}, headers=tenant.headers))
    inactive = client.patch(
        f"/v1/leads/{lead['id']}", json={"assignedTo": member["id"]}, headers=tenant.headers
    )
    assert_error(inactive, 422, "validation_error", "assignedTo")
    unknown = client.post("/v1/leads", json=lead_body(assignedTo="nosuchuser000000"), headers=tenant.headers)
    assert_error(unknown, 422, "validation_error", "assignedTo")


def test_idempotent_user_creation_replays_and_never_fingerprints_the_password(
    client: TestClient, tenant: SeededTenant
) -> None:
    import hashlib
    import json

    from store.models import AuditEvent, IdempotencyRecord

    body = user_body()
    headers = {**tenant.headers, "Idempotency-Key": "user-create-1"}
    first = assert_ok(client.post("/v1/users", json=body, headers=headers), 201)
    replay = client.post("/v1/users", json=body, headers=headers)
    assert replay.status_code == 201 and replay.json()["data"] == first
    assert replay.headers.get("idempotent-replayed") == "true"

    created = AuditEvent.select().where(
        (AuditEvent.tenant_id == tenant.id) & (AuditEvent.action == "user.created")
    )
    assert created.count() == 1
    record = IdempotencyRecord.get(IdempotencyRecord.tenant_id == tenant.id)
    with_password = json.dumps(["POST", "/v1/users", body], sort_keys=True, separators=(",", ":"))
    assert record.fingerprint != hashlib.sha256(with_password.encode()).hexdigest()
    assert PASSWORD not in (record.response or "")
