"""The sign-in throttle under parallel attempts and across tenants, and signing out one session."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from starlette.testclient import TestClient

from store.models import RevokedSession, utcnow
from tests.support import PASSWORD, SeededTenant, assert_error, assert_ok, create_user, race, user_body

LIMIT = 5  # LEADPIPE_LOGIN_MAX_FAILURES_PER_ACCOUNT's default, which the test app keeps


def login(http: Any, email: str, password: str, **extra: Any) -> Any:
    return http.post("/v1/auth/login", json={"email": email, "password": password, **extra})


def test_parallel_wrong_passwords_get_exactly_the_limit(
    server: str, tenant: SeededTenant, client: TestClient
) -> None:
    member = create_user(client, tenant.headers)

    responses = race(server, [lambda http: login(http, member["email"], "wrong password")] * 30)

    statuses = [r.status_code for r in responses]
    assert statuses.count(401) == LIMIT and statuses.count(429) == 30 - LIMIT, statuses
    assert all(r.json()["code"] == "rate_limited" for r in responses if r.status_code == 429)
    # Locked: the right password is refused too, before it is checked.
    assert_error(login(client, member["email"], PASSWORD), 429, "rate_limited")


def test_parallel_right_passwords_leave_no_count_behind(
    server: str, tenant: SeededTenant, client: TestClient
) -> None:
    member = create_user(client, tenant.headers)

    responses = race(server, [lambda http: login(http, member["email"], PASSWORD)] * 8)

    # An attempt holds its place in the window until its password is checked, so at most the
    # limit's worth run at once: the others may be told to retry, never let through unchecked.
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 429} and statuses.count(200) >= LIMIT, statuses
    # The successes released their places: five wrong passwords are still allowed afterwards.
    assert [login(client, member["email"], "nope").status_code for _ in range(LIMIT)] == [401] * LIMIT


def test_failures_in_one_tenant_never_lock_or_unlock_another(
    client: TestClient, tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    email = user_body()["email"]
    create_user(client, tenant.headers, email=email)
    create_user(client, other_tenant.headers, email=email, password="another passphrase 42")
    for _ in range(LIMIT):
        assert_error(login(client, email, "wrong password", tenantId=tenant.id), 401, "invalid_key")
    assert_error(login(client, email, PASSWORD, tenantId=tenant.id), 429, "rate_limited")

    # The same email in the other tenant signs in, with or without tenantId (the locked
    # account is not even tried) ...
    assert_ok(login(client, email, "another passphrase 42", tenantId=other_tenant.id))
    assert_ok(login(client, email, "another passphrase 42"))
    # ... and its success resets nothing of the first tenant's count.
    assert_error(login(client, email, PASSWORD, tenantId=tenant.id), 429, "rate_limited")
    # Without tenantId the locked account is not tried: its right password signs in nowhere.
    assert_error(login(client, email, PASSWORD), 401, "invalid_key")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_logout_revokes_that_token_only(client: TestClient, tenant: SeededTenant) -> None:
    member = create_user(client, tenant.headers)
    first = assert_ok(login(client, member["email"], PASSWORD))["token"]
    second = assert_ok(login(client, member["email"], PASSWORD))["token"]

    response = client.post("/v1/auth/logout", headers=bearer(first))

    body = assert_ok(response)
    assert body == {"revoked": True} and response.json()["message"]
    assert_error(client.get("/v1/leads", headers=bearer(first)), 401, "invalid_key")
    assert_error(client.post("/v1/auth/logout", headers=bearer(first)), 401, "invalid_key")
    assert_ok(client.get("/v1/leads", headers=bearer(second)))
    rows = list(RevokedSession.select().where(RevokedSession.tenant_id == tenant.id))
    assert [row.user_id for row in rows] == [member["id"]]
    assert first not in str([row.__data__ for row in rows])  # the id only, never the token


def test_logout_needs_a_session_token(client: TestClient, tenant: SeededTenant) -> None:
    assert_error(
        client.post("/v1/auth/logout", headers=bearer(tenant.live_key)), 403, "insufficient_permissions"
    )
    assert_error(client.post("/v1/auth/logout", headers=tenant.headers), 401, "auth_required")
    assert_error(client.post("/v1/auth/logout"), 401, "auth_required")
    assert_error(client.post("/v1/auth/logout", headers=bearer("not-a-token")), 401, "invalid_key")


def test_logout_prunes_revocations_past_their_tokens_expiry(client: TestClient, tenant: SeededTenant) -> None:
    member = create_user(client, tenant.headers)
    past = utcnow() - dt.timedelta(seconds=1)
    RevokedSession.create(
        tenant_id=tenant.id, token_id="old", user_id=member["id"], revoked_at=past, expires_at=past
    )
    token = assert_ok(login(client, member["email"], PASSWORD))["token"]

    assert_ok(client.post("/v1/auth/logout", headers=bearer(token)))

    left = [row.token_id for row in RevokedSession.select().where(RevokedSession.tenant_id == tenant.id)]
    assert len(left) == 1 and left != ["old"]
    (row,) = RevokedSession.select().where(RevokedSession.tenant_id == tenant.id)
    assert row.expires_at > utcnow()


def test_parallel_logouts_of_one_token_revoke_it_once(
    server: str, tenant: SeededTenant, client: TestClient
) -> None:
    member = create_user(client, tenant.headers)
    token = assert_ok(login(client, member["email"], PASSWORD))["token"]

    responses = race(server, [lambda http: http.post("/v1/auth/logout", headers=bearer(token))] * 6)

    assert {r.status_code for r in responses} <= {200, 401} and 200 in {r.status_code for r in responses}
    assert httpx.get(f"{server}/v1/leads", headers=bearer(token)).status_code == 401
