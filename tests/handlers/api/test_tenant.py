"""GET /v1/tenant and the lead quota over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from store.keys import api_keys
from store.limits import plans
from tests.support import SeededTenant, assert_error, lead_body, principal


def test_any_valid_key_sees_its_tenant_plan_limits_and_usage(client: TestClient, new_tenant: Any) -> None:
    tenant: SeededTenant = new_tenant("starter")
    reader = api_keys.create_key(principal(tenant.live_key), name="reader", scopes=["read:leads"]).plaintext
    client.post("/v1/leads", json=lead_body(), headers=tenant.headers)

    response = client.get("/v1/tenant", headers={"Authorization": f"Bearer {reader}"})

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["id"], data["plan"], data["environment"]) == (tenant.id, "starter", "live")
    assert data["limits"]["rateLimit"] == {"requestsPerMinute": 300, "burst": 30, "burstWindowSeconds": 6}
    assert data["limits"]["rateLimitTier"] == "standard"
    assert (data["limits"]["leadQuota"], data["limits"]["customRateLimit"]) == (
        plans.LEAD_QUOTAS["starter"],
        False,
    )
    assert data["usage"]["leads"] == 1
    assert data["usage"]["leadsRemaining"] == plans.LEAD_QUOTAS["starter"] - 1
    assert data["usage"]["rateLimit"]["remaining"] == int(response.headers["x-ratelimit-remaining"])


def test_sandbox_usage_counts_sandbox_leads(client: TestClient, tenant: SeededTenant) -> None:
    client.post("/v1/leads", json=lead_body(), headers=tenant.headers)

    data = client.get("/v1/tenant", headers=tenant.sandbox_headers).json()["data"]

    assert (data["environment"], data["usage"]["leads"]) == ("sandbox", 0)


def test_enterprise_custom_limits_and_unmetered_keys_show(client: TestClient, new_tenant: Any) -> None:
    tenant: SeededTenant = new_tenant("enterprise")
    plans.set_plan(tenant.id, "enterprise", limit=2_400, burst=240)
    unmetered = api_keys.create_key(
        principal(tenant.live_key), name="firehose", scopes=["read:leads"], rate_limit_tier="unmetered"
    ).plaintext

    custom = client.get("/v1/tenant", headers=tenant.headers).json()["data"]
    exempt = client.get("/v1/tenant", headers={"X-API-Key": unmetered}).json()["data"]

    assert custom["limits"]["customRateLimit"] is True
    assert custom["limits"]["rateLimit"]["requestsPerMinute"] == 2_400
    assert custom["limits"]["leadQuota"] is None and custom["usage"]["leadsRemaining"] is None
    assert exempt["limits"]["rateLimit"] is None and exempt["usage"]["rateLimit"] is None


def test_tenant_needs_a_valid_key(client: TestClient) -> None:
    assert_error(client.get("/v1/tenant"), 401, "auth_required")
    assert_error(
        client.get("/v1/tenant", headers={"X-API-Key": "lp_live_sk_" + "0" * 32}), 401, "invalid_key"
    )


def test_crossing_the_lead_quota_is_quota_exceeded(
    client: TestClient, new_tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(plans.LEAD_QUOTAS, "free", 1)
    tenant: SeededTenant = new_tenant("free")

    first = client.post("/v1/leads", json=lead_body(), headers=tenant.headers)
    second = client.post("/v1/leads", json=lead_body(), headers=tenant.headers)

    assert first.status_code == 201
    body = assert_error(second, 403, "quota_exceeded")
    assert "free" in body["message"]
    assert client.get("/v1/tenant", headers=tenant.headers).json()["data"]["usage"]["leadsRemaining"] == 0
