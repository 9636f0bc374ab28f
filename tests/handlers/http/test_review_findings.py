"""Review of 7ba5191 (KnownKeys hint, store.prepared, Keyset): attacks on the hint path and the
prepared SQL, through the real app. Each test is an invariant the change could have broken.

Failing on 7ba5191 (pass on 9411f12): the tenant rate limit and the access log run on the hint
principal before `principal_of` re-resolves the key, so a stopped key's first request per process
spends and reads its tenant's budget and is logged as the tenant's, and a plan change is seen one
request late. The rest are regression tests of attacks that held."""

from __future__ import annotations

import datetime as dt
import gc
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from handlers.http.context import AppState
from handlers.logging_setup import access_log
from handlers.settings import Settings
from store.models import ApiKey, Lead, Tenant, utcnow
from store.webhooks.models import WebhookEndpoint
from tests.ratelimit_support import client_for, limited_app
from tests.server_support import create_tenant, own_database, run_cli, serving, two_servers
from tests.support import SeededTenant, assert_error, assert_ok, lead_body, make_key, race, row_counts

ALL = ["read:leads", "write:leads", "admin:webhooks"]


@pytest.fixture
def limited_client(app: Any, settings: Settings) -> Iterator[TestClient]:
    """A client of an app with the real limits (memory windows), for the tenant-budget findings."""
    with limited_app(settings, "memory://") as limited:
        yield client_for(limited)


def _known(client: TestClient, scopes: list[str], tenant: SeededTenant) -> tuple[dict[str, str], dict]:
    key = make_key(client, tenant.headers, scopes=scopes)
    headers = {"X-API-Key": key["key"]}
    for _ in range(2):  # the app now holds a hint for this key
        assert client.get("/v1/leads", headers=headers).status_code == 200
    return headers, key


def test_an_idempotent_replay_on_a_revoked_hinted_key_is_401(
    client: TestClient, tenant: SeededTenant
) -> None:
    headers, key = _known(client, ALL, tenant)
    replay = {**headers, "Idempotency-Key": "review-1"}
    assert_ok(client.post("/v1/leads", json=lead_body(email="a@example.com"), headers=replay), 201)
    assert_ok(client.delete(f"/v1/api-keys/{key['id']}", headers=tenant.headers))
    again = client.post("/v1/leads", json=lead_body(email="a@example.com"), headers=replay)
    assert "idempotent-replayed" not in again.headers
    assert_error(again, 401, "invalid_key")


def test_an_expired_hinted_key_is_401_with_no_side_effect(client: TestClient, tenant: SeededTenant) -> None:
    headers, key = _known(client, ALL, tenant)
    ApiKey.update(expires_at=utcnow() - dt.timedelta(seconds=1)).where(ApiKey.id == key["id"]).execute()
    before = row_counts(tenant.id)
    assert_error(client.post("/v1/leads", json=lead_body(), headers=headers), 401, "invalid_key")
    assert_error(client.get("/v1/leads/export", headers=headers), 401, "invalid_key")
    assert row_counts(tenant.id) == before


def test_a_rotated_secret_past_its_grace_is_401_on_the_hint(client: TestClient, tenant: SeededTenant) -> None:
    headers, key = _known(client, ALL, tenant)
    rotated = client.post(
        f"/v1/api-keys/{key['id']}/rotate", json={"gracePeriodSeconds": 3600}, headers=tenant.headers
    )
    assert_ok(rotated)
    assert client.get("/v1/leads", headers=headers).status_code == 200  # within the grace period
    past = utcnow() - dt.timedelta(seconds=1)
    ApiKey.update(previous_expires_at=past).where(ApiKey.id == key["id"]).execute()
    assert_error(client.get("/v1/leads", headers=headers), 401, "invalid_key")
    assert_error(client.post("/v1/leads", json=lead_body(), headers=headers), 401, "invalid_key")


