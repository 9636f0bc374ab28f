"""The tenant rate limit of a key checked on a hint (`handlers.http.credentials`), over both
counter back ends: counted once confirmed, never on the hint alone, on every path the request
can take (a sync handler, an async one, a refusal before any handler).

`TenantRateLimit` defers a hinted principal to `principal_of` (or `stopped_credential` when
validation refuses first); these pin what the middleware used to answer on those paths."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from handlers.settings import Settings
from tests.ratelimit_support import BACKENDS, backend_url, client_for, limited_app
from tests.support import SeededTenant, assert_error, assert_ok, make_key


@pytest.fixture(params=BACKENDS)
def real_app(request: pytest.FixtureRequest, app: Any, settings: Settings) -> Iterator[Any]:
    with limited_app(settings, backend_url(request.param)) as limited:
        yield limited


def _hinted(client: TestClient, tenant: SeededTenant, scopes: list[str]) -> tuple[dict[str, str], str]:
    key = make_key(client, tenant.headers, scopes=scopes)
    headers = {"X-API-Key": key["key"]}
    assert client.get("/v1/leads", headers=headers).status_code == 200  # the app now holds a hint
    return headers, key["id"]


def _remaining(client: TestClient, tenant: SeededTenant) -> int:
    return int(client.get("/v1/leads", headers=tenant.headers).headers["x-ratelimit-remaining"])


def test_a_hinted_keys_bad_body_counts_and_shows_its_tenants_budget(real_app: Any, new_tenant: Any) -> None:
    """Refused by validation before any handler: `stopped_credential` confirms and counts it."""
    client = client_for(real_app)
    tenant: SeededTenant = new_tenant("free")
    headers, _ = _hinted(client, tenant, ["read:leads", "write:leads"])
    before = _remaining(client, tenant)
    refused = client.post("/v1/leads", json={"email": "nope"}, headers=headers)
    assert_error(refused, 422, "validation_error")
    assert refused.headers["x-ratelimit-remaining"] == str(before - 1)
    assert refused.headers["ratelimit-policy"].startswith('"free"')
    assert _remaining(client, tenant) == before - 2


def test_a_hinted_keys_bad_body_on_a_tenant_over_budget_is_429(real_app: Any, new_tenant: Any) -> None:
    """As when `TenantRateLimit` counted before validation: the 429, not the 422."""
    client = client_for(real_app)
    tenant: SeededTenant = new_tenant("free")
    headers, _ = _hinted(client, tenant, ["read:leads", "write:leads"])
    while client.get("/v1/leads", headers=tenant.headers).status_code != 429:
        pass
    refused = client.post("/v1/leads", json={"email": "nope"}, headers=headers)
    body = assert_error(refused, 429, "rate_limited")
    assert body["retryAfterMs"] > 0 and int(refused.headers["retry-after"]) >= 1
    assert refused.headers["x-ratelimit-remaining"] == "0"


def test_a_revoked_hinted_keys_bad_body_is_401_and_uncounted(real_app: Any, new_tenant: Any) -> None:
    client = client_for(real_app)
    tenant: SeededTenant = new_tenant("free")
    headers, key_id = _hinted(client, tenant, ["read:leads", "write:leads"])
    assert_ok(client.delete(f"/v1/api-keys/{key_id}", headers=tenant.headers))
    before = _remaining(client, tenant)
    refused = client.post("/v1/leads", json={"email": "nope"}, headers=headers)
    assert_error(refused, 401, "invalid_key")
    assert '"free"' not in refused.headers.get("ratelimit-policy", ""), dict(refused.headers)
    assert _remaining(client, tenant) == before - 1  # only the probe itself


def test_an_async_handler_counts_a_hinted_key_once_and_a_revoked_one_not(
    real_app: Any, new_tenant: Any
) -> None:
    """The import handler confirms through `principal_of_async` (its worker thread)."""
    client = client_for(real_app)
    tenant: SeededTenant = new_tenant("free")
    headers, key_id = _hinted(client, tenant, ["read:leads", "write:leads"])
    csv = {**headers, "Content-Type": "text/csv"}
    before = _remaining(client, tenant)
    accepted = client.post(
        "/v1/leads/import", content="email,firstName,lastName\nx@example.com,X,Y\n", headers=csv
    )
    assert accepted.status_code in (200, 201, 202), accepted.text
    assert accepted.headers["x-ratelimit-remaining"] == str(before - 1)
    assert_ok(client.delete(f"/v1/api-keys/{key_id}", headers=tenant.headers))
    before = _remaining(client, tenant)
    refused = client.post(
        "/v1/leads/import", content="email,firstName,lastName\ny@example.com,X,Y\n", headers=csv
    )
    assert_error(refused, 401, "invalid_key")
    assert '"free"' not in refused.headers.get("ratelimit-policy", "")
    assert _remaining(client, tenant) == before - 1
