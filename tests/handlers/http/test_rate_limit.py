"""Rate limits through the real app: per tenant by plan and key tier, per client IP, headers.

These tests build their own app with the real plan table (the suite's shared app lifts the
pro/enterprise and per-IP limits), once over in-process counters and once over Redis. Every
test uses fresh tenants and its own client IP, so no two tests share a budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from handlers.settings import Settings
from store.keys import api_keys
from store.limits import plans
from tests.ratelimit_support import BACKENDS, backend_url, client_for, limited_app, require_redis
from tests.support import SeededTenant, assert_error, principal

RATE_HEADERS = (
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "ratelimit-policy",
    "ratelimit",
)


@pytest.fixture(params=BACKENDS)
def real_app(request: pytest.FixtureRequest, app: Any, settings: Settings) -> Iterator[Any]:
    with limited_app(settings, backend_url(request.param)) as limited:
        yield limited


def test_a_free_tenant_is_limited_within_its_burst_and_a_pro_tenant_is_not(
    real_app: Any, new_tenant: Any
) -> None:
    free, pro = new_tenant("free"), new_tenant("pro")
    client = client_for(real_app)

    allowed = [client.get("/v1/leads", headers=free.headers) for _ in range(10)]
    refused = client.get("/v1/leads", headers=free.headers)
    beside = client.get("/v1/leads", headers=pro.headers)

    assert [r.status_code for r in allowed] == [200] * 10
    assert [int(r.headers["x-ratelimit-remaining"]) for r in allowed] == list(range(9, -1, -1))
    assert {r.headers["x-ratelimit-limit"] for r in allowed} == {"60"}
    body = assert_error(refused, 429, "rate_limited")
    assert 0 < body["retryAfterMs"] <= 10_000
    assert 1 <= int(refused.headers["retry-after"]) <= 10
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert refused.headers["ratelimit-policy"] == '"free";q=60;w=60, "free-burst";q=10;w=10'
    assert beside.status_code == 200
    assert (beside.headers["x-ratelimit-limit"], beside.headers["x-ratelimit-remaining"]) == ("1000", "99")


def test_every_authenticated_response_carries_the_headers_errors_included(
    real_app: Any, new_tenant: Any
) -> None:
    tenant: SeededTenant = new_tenant("starter")
    client = client_for(real_app)

    responses = [
        client.get("/v1/leads", headers=tenant.headers),
        client.get("/v1/leads/0000000000000000", headers=tenant.headers),  # 404
        client.post("/v1/leads", json={"email": "nope"}, headers=tenant.headers),  # 422
        client.get("/v1/leads", params={"cursor": "tampered"}, headers=tenant.headers),  # 400
    ]

    assert [r.status_code for r in responses] == [200, 404, 422, 400]
    for response in responses:
        assert all(name in response.headers for name in RATE_HEADERS), response.headers
        assert response.headers["x-ratelimit-limit"] == "300"
    assert [int(r.headers["x-ratelimit-remaining"]) for r in responses] == [29, 28, 27, 26]


def test_unauthenticated_calls_count_against_the_client_ip(app: Any, settings: Settings) -> None:
    with limited_app(settings, "memory://", rate_limit_per_ip=(60, 5)) as limited:
        flooding, bystander = client_for(limited), client_for(limited)
        bad = {"X-API-Key": "lp_live_sk_" + "x" * 32}

        attempts = [flooding.get("/v1/leads", headers=bad) for _ in range(6)]
        health = flooding.get("/v1/health")
        other = bystander.get("/v1/leads", headers=bad)

    assert [r.status_code for r in attempts] == [401] * 5 + [429]
    assert attempts[0].headers["x-ratelimit-limit"] == "60"
    assert attempts[0].headers["ratelimit-policy"] == '"ip";q=60;w=60, "ip-burst";q=5;w=5'
    assert_error(attempts[-1], 429, "rate_limited")
    assert health.status_code == 200 and "x-ratelimit-limit" not in health.headers
    assert other.status_code == 401


def test_a_high_tier_key_gets_a_larger_budget_of_its_own(real_app: Any, new_tenant: Any) -> None:
    tenant: SeededTenant = new_tenant("free")
    high = api_keys.create_key(
        principal(tenant.live_key), name="batch", scopes=["read:leads"], rate_limit_tier="high"
    ).plaintext
    client = client_for(real_app)

    for _ in range(10):
        client.get("/v1/leads", headers=tenant.headers)
    standard_refused = client.get("/v1/leads", headers=tenant.headers)
    high_calls = [client.get("/v1/leads", headers={"X-API-Key": high}) for _ in range(30)]
    high_refused = client.get("/v1/leads", headers={"X-API-Key": high})

    assert standard_refused.status_code == 429
    assert [r.status_code for r in high_calls] == [200] * 30
    assert high_calls[0].headers["x-ratelimit-limit"] == str(60 * plans.HIGH_TIER_FACTOR)
    assert high_refused.status_code == 429


def test_enterprise_custom_limits_apply_at_once_and_unmetered_keys_are_exempt(
    real_app: Any, new_tenant: Any
) -> None:
    tenant: SeededTenant = new_tenant("enterprise")
    unmetered = api_keys.create_key(
        principal(tenant.live_key), name="firehose", scopes=["read:leads"], rate_limit_tier="unmetered"
    ).plaintext
    plans.set_plan(tenant.id, "enterprise", limit=120, burst=3)
    client = client_for(real_app)

    metered = [client.get("/v1/leads", headers=tenant.headers) for _ in range(4)]
    exempt = [client.get("/v1/leads", headers={"X-API-Key": unmetered}) for _ in range(20)]

    assert [r.status_code for r in metered] == [200, 200, 200, 429]
    assert metered[0].headers["x-ratelimit-limit"] == "120"
    assert metered[0].headers["ratelimit-policy"] == '"enterprise";q=120;w=60, "enterprise-burst";q=3;w=2'
    assert [r.status_code for r in exempt] == [200] * 20
    assert exempt[0].headers["x-ratelimit-limit"] != "120"  # only the per-IP budget applies


def test_an_unmetered_key_on_a_non_enterprise_tenant_is_metered(real_app: Any, new_tenant: Any) -> None:
    tenant: SeededTenant = new_tenant("enterprise")
    key = api_keys.create_key(
        principal(tenant.live_key), name="was-unmetered", scopes=["read:leads"], rate_limit_tier="unmetered"
    ).plaintext
    plans.set_plan(tenant.id, "free")
    client = client_for(real_app)

    statuses = [client.get("/v1/leads", headers={"X-API-Key": key}).status_code for _ in range(11)]

    assert statuses == [200] * 10 + [429]


def test_two_app_instances_on_one_redis_share_the_tenant_budget(
    app: Any, settings: Settings, new_tenant: Any
) -> None:
    """Two workers of one deployment: a tenant alternating between them has one budget."""
    url = require_redis()
    tenant: SeededTenant = new_tenant("free")
    with limited_app(settings, url) as worker_a, limited_app(settings, url) as worker_b:
        clients = [client_for(worker_a), client_for(worker_b)]
        statuses = [clients[i % 2].get("/v1/leads", headers=tenant.headers).status_code for i in range(11)]

    assert statuses == [200] * 10 + [429]


def test_a_recognised_key_refused_for_a_scope_still_counts_and_gets_the_headers(
    real_app: Any, new_tenant: Any
) -> None:
    tenant: SeededTenant = new_tenant("free")
    reader = api_keys.create_key(principal(tenant.live_key), name="reader", scopes=["read:leads"]).plaintext
    client = client_for(real_app)

    refused = [client.post("/v1/leads", json={}, headers={"X-API-Key": reader}) for _ in range(10)]
    limited = client.get("/v1/leads", headers=tenant.headers)

    assert [r.status_code for r in refused] == [403] * 10
    assert [int(r.headers["x-ratelimit-remaining"]) for r in refused] == list(range(9, -1, -1))
    assert refused[0].headers["x-ratelimit-limit"] == "60"
    assert_error(limited, 429, "rate_limited")
