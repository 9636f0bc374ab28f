"""Sign-in, session tokens as Bearer credentials, and acting on behalf of users."""

from __future__ import annotations

import time
from typing import Any

from starlette.testclient import TestClient

from store.models import LoginFailure, User
from store.users.sessions import SessionCodec
from tests.support import (
    OWNER_PASSWORD,
    PASSWORD,
    TEST_SECRET,
    TIMESTAMP,
    SeededTenant,
    assert_error,
    assert_ok,
    create_user,
    lead_body,
    owner_email,
    sign_in,
    user_body,
)


def _comparable(response: Any) -> dict[str, Any]:
    body = dict(response.json())
    body.pop("meta")
    return body


def test_login_returns_a_token_that_works_as_bearer(client: TestClient, tenant: SeededTenant) -> None:
    response = client.post(
        "/v1/auth/login", json={"email": owner_email(tenant).upper(), "password": OWNER_PASSWORD}
    )
    data = assert_ok(response)

    assert set(data) == {"token", "expiresAt"} and TIMESTAMP.match(data["expiresAt"])
    assert not data["token"].startswith("lp_") and OWNER_PASSWORD not in response.text
    headers = {"Authorization": f"Bearer {data['token']}"}
    lead = assert_ok(client.post("/v1/leads", json=lead_body(), headers=headers), 201)
    history = assert_ok(client.get(f"/v1/leads/{lead['id']}/history", headers=headers))
    assert history[0]["actor"] == {"type": "user", "id": tenant.owner_id}
    # Scopes follow the role: the owner administers users and reads the audit log.
    assert_ok(client.get("/v1/audit-events", headers=headers))


def test_wrong_password_and_unknown_email_look_the_same(client: TestClient, tenant: SeededTenant) -> None:
    wrong = client.post("/v1/auth/login", json={"email": owner_email(tenant), "password": "not the password"})
    unknown = client.post(
        "/v1/auth/login", json={"email": "nobody-x1@example.com", "password": "not the password"}
    )

    assert_error(wrong, 401, "invalid_key")
    assert_error(unknown, 401, "invalid_key")
    assert _comparable(wrong) == _comparable(unknown)
    assert set(wrong.headers) == set(unknown.headers)


def test_failed_logins_are_throttled_per_account(client: TestClient, tenant: SeededTenant) -> None:
    member = create_user(client, tenant.headers)
    for _ in range(5):
        failed = client.post("/v1/auth/login", json={"email": member["email"], "password": "wrong password"})
        assert_error(failed, 401, "invalid_key")

    locked = client.post("/v1/auth/login", json={"email": member["email"], "password": PASSWORD})
    body = assert_error(locked, 429, "rate_limited")
    assert 0 < body["retryAfterMs"] <= 900_000 and int(locked.headers["retry-after"]) >= 1
    # An unknown email locks exactly the same way: the 429 tells nothing about existence.
    for _ in range(5):
        client.post("/v1/auth/login", json={"email": "ghost-2f@example.com", "password": "wrong password"})
    ghost = client.post(
        "/v1/auth/login", json={"email": "ghost-2f@example.com", "password": "wrong password"}
    )
    assert _comparable(ghost).keys() == _comparable(locked).keys()
    assert_error(ghost, 429, "rate_limited")
    assert LoginFailure.select().count() >= 10


def test_login_validation(client: TestClient) -> None:
    assert_error(
        client.post("/v1/auth/login", json={"email": "a@example.com"}), 422, "validation_error", "password"
    )
    extra = client.post("/v1/auth/login", json={"email": "a@b.co", "password": "x", "role": "owner"})
    assert_error(extra, 422, "validation_error", "role")


