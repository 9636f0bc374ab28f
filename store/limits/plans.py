"""What each plan allows: request rates, lead quotas, and changing a tenant's plan.

The numbers are product rules (DESIGN.md's plan table), so they live in the store next to the
data they guard; the HTTP layer only asks "what applies to this caller?".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from store.access.principals import PLANS, Principal
from store.db import reading, transaction
from store.errors import FieldError, NotFound, QuotaExceeded, ValidationFailed
from store.limits import quotas as lead_counts
from store.models import Tenant

# requests per minute, burst. Enterprise has no fixed numbers: these apply until
# `leadpipe tenant set-plan ID --plan enterprise --limit N --burst M` sets the tenant's own.
RATE_LIMITS: dict[str, tuple[int, int]] = {
    "free": (60, 10),
    "starter": (300, 30),
    "pro": (1_000, 100),
    "team": (5_000, 500),
    "enterprise": (10_000, 1_000),
}
# A `high` key gets this many times its plan's limit and burst, in a budget of its own, so a
# batch integration cannot starve the tenant's interactive keys (nor they it).
HIGH_TIER_FACTOR = 3
# Leads per tenant and environment (sandbox data never eats the live quota). None: no cap.
LEAD_QUOTAS: dict[str, int | None] = {
    "free": 1_000,
    "starter": 25_000,
    "pro": 250_000,
    "team": 2_000_000,
    "enterprise": None,
}
MAX_CUSTOM_LIMIT = 1_000_000


@dataclass(frozen=True)
class RateLimit:
    """The budget a request is counted against: ``bucket`` names the counter."""

    bucket: str
    limit: int
    burst: int


def rate_limit_for(
    principal: Principal, overrides: Mapping[str, tuple[int, int]] | None = None
) -> RateLimit | None:
    """The tenant budget for this caller, or None when it is exempt (`unmetered`, enterprise only).

    ``overrides`` (plan -> (limit, burst)) lets an operator retune the plan table by setting.
    """
    tier = principal.rate_limit_tier
    if tier == "unmetered" and principal.plan == "enterprise":
        return None
    limit, burst = plan_rate(principal.plan, principal.rate_limit, principal.rate_burst, overrides)
    if tier == "high":
        return RateLimit("high", limit * HIGH_TIER_FACTOR, burst * HIGH_TIER_FACTOR)
    return RateLimit("standard", limit, burst)


def plan_rate(
    plan: str,
    custom_limit: int | None,
    custom_burst: int | None,
    overrides: Mapping[str, tuple[int, int]] | None = None,
) -> tuple[int, int]:
    """A tenant's standard (requests/minute, burst): its own enterprise limits, else the
    operator's override of its plan, else the plan table. The middleware and the CLI both ask here."""
    limit, burst = (overrides or {}).get(plan) or RATE_LIMITS.get(plan, RATE_LIMITS["free"])
    if plan == "enterprise" and custom_limit:
        limit, burst = custom_limit, min(custom_limit, custom_burst or custom_limit // 10 or 1)
    return limit, burst


def _count_leads(tenant_id: str, environment: str) -> int:
    return lead_counts.current(tenant_id, environment)


def reserve_leads(caller: Principal, adding: int = 1) -> None:
    """Count ``adding`` new leads against the plan's quota, or raise `QuotaExceeded`.

    Call inside the transaction that inserts them: the check and the increment are one
    conditional UPDATE of the counter row (`lead_counts.reserve`), so concurrent creates on
    PostgreSQL cannot overshoot, and a rolled-back create gives its room back.
    """
    quota = LEAD_QUOTAS.get(caller.plan)
    if not lead_counts.reserve(caller.tenant_id, caller.environment, adding, quota):
        raise QuotaExceeded(
            f"The {caller.plan} plan allows {quota} leads per environment; upgrade to add more"
        )


@dataclass(frozen=True)
class TenantUsage:
    tenant: Tenant
    lead_count: int
    lead_quota: int | None


@reading
def tenant_usage(caller: Principal) -> TenantUsage:
    tenant = Tenant.get_or_none(Tenant.id == caller.tenant_id)
    if tenant is None:
        raise NotFound("Tenant not found")
    return TenantUsage(
        tenant, _count_leads(caller.tenant_id, caller.environment), LEAD_QUOTAS.get(tenant.plan)
    )


@transaction
def set_plan(tenant_id: str, plan: str, *, limit: int | None = None, burst: int | None = None) -> Tenant:
    """Change a tenant's plan; custom limits are for enterprise only and cleared otherwise."""
    errors: list[FieldError] = []
    if plan not in PLANS:
        errors.append(FieldError("plan", f"Must be one of {', '.join(PLANS)}"))
    if (limit is not None or burst is not None) and plan != "enterprise":
        errors.append(FieldError("limit", "Custom limits are available on the enterprise plan only"))
    if burst is not None and limit is None:
        errors.append(FieldError("burst", "Give --limit with --burst"))
    for name, value in (("limit", limit), ("burst", burst)):
        if value is not None and not 1 <= value <= MAX_CUSTOM_LIMIT:
            errors.append(FieldError(name, f"Must be between 1 and {MAX_CUSTOM_LIMIT}"))
    if limit is not None and burst is not None and burst > limit:
        errors.append(FieldError("burst", "Must not exceed the limit"))
    if errors:
        raise ValidationFailed(errors)
    tenant = Tenant.get_or_none(Tenant.id == tenant_id)
    if tenant is None:
        raise NotFound("Tenant not found")
    tenant.plan = plan
    # Without --burst, a tenth of the limit: the ratio of every plan in the table.
    tenant.rate_limit = limit
    tenant.rate_burst = None if limit is None else (burst or max(1, limit // 10))
    tenant.save()
    return tenant
