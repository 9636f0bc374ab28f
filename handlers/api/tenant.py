"""``GET /v1/tenant``: the caller's tenant, its plan, the limits that apply and how much is used."""

from __future__ import annotations

import datetime as dt
from typing import Any

from handlers.http import envelope
from handlers.http.context import app_state
from handlers.http.envelope import timestamp
from handlers.http.limiter import Policy, Verdict
from handlers.http.rate_limit import tenant_identifiers, tenant_policy
from handlers.http.security import principal_of
from store.access.principals import Principal
from store.limits import plans


def get_tenant(token_info: dict[str, Any]) -> envelope.Reply:
    caller = principal_of(token_info)
    usage = plans.tenant_usage(caller)
    policy, verdict = _rate_state(caller)
    return envelope.ok(_present(caller, usage, policy, verdict))


def _rate_state(caller: Principal) -> tuple[Policy | None, Verdict | None]:
    """The budget this key is counted against and its state now (this request included)."""
    state = app_state()
    policy = tenant_policy(caller, state.settings.rate_limit_overrides)
    if policy is None or state.limiter is None:
        return policy, None
    return policy, state.limiter.peek(policy, *tenant_identifiers(caller))


def _present(
    caller: Principal, usage: plans.TenantUsage, policy: Policy | None, verdict: Verdict | None
) -> dict[str, Any]:
    tenant, quota = usage.tenant, usage.lead_quota
    rate_limit = None
    if policy is not None:
        rate_limit = {
            "requestsPerMinute": policy.limit,
            "burst": policy.burst,
            "burstWindowSeconds": policy.burst_window,
        }
    rate_usage = None
    if verdict is not None:
        reset_at = dt.datetime.fromtimestamp(verdict.reset_at, dt.UTC)
        rate_usage = {"remaining": verdict.remaining, "resetAt": timestamp(reset_at)}
    return {
        "id": tenant.id,
        "name": tenant.name,
        "plan": tenant.plan,
        "environment": caller.environment,
        "createdAt": timestamp(tenant.created_at),
        "limits": {
            "rateLimitTier": caller.rate_limit_tier,
            "rateLimit": rate_limit,
            "customRateLimit": tenant.rate_limit is not None,
            "leadQuota": quota,
            "maxBodyBytes": app_state().settings.max_body_bytes,
        },
        "usage": {
            "leads": usage.lead_count,
            "leadsRemaining": None if quota is None else max(0, quota - usage.lead_count),
            "rateLimit": rate_usage,
        },
    }