def test_a_revoked_hinted_key_cannot_upload_an_import(client: TestClient, tenant: SeededTenant) -> None:
    """The import handler is async (principal_of_async); nothing is created."""
    headers, key = _known(client, ALL, tenant)
    assert_ok(client.delete(f"/v1/api-keys/{key['id']}", headers=tenant.headers))
    csv = "email,firstName\nx@example.com,X\n"
    refused = client.post("/v1/leads/import", content=csv, headers={**headers, "Content-Type": "text/csv"})
    assert_error(refused, 401, "invalid_key")
    multipart = client.post("/v1/leads/import", files={"file": ("a.csv", csv, "text/csv")}, headers=headers)
    assert_error(multipart, 401, "invalid_key")
    assert Lead.select().where(Lead.tenant_id == tenant.id).count() == 0


def test_a_revoked_hinted_key_cannot_change_a_webhook_endpoint(
    client: TestClient, tenant: SeededTenant
) -> None:
    headers, key = _known(client, ALL, tenant)
    made = assert_ok(
        client.post(
            "/v1/webhook-endpoints", json={"url": "https://example.com/h", "events": ["*"]}, headers=headers
        ),
        201,
    )
    endpoint_id = made["endpoint"]["id"] if "endpoint" in made else made["id"]
    assert_ok(client.delete(f"/v1/api-keys/{key['id']}", headers=tenant.headers))
    patched = client.patch(
        f"/v1/webhook-endpoints/{endpoint_id}", json={"url": "https://evil.example.com/h"}, headers=headers
    )
    assert_error(patched, 401, "invalid_key")
    rotated = client.post(f"/v1/webhook-endpoints/{endpoint_id}/rotate-secret", headers=headers)
    assert_error(rotated, 401, "invalid_key")
    stored = WebhookEndpoint.get(
        (WebhookEndpoint.tenant_id == tenant.id) & (WebhookEndpoint.id == endpoint_id)
    )
    assert stored.url == "https://example.com/h"


def test_a_demoted_on_behalf_of_still_only_narrows(client: TestClient, tenant: SeededTenant) -> None:
    """X-On-Behalf-Of bypasses the hint; a hinted key switched to another actor gains nothing."""
    headers, _key = _known(client, ["read:leads"], tenant)
    owner_id = tenant.owner_id
    write = client.post("/v1/leads", json=lead_body(), headers={**headers, "X-On-Behalf-Of": owner_id})
    assert_error(write, 403, "insufficient_permissions")


def test_like_wildcards_are_literal_and_tenants_do_not_mix_on_one_shape(
    client: TestClient, tenant: SeededTenant, other_tenant: SeededTenant
) -> None:
    for who, names in (
        (tenant, ["100%", "1000", "a_b", "axb", "back\\slash"]),
        (other_tenant, ["100% other"]),
    ):
        for name in names:
            assert_ok(client.post("/v1/leads", json=lead_body(company=name), headers=who.headers), 201)

    def companies(who: SeededTenant, q: str, **extra: str) -> list[str]:
        rows = assert_ok(client.get("/v1/leads", params={"q": q, **extra}, headers=who.headers))
        return sorted(row["company"] for row in rows)

    assert companies(tenant, "0%") == ["100%"]
    assert companies(tenant, "a_b") == ["a_b"]
    assert companies(tenant, "k\\s") == ["back\\slash"]
    assert companies(other_tenant, "0%") == ["100% other"]  # same shape, the other tenant's values
    assert companies(tenant, "0%") == ["100%"]
    assert companies(tenant, "100", sort="score") == ["100%", "1000"]
    # sandbox: same shape, other environment
    assert assert_ok(client.get("/v1/leads", params={"q": "0%"}, headers=tenant.sandbox_headers)) == []
    # a filter present vs absent is another shape: the status filter is not dropped
    assert companies(tenant, "100", status="qualified") == []


def test_a_cursor_is_bound_to_its_filters_sort_and_environment(
    client: TestClient, tenant: SeededTenant
) -> None:
    for _ in range(3):
        assert_ok(client.post("/v1/leads", json=lead_body(company="acme"), headers=tenant.headers), 201)
    page = client.get("/v1/leads", params={"limit": 1, "q": "acme"}, headers=tenant.headers)
    meta = page.json()["meta"]
    cursor = meta.get("nextCursor") or meta["pagination"]["nextCursor"]
    for params, headers in (
        ({"q": "other"}, tenant.headers),
        ({"q": "acme", "sort": "score"}, tenant.headers),
        ({"q": "acme"}, tenant.sandbox_headers),
    ):
        refused = client.get("/v1/leads", params={"limit": 1, "cursor": cursor, **params}, headers=headers)
        assert refused.status_code == 400, refused.text
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    refused = client.get(
        "/v1/leads", params={"limit": 1, "cursor": tampered, "q": "acme"}, headers=tenant.headers
    )
    assert refused.status_code == 400, refused.text