def test_email_in_several_tenants_needs_a_tenant_id(
    client: TestClient, tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    body = user_body()
    first = create_user(client, tenant.headers, email=body["email"])
    create_user(client, other_tenant.headers, email=body["email"])

    ambiguous = client.post("/v1/auth/login", json={"email": body["email"], "password": PASSWORD})
    assert_error(ambiguous, 409, "conflict")
    headers = sign_in(client, body["email"], tenantId=tenant.id)
    assert assert_ok(client.get(f"/v1/users/{first['id']}", headers=headers))["id"] == first["id"]


def test_tampered_and_garbage_tokens_are_refused(client: TestClient, tenant: SeededTenant) -> None:
    token = sign_in(client, owner_email(tenant), OWNER_PASSWORD)["Authorization"].split()[1]
    payload, stamp, signature = token.split(".")
    tampered = f"{payload}.{stamp}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    other_key = SessionCodec(["some-other-secret-entirely-0123456789"], 3600)
    user = User.get((User.tenant_id == tenant.id) & (User.id == tenant.owner_id))

    for bad in (tampered, "garbage", other_key.issue(user).token):
        response = client.get("/v1/leads", headers={"Authorization": f"Bearer {bad}"})
        assert_error(response, 401, "invalid_key")


def test_expired_token_is_refused(client: TestClient, tenant: SeededTenant) -> None:
    user = User.get((User.tenant_id == tenant.id) & (User.id == tenant.owner_id))
    codec = SessionCodec([TEST_SECRET], 3600)
    fresh = codec.issue(user, issued_at=int(time.time()) - 60)
    expired = codec.issue(user, issued_at=int(time.time()) - 3601 - 5)

    assert_ok(client.get("/v1/leads", headers={"Authorization": f"Bearer {fresh.token}"}))
    response = client.get("/v1/leads", headers={"Authorization": f"Bearer {expired.token}"})
    assert_error(response, 401, "invalid_key")


def test_password_change_and_deactivation_revoke_sessions(client: TestClient, tenant: SeededTenant) -> None:
    member = create_user(client, tenant.headers)
    before = sign_in(client, member["email"])
    assert_ok(client.get("/v1/leads", headers=before))

    assert_ok(
        client.patch(
            f"/v1/users/{member['id']}", json={"password": "a brand new passphrase"}, headers=tenant.headers
        )
    )
    assert_error(client.get("/v1/leads", headers=before), 401, "invalid_key")
    assert_error(
        client.post("/v1/auth/login", json={"email": member["email"], "password": PASSWORD}),
        401,
        "invalid_key",
    )
    after = sign_in(client, member["email"], "a brand new passphrase")
    assert_ok(client.get("/v1/leads", headers=after))

    assert_ok(client.patch(f"/v1/users/{member['id']}", json={"active": False}, headers=tenant.headers))
    assert_error(client.get("/v1/leads", headers=after), 401, "invalid_key")
    relogin = client.post(
        "/v1/auth/login", json={"email": member["email"], "password": "a brand new passphrase"}
    )
    assert_error(relogin, 401, "invalid_key")


def test_bearer_scopes_are_enforced_for_keys_and_sessions(client: TestClient, tenant: SeededTenant) -> None:
    reader = assert_ok(
        client.post(
            "/v1/api-keys", json={"name": "reader", "scopes": ["read:leads"]}, headers=tenant.headers
        ),
        201,
    )
    bearer = {"Authorization": f"Bearer {reader['key']}"}
    assert_ok(client.get("/v1/leads", headers=bearer))
    assert_error(client.post("/v1/leads", json=lead_body(), headers=bearer), 403, "insufficient_permissions")
    member = sign_in(client, create_user(client, tenant.headers)["email"])
    assert_error(client.get("/v1/api-keys", headers=member), 403, "insufficient_permissions")


def test_key_acts_as_its_creator_or_the_on_behalf_of_user(client: TestClient, tenant: SeededTenant) -> None:
    member = create_user(client, tenant.headers)
    mine = assert_ok(client.post("/v1/leads", json=lead_body(), headers=tenant.headers), 201)
    theirs = client.post(
        "/v1/leads", json=lead_body(), headers={**tenant.headers, "X-On-Behalf-Of": member["id"]}
    )
    theirs_id = assert_ok(theirs, 201)["id"]

    own_history = assert_ok(client.get(f"/v1/leads/{mine['id']}/history", headers=tenant.headers))
    their_history = assert_ok(client.get(f"/v1/leads/{theirs_id}/history", headers=tenant.headers))
    assert own_history[0]["onBehalfOf"] is None
    assert their_history[0]["onBehalfOf"] == member["id"]
    assert their_history[0]["actor"]["type"] == "api_key"
    # Acting as a member, the owner's key cannot administer users (role powers follow the user).
    as_member = {**tenant.headers, "X-On-Behalf-Of": member["id"]}
    assert_error(
        client.post("/v1/users", json=user_body(), headers=as_member), 403, "insufficient_permissions"
    )


def test_on_behalf_of_anyone_else_is_refused_alike(
    client: TestClient, tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    inactive = create_user(client, tenant.headers)
    assert_ok(client.patch(f"/v1/users/{inactive['id']}", json={"active": False}, headers=tenant.headers))
    session = sign_in(client, owner_email(tenant), OWNER_PASSWORD)
    cases = [
        (tenant.headers, other_tenant.owner_id),
        (tenant.headers, "nosuchuser000000"),
        (tenant.headers, inactive["id"]),
        (session, tenant.owner_id),
    ]
    messages = set()
    for headers, target in cases[:3]:
        response = client.post("/v1/leads", json=lead_body(), headers={**headers, "X-On-Behalf-Of": target})
        messages.add(assert_error(response, 403, "insufficient_permissions")["message"])
    assert len(messages) == 1
    headers, target = cases[3]
    response = client.post("/v1/leads", json=lead_body(), headers={**headers, "X-On-Behalf-Of": target})
    assert_error(response, 403, "insufficient_permissions")
    assert User.select().where(User.tenant_id == other_tenant.id).count() == 1
