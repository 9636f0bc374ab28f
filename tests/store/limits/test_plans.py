"""Plan rules: which budget a caller is counted against, lead quotas, changing plans."""

from __future__ import annotations

import dataclasses

import pytest

from store.access.principals import Principal
from store.errors import NotFound, QuotaExceeded, ValidationFailed
from store.leads import lifecycle as leads
from store.limits import plans
from store.models import Tenant
from tests.support import SeededTenant, principal

CALLER = Principal(
    tenant_id="t",
    plan="free",
    environment="live",
    scopes=frozenset(),
    actor_type="api_key",
    actor_id="k",
    api_key_id="k",
    user_id=None,
)


@pytest.mark.parametrize(
    ("plan", "tier", "custom", "expected"),
    [
        ("free", "standard", None, ("standard", 60, 10)),
        ("starter", "standard", None, ("standard", 300, 30)),
        ("pro", "standard", None, ("standard", 1_000, 100)),
        ("team", "standard", None, ("standard", 5_000, 500)),
        ("enterprise", "standard", None, ("standard", 10_000, 1_000)),
        ("free", "high", None, ("high", 180, 30)),
        ("enterprise", "standard", (120, 12), ("standard", 120, 12)),
        ("enterprise", "high", (120, 12), ("high", 360, 36)),
        ("enterprise", "unmetered", None, None),
        ("pro", "unmetered", None, ("standard", 1_000, 100)),  # unmetered is enterprise-only
        ("pro", "standard", (120, 12), ("standard", 1_000, 100)),  # custom limits are enterprise-only
    ],
)
def test_rate_limit_for(plan: str, tier: str, custom: tuple[int, int] | None, expected: tuple | None) -> None:
    limit, burst = custom or (None, None)
    caller = dataclasses.replace(CALLER, plan=plan, rate_limit_tier=tier, rate_limit=limit, rate_burst=burst)

    budget = plans.rate_limit_for(caller)

    assert (None if budget is None else (budget.bucket, budget.limit, budget.burst)) == expected


def test_operator_overrides_retune_a_plan() -> None:
    budget = plans.rate_limit_for(CALLER, {"free": (120, 20)})

    assert budget is not None and (budget.limit, budget.burst) == (120, 20)


def test_set_plan_stores_custom_limits_for_enterprise_only(tenant: SeededTenant) -> None:
    plans.set_plan(tenant.id, "enterprise", limit=500)
    assert (Tenant.get_by_id(tenant.id).rate_limit, Tenant.get_by_id(tenant.id).rate_burst) == (500, 50)
    assert principal(tenant.live_key).rate_limit == 500

    plans.set_plan(tenant.id, "team")
    row = Tenant.get_by_id(tenant.id)
    assert (row.plan, row.rate_limit, row.rate_burst) == ("team", None, None)


@pytest.mark.parametrize(
    ("plan", "limit", "burst", "field"),
    [
        ("pro", 100, None, "limit"),
        ("gold", None, None, "plan"),
        ("enterprise", None, 10, "burst"),
        ("enterprise", 0, None, "limit"),
        ("enterprise", 100, 101, "burst"),
    ],
)
def test_set_plan_rejects(
    tenant: SeededTenant, plan: str, limit: int | None, burst: int | None, field: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        plans.set_plan(tenant.id, plan, limit=limit, burst=burst)

    assert field in {e.field for e in raised.value.errors}
    assert Tenant.get_by_id(tenant.id).plan == tenant.plan


def test_set_plan_on_an_unknown_tenant() -> None:
    with pytest.raises(NotFound):
        plans.set_plan("nosuchtenant0000", "pro")


def test_the_lead_quota_is_per_environment(new_tenant: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(plans.LEAD_QUOTAS, "free", 2)
    tenant: SeededTenant = new_tenant("free")  # type: ignore[operator]
    live, sandbox = principal(tenant.live_key), principal(tenant.sandbox_key)
    fields = {"email": "a@example.com", "first_name": "A", "last_name": "B"}

    leads.create_lead(live, dict(fields))
    leads.create_lead(live, dict(fields))
    with pytest.raises(QuotaExceeded):
        leads.create_lead(live, dict(fields))
    leads.create_lead(sandbox, dict(fields))

    usage = plans.tenant_usage(live)
    assert (usage.lead_count, usage.lead_quota) == (2, 2)