def test_many_distinct_invalid_keys_are_not_remembered(client: TestClient, tenant: SeededTenant) -> None:
    """KnownKeys holds only keys the database accepted: a flood of well-formed fakes adds nothing."""
    states = [o for o in gc.get_objects() if isinstance(o, AppState)]
    before = [len(state.known_keys._principals) for state in states]
    for n in range(300):
        fake = f"lp_live_sk_{n:032d}"
        assert_error(client.get("/v1/leads", headers={"X-API-Key": fake}), 401, "invalid_key")
    assert [len(state.known_keys._principals) for state in states] == before


def test_a_revoked_hinted_key_neither_spends_nor_reads_its_tenants_budget(
    limited_client: TestClient, new_tenant: Any
) -> None:
    """Before 7ba5191 a revoked key was refused in the security check: no tenant counted, no
    tenant headers. On a hint the tenant limit runs first (before principal_of refuses)."""
    client = limited_client
    tenant: SeededTenant = new_tenant("free")
    key = make_key(client, tenant.headers, scopes=["read:leads"])
    headers = {"X-API-Key": key["key"]}
    assert client.get("/v1/leads", headers=headers).status_code == 200  # now a hint
    assert_ok(client.delete(f"/v1/api-keys/{key['id']}", headers=tenant.headers))
    first = int(client.get("/v1/leads", headers=tenant.headers).headers["x-ratelimit-remaining"])
    refused = client.get("/v1/leads", headers=headers)
    assert_error(refused, 401, "invalid_key")
    after = int(client.get("/v1/leads", headers=tenant.headers).headers["x-ratelimit-remaining"])
    leaked = {k: v for k, v in refused.headers.items() if "ratelimit" in k}
    assert after == first - 1, f"the revoked key's request was counted against the tenant; {leaked}"
    assert '"free"' not in refused.headers.get("ratelimit-policy", ""), leaked


def test_a_revoked_hinted_key_on_a_tenant_over_budget_is_401_not_429(
    limited_client: TestClient, new_tenant: Any
) -> None:
    client = limited_client
    tenant: SeededTenant = new_tenant("free")
    key = make_key(client, tenant.headers, scopes=["read:leads"])
    headers = {"X-API-Key": key["key"]}
    assert client.get("/v1/leads", headers=headers).status_code == 200
    assert_ok(client.delete(f"/v1/api-keys/{key['id']}", headers=tenant.headers))
    while client.get("/v1/leads", headers=tenant.headers).status_code != 429:
        pass
    assert_error(client.get("/v1/leads", headers=headers), 401, "invalid_key")


@pytest.mark.slow
def test_across_servers_a_key_stopped_elsewhere_gets_no_replay_export_or_webhook_change(
    tmp_path: Path,
) -> None:
    with two_servers(tmp_path) as pair:
        a, b, made = pair.a, pair.b, pair.tenant
        owner = {"X-API-Key": made["apiKey"]}
        cli_revoked = make_key(a, owner, scopes=ALL)
        rotated = make_key(a, owner, scopes=ALL)
        hook = {"url": "https://example.com/h", "events": ["*"]}
        for key in (cli_revoked, rotated):
            h = {"X-API-Key": key["key"], "Idempotency-Key": f"k-{key['id']}"}
            assert (
                b.post("/v1/leads", json=lead_body(email=f"{key['id']}@example.com"), headers=h).status_code
                == 201
            )
            assert b.get("/v1/leads/export", headers=h).status_code == 200
        endpoint = assert_ok(a.post("/v1/webhook-endpoints", json=hook, headers=owner), 201)
        endpoint_id = endpoint["endpoint"]["id"] if "endpoint" in endpoint else endpoint["id"]

        done = run_cli(
            "key", "revoke", made["tenantId"], cli_revoked["id"], LEADPIPE_DATABASE_URL=pair.database_url
        )
        assert done.returncode == 0, done.stderr
        assert_ok(a.post(f"/v1/api-keys/{rotated['id']}/rotate", json={}, headers=owner))
        for key in (cli_revoked, rotated):
            h = {"X-API-Key": key["key"], "Idempotency-Key": f"k-{key['id']}"}
            replay = b.post("/v1/leads", json=lead_body(email=f"{key['id']}@example.com"), headers=h)
            assert "idempotent-replayed" not in replay.headers
            assert_error(replay, 401, "invalid_key")
            assert_error(b.get("/v1/leads/export", headers=h), 401, "invalid_key")
            patched = b.patch(
                f"/v1/webhook-endpoints/{endpoint_id}",
                json={"url": "https://evil.example.com/x"},
                headers=h,
            )
            assert_error(patched, 401, "invalid_key")
        shown = assert_ok(a.get(f"/v1/webhook-endpoints/{endpoint_id}", headers=owner))
        assert "evil" not in str(shown)
    assert pair.errors() == ""


