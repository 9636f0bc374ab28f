"""Issue 9's power findings 1-6 and 8, each reproduced over HTTP: a caller never comes out of a
request with more power than it went in with (`store.access.power`).

Every test here failed on main at 5c37970; tests/store/access/test_power_property.py checks the
same invariant as a property over caller x target x operation.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from starlette.testclient import TestClient

from store.models import ApiKey, IdempotencyRecord, utcnow
from tests.support import SeededTenant, assert_error, assert_ok, lead_body, make_key

PASSWORD = "a long enough passphrase"
ALL_SCOPES = ["read:leads", "write:leads", "admin:api_keys", "admin:users", "read:audit", "admin:webhooks"]


def new_user(client: TestClient, headers: dict[str, str], role: str) -> dict[str, Any]:
    body = {
        "email": f"u-{uuid.uuid4().hex[:8]}@example.com",
        "name": "Sam",
        "role": role,
        "password": PASSWORD,
    }
    return dict(assert_ok(client.post("/v1/users", json=body, headers=headers), 201))


def sign_in(client: TestClient, email: str) -> dict[str, str]:
    data = assert_ok(client.post("/v1/auth/login", json={"email": email, "password": PASSWORD}))
    return {"Authorization": f"Bearer {data['token']}"}


def works(client: TestClient, plaintext: str) -> int:
    return client.get("/v1/leads", headers={"X-API-Key": plaintext}).status_code


# 1. Rotation hands out a stronger secret.


def test_a_key_cannot_rotate_a_key_stronger_than_itself(client: TestClient, tenant: SeededTenant) -> None:
    keys_only = make_key(client, tenant.headers, scopes=["admin:api_keys"])
    strong = make_key(client, tenant.headers, scopes=ALL_SCOPES)
    caller = {"X-API-Key": keys_only["key"]}

    refused = client.post(f"/v1/api-keys/{strong['id']}/rotate", headers=caller)

    body = assert_error(refused, 403, "insufficient_permissions")
    assert "lp_live_sk_" not in refused.text and "read:leads" in body["message"]
    assert works(client, strong["key"]) == 200  # untouched
    # A key it covers (here: itself) it may rotate.
    rotated = assert_ok(client.post(f"/v1/api-keys/{keys_only['id']}/rotate", headers=caller))
    assert rotated["scopes"] == ["admin:api_keys"]


def test_an_admin_cannot_rotate_a_key_acting_as_the_owner(client: TestClient, tenant: SeededTenant) -> None:
    admin = new_user(client, tenant.headers, "admin")
    owners = make_key(client, tenant.headers, scopes=["read:leads"])

    refused = client.post(f"/v1/api-keys/{owners['id']}/rotate", headers=sign_in(client, admin["email"]))

    assert "owner" in assert_error(refused, 403, "insufficient_permissions")["message"]


# 2. X-On-Behalf-Of only narrows.


def test_acting_for_the_owner_does_not_make_an_admins_key_an_owner(
    client: TestClient, tenant: SeededTenant
) -> None:
    admin = new_user(client, tenant.headers, "admin")
    admins_key = make_key(client, sign_in(client, admin["email"]), scopes=ALL_SCOPES)
    headers = {"X-API-Key": admins_key["key"], "X-On-Behalf-Of": tenant.owner_id}
    body = {
        "email": f"o-{uuid.uuid4().hex[:8]}@example.com",
        "name": "Eve",
        "role": "owner",
        "password": PASSWORD,
    }

    assert_error(client.post("/v1/users", json=body, headers=headers), 403, "insufficient_permissions")
    # Nor can it mint a key that would act as the owner.
    minted = client.post("/v1/api-keys", json={"name": "k", "scopes": ["read:leads"]}, headers=headers)
    assert_error(minted, 403, "insufficient_permissions")
    # It still does what an admin may.
    assert_ok(client.post("/v1/users", json={**body, "role": "member"}, headers=headers), 201)


def test_an_owner_key_acting_for_a_member_holds_only_the_members_scopes(
    client: TestClient, tenant: SeededTenant
) -> None:
    member = new_user(client, tenant.headers, "member")
    headers = {**tenant.headers, "X-On-Behalf-Of": member["id"]}

    for path in ("/v1/api-keys", "/v1/audit-events"):
        assert_error(client.get(path, headers=headers), 403, "insufficient_permissions")
    assert_error(client.post("/v1/users", json={}, headers=headers), 403, "insufficient_permissions")
    assert_ok(client.get("/v1/leads", headers=headers))
    lead = assert_ok(client.post("/v1/leads", json=lead_body(), headers=headers), 201)
    events = assert_ok(client.get(f"/v1/audit-events?resourceId={lead['id']}", headers=tenant.headers))
    assert events[0]["onBehalfOf"] == member["id"]


# 3. Sandbox reaches live through a user.


def test_a_sandbox_key_cannot_create_or_change_users(client: TestClient, tenant: SeededTenant) -> None:
    member = new_user(client, tenant.headers, "member")
    body = {
        "email": f"s-{uuid.uuid4().hex[:8]}@example.com",
        "name": "Sam",
        "role": "admin",
        "password": PASSWORD,
    }

    created = client.post("/v1/users", json=body, headers=tenant.sandbox_headers)
    assert "live" in assert_error(created, 403, "insufficient_permissions")["message"]
    for change in ({"role": "admin"}, {"password": "another long passphrase"}, {"name": "Renamed"}):
        patched = client.patch(f"/v1/users/{member['id']}", json=change, headers=tenant.sandbox_headers)
        assert_error(patched, 403, "insufficient_permissions")
    # So the chain sandbox key -> admin user -> live session -> live key is cut at its first link.
    assert_error(
        client.post("/v1/auth/login", json={"email": body["email"], "password": PASSWORD}), 401, "invalid_key"
    )
    # Reading users stays open to sandbox keys.
    assert_ok(client.get("/v1/users", headers=tenant.sandbox_headers))


def test_a_key_cannot_create_a_user_stronger_than_itself(client: TestClient, tenant: SeededTenant) -> None:
    users_only = {
        "X-API-Key": make_key(client, tenant.headers, scopes=["admin:users", "read:leads", "write:leads"])[
            "key"
        ]
    }
    body = {
        "email": f"a-{uuid.uuid4().hex[:8]}@example.com",
        "name": "Al",
        "role": "admin",
        "password": PASSWORD,
    }

    assert_error(client.post("/v1/users", json=body, headers=users_only), 403, "insufficient_permissions")
    member = assert_ok(client.post("/v1/users", json={**body, "role": "member"}, headers=users_only), 201)
    promote = client.patch(f"/v1/users/{member['id']}", json={"role": "admin"}, headers=users_only)
    assert_error(promote, 403, "insufficient_permissions")


# 4. Idempotent replays are bound to the credential that made them; erasure purges them.


def test_a_replay_is_served_only_to_the_credential_that_made_it(
    client: TestClient, tenant: SeededTenant
) -> None:
    keys_only = {"X-API-Key": make_key(client, tenant.headers, scopes=["admin:api_keys"])["key"]}
    idem = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"name": f"full-{uuid.uuid4().hex[:6]}", "scopes": ALL_SCOPES}
    original = assert_ok(client.post("/v1/api-keys", json=body, headers={**tenant.headers, **idem}), 201)

    stolen = client.post("/v1/api-keys", json=body, headers={**keys_only, **idem})

    assert_error(stolen, 409, "idempotency_conflict")
    assert original["key"] not in stolen.text and "idempotent-replayed" not in stolen.headers
    # The same credential still gets its replay; acting for someone else is another request.
    again = client.post("/v1/api-keys", json=body, headers={**tenant.headers, **idem})
    assert again.headers["idempotent-replayed"] == "true" and again.json()["data"]["key"] == original["key"]
    other_hat = {**tenant.headers, **idem, "X-On-Behalf-Of": tenant.owner_id}
    assert_error(client.post("/v1/api-keys", json=body, headers=other_hat), 409, "idempotency_conflict")


def test_a_session_replays_to_its_user_only(client: TestClient, tenant: SeededTenant) -> None:
    first, second = (new_user(client, tenant.headers, "admin") for _ in range(2))
    idem = {"Idempotency-Key": str(uuid.uuid4())}
    body = lead_body()
    created = assert_ok(
        client.post("/v1/leads", json=body, headers={**sign_in(client, first["email"]), **idem}), 201
    )

    replay = client.post("/v1/leads", json=body, headers={**sign_in(client, first["email"]), **idem})
    other = client.post("/v1/leads", json=body, headers={**sign_in(client, second["email"]), **idem})

    assert replay.headers["idempotent-replayed"] == "true" and replay.json()["data"]["id"] == created["id"]
    assert_error(other, 409, "idempotency_conflict")


def _records(tenant_id: str) -> int:
    return int(IdempotencyRecord.select().where(IdempotencyRecord.tenant_id == tenant_id).count())


def test_erasing_a_lead_purges_the_stored_replies_holding_it(
    client: TestClient, tenant: SeededTenant
) -> None:
    body = lead_body()
    create, patch = ({**tenant.headers, "Idempotency-Key": str(uuid.uuid4())} for _ in range(2))
    lead = assert_ok(client.post("/v1/leads", json=body, headers=create), 201)
    assert_ok(client.patch(f"/v1/leads/{lead['id']}", json={"score": 5}, headers=patch))
    assert _records(tenant.id) == 2

    assert_ok(client.delete(f"/v1/leads/{lead['id']}", headers=tenant.headers))

    assert _records(tenant.id) == 0
    retried = client.post("/v1/leads", json=body, headers=create)
    assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers
    assert retried.json()["data"]["id"] != lead["id"]
    assert_error(client.patch(f"/v1/leads/{lead['id']}", json={"score": 5}, headers=patch), 404, "not_found")


def test_merging_a_lead_away_purges_its_stored_replies(client: TestClient, tenant: SeededTenant) -> None:
    source_body = lead_body()
    idem = {**tenant.headers, "Idempotency-Key": str(uuid.uuid4())}
    source = assert_ok(client.post("/v1/leads", json=source_body, headers=idem), 201)
    target = assert_ok(client.post("/v1/leads", json=lead_body(), headers=tenant.headers), 201)

    merged = client.post(
        f"/v1/leads/{target['id']}/merge", json={"sourceIds": [source["id"]]}, headers=tenant.headers
    )
    assert_ok(merged)

    retried = client.post("/v1/leads", json=source_body, headers=idem)
    assert "idempotent-replayed" not in retried.headers and retried.json()["data"]["id"] != source["id"]


# 5. A key acts as its creator: deactivated or demoted, its keys stop at once.


def test_a_deactivated_creators_keys_stop_at_once(client: TestClient, tenant: SeededTenant) -> None:
    admin = new_user(client, tenant.headers, "admin")
    key = make_key(client, sign_in(client, admin["email"]), scopes=["read:leads"])
    assert works(client, key["key"]) == 200

    assert_ok(client.patch(f"/v1/users/{admin['id']}", json={"active": False}, headers=tenant.headers))

    response = client.get("/v1/leads", headers={"X-API-Key": key["key"]})
    assert "deactivated" in assert_error(response, 401, "invalid_key")["message"]
    bearer = client.get("/v1/leads", headers={"Authorization": f"Bearer {key['key']}"})
    assert_error(bearer, 401, "invalid_key")
    # Reactivating the user (which needs the power of the user's role) brings its keys back.
    assert_ok(client.patch(f"/v1/users/{admin['id']}", json={"active": True}, headers=tenant.headers))
    assert works(client, key["key"]) == 200


def test_a_demoted_creators_keys_stop_when_the_role_no_longer_grants_them(
    client: TestClient, tenant: SeededTenant
) -> None:
    admin = new_user(client, tenant.headers, "admin")
    session = sign_in(client, admin["email"])
    strong = make_key(client, session, scopes=["read:leads", "admin:api_keys"])
    modest = make_key(client, session, scopes=["read:leads", "write:leads"])

    assert_ok(client.patch(f"/v1/users/{admin['id']}", json={"role": "member"}, headers=tenant.headers))

    assert_error(client.get("/v1/leads", headers={"X-API-Key": strong["key"]}), 401, "invalid_key")
    assert works(client, modest["key"]) == 200  # a member may still hold these scopes


# 6. A repeated credential header is 401.


@pytest.mark.parametrize("header", ["X-API-Key", "Authorization"])
@pytest.mark.parametrize("second", ["same", "other-tenant", "bad"])
def test_a_repeated_credential_header_is_401(
    client: TestClient, tenant: SeededTenant, other_tenant: SeededTenant, header: str, second: str
) -> None:
    value = {"same": tenant.live_key, "other-tenant": other_tenant.live_key, "bad": "lp_live_sk_" + "x" * 32}
    prefix = "Bearer " if header == "Authorization" else ""
    headers = [(header, prefix + tenant.live_key), (header, prefix + value[second])]

    assert_error(client.get("/v1/leads", headers=headers), 401, "invalid_key")
    assert_error(client.post("/v1/leads", json=lead_body(), headers=headers), 401, "invalid_key")
    assert assert_ok(client.get("/v1/leads", headers=tenant.headers)) == []  # nothing was written


def test_a_repeated_publishable_key_header_is_401(client: TestClient, tenant: SeededTenant) -> None:
    publishable = make_key(client, tenant.headers, type="publishable", scopes=["capture:leads"])["key"]
    headers = [("X-Publishable-Key", publishable), ("X-Publishable-Key", publishable)]

    assert_error(client.post("/v1/public/leads", json=lead_body(), headers=headers), 401, "invalid_key")
    assert assert_ok(client.get("/v1/leads", headers=tenant.headers)) == []


# 8. Rotation without an outage.


def _stored(tenant: SeededTenant, key_id: str) -> ApiKey:
    return ApiKey.get((ApiKey.tenant_id == tenant.id) & (ApiKey.id == key_id))


def test_rotation_with_a_grace_period_keeps_the_old_secret_until_then(
    client: TestClient, tenant: SeededTenant
) -> None:
    created = make_key(client, tenant.headers, scopes=["read:leads"])
    assert created["previousSecretExpiresAt"] is None
    url = f"/v1/api-keys/{created['id']}/rotate"

    before = utcnow()
    rotated = assert_ok(client.post(url, json={"gracePeriodSeconds": 3600}, headers=tenant.headers))

    assert works(client, created["key"]) == works(client, rotated["key"]) == 200
    expires = dt.datetime.fromisoformat(rotated["previousSecretExpiresAt"].replace("Z", "+00:00"))
    expected = before.replace(tzinfo=dt.UTC) + dt.timedelta(seconds=3600)
    assert dt.timedelta(0) <= expires - expected < dt.timedelta(minutes=1)
    shown = assert_ok(client.get(f"/v1/api-keys/{created['id']}", headers=tenant.headers))
    assert shown["previousSecretExpiresAt"] == rotated["previousSecretExpiresAt"]
    assert shown["status"] == "active"
    # When the grace period is over, the old secret is refused and the key no longer shows it.
    ApiKey.update(previous_expires_at=utcnow() - dt.timedelta(seconds=1)).where(
        (ApiKey.tenant_id == tenant.id) & (ApiKey.id == created["id"])
    ).execute()
    assert_error(client.get("/v1/leads", headers={"X-API-Key": created["key"]}), 401, "invalid_key")
    assert works(client, rotated["key"]) == 200
    shown = assert_ok(client.get(f"/v1/api-keys/{created['id']}", headers=tenant.headers))
    assert shown["previousSecretExpiresAt"] is None


def test_a_second_rotation_or_a_revocation_ends_the_grace_period(
    client: TestClient, tenant: SeededTenant
) -> None:
    created = make_key(client, tenant.headers, scopes=["read:leads"])
    url = f"/v1/api-keys/{created['id']}/rotate"
    first = assert_ok(client.post(url, json={"gracePeriodSeconds": 600}, headers=tenant.headers))

    second = assert_ok(client.post(url, json={"gracePeriodSeconds": 600}, headers=tenant.headers))

    assert_error(client.get("/v1/leads", headers={"X-API-Key": created["key"]}), 401, "invalid_key")
    assert works(client, first["key"]) == works(client, second["key"]) == 200
    third = assert_ok(client.post(url, headers=tenant.headers))  # no body: no grace period
    assert third["previousSecretExpiresAt"] is None
    assert works(client, second["key"]) == 401 and works(client, third["key"]) == 200
    assert _stored(tenant, created["id"]).previous_key_hash is None
    fourth = assert_ok(client.post(url, json={"gracePeriodSeconds": 600}, headers=tenant.headers))
    assert_ok(client.delete(f"/v1/api-keys/{created['id']}", headers=tenant.headers))
    assert works(client, third["key"]) == works(client, fourth["key"]) == 401


@pytest.mark.parametrize("grace", [-1, 7 * 24 * 3600 + 1, "60", 1.5, None])
def test_grace_period_is_0_to_7_days(client: TestClient, tenant: SeededTenant, grace: Any) -> None:
    created = make_key(client, tenant.headers)
    url = f"/v1/api-keys/{created['id']}/rotate"

    refused = client.post(url, json={"gracePeriodSeconds": grace}, headers=tenant.headers)

    assert_error(refused, 422, "validation_error", "gracePeriodSeconds")
    assert works(client, created["key"]) == 200  # not rotated
    assert_error(client.post(url, json={"grace": 60}, headers=tenant.headers), 422, "validation_error")
    week = assert_ok(client.post(url, json={"gracePeriodSeconds": 7 * 24 * 3600}, headers=tenant.headers))
    assert week["previousSecretExpiresAt"] is not None and works(client, created["key"]) == 200