def test_a_revoked_hinted_keys_401_is_not_logged_as_its_tenants_request(
    client: TestClient, tenant: SeededTenant, caplog: pytest.LogCaptureFixture
) -> None:
    """Before 7ba5191 the access line of a revoked key's 401 named no tenant and no key."""
    headers, key = _known(client, ["read:leads"], tenant)
    assert_ok(client.delete(f"/v1/api-keys/{key['id']}", headers=tenant.headers))
    with caplog.at_level(logging.INFO, logger=access_log.name):
        assert_error(client.get("/v1/leads", headers=headers), 401, "invalid_key")
    lines = [r for r in caplog.records if r.name == access_log.name and getattr(r, "status", None) == 401]
    assert lines and all(
        getattr(r, "keyId", None) is None and getattr(r, "tenantId", None) is None for r in lines
    ), [(getattr(r, "tenantId", None), getattr(r, "keyId", None)) for r in lines]


def test_a_plan_change_governs_the_very_next_request_of_a_hinted_key(
    limited_client: TestClient, new_tenant: Any
) -> None:
    """A downgrade from pro to free: the next request is counted and answered under free."""
    client = limited_client
    tenant: SeededTenant = new_tenant("pro")
    headers = tenant.headers
    assert client.get("/v1/leads", headers=headers).headers["x-ratelimit-limit"] == "1000"
    Tenant.update(plan="free").where(Tenant.id == tenant.id).execute()  # as `leadpipe tenant plan` would
    nxt = client.get("/v1/leads", headers=headers)
    assert nxt.headers["x-ratelimit-limit"] == "60", dict(nxt.headers)


@pytest.mark.slow
def test_concurrent_requests_on_hinted_keys_around_a_revocation(tmp_path: Path) -> None:
    """KnownKeys is filled on the loop and forgotten from handler threads: under a burst of
    concurrent requests the revoked key is 401 every time, the others are served, no 500."""
    with own_database(tmp_path) as url, serving(tmp_path, LEADPIPE_DATABASE_URL=url) as server:
        made = create_tenant(url, plan="enterprise")
        owner = {"X-API-Key": made["apiKey"]}
        with httpx.Client(base_url=server.base) as http:
            keys = [make_key(http, owner, scopes=["read:leads", "write:leads"]) for _ in range(4)]
            for key in keys:
                assert http.get("/v1/leads", headers={"X-API-Key": key["key"]}).status_code == 200
            assert_ok(http.delete(f"/v1/api-keys/{keys[0]['id']}", headers=owner))

        def call(key: dict[str, Any], write: bool) -> Any:
            h = {"X-API-Key": key["key"]}
            if write:
                return lambda c: c.post("/v1/leads", json=lead_body(), headers=h)
            return lambda c: c.get("/v1/leads", headers=h)

        calls = [call(keys[i % 4], bool(i % 3 == 0)) for i in range(24)]
        answers = race(server.base, calls)
        for i, answer in enumerate(answers):
            assert answer.status_code == (401 if i % 4 == 0 else (201 if i % 3 == 0 else 200)), answer.text
    assert server.errors() == ""
