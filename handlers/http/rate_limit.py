"""Rate limiting as ASGI middleware: per client IP before authentication, per tenant after it.

Three pieces, because Connexion's layers each see a different part of the request:

- `RateLimitHeaders` sits outside the exception handling (like `RequestContext`), so the
  headers reach every response, error envelopes and 429s included. It only *writes* the
  verdict the inner pieces left in a per-request slot of the ASGI scope.
- `IpRateLimit` sits before security: a flood of bad keys is refused before any key lookup
  touches the database. Operations declared with ``security: []`` (health, readiness) are
  not counted.
- `TenantRateLimit` sits after security, where Connexion has put our security function's
  ``token_info`` (with its `Principal`) in the request context; the budget follows the plan,
  the tenant's own enterprise limits and the key's ``rateLimitTier``.

Refusals raise `store.errors.RateLimited`, which `handlers.http.errors` turns into the 429 envelope
with ``retryAfterMs`` and ``Retry-After``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handlers.http.limiter import Limiter, Policy, Verdict
from store.access.principals import Principal
from store.errors import RateLimited
from store.limits.plans import rate_limit_for

SLOT = "leadpipe.ratelimit"
PRINCIPAL = "leadpipe.principal"
HEADER_NAMES = {
    b"x-ratelimit-limit",
    b"x-ratelimit-remaining",
    b"x-ratelimit-reset",
    b"ratelimit-policy",
    b"ratelimit",
}


@dataclass
class _Slot:
    ip: Verdict | None = None
    tenant: Verdict | None = None

    @property
    def shown(self) -> Verdict | None:
        """A refusal explains itself; otherwise the tenant's budget is the one clients plan by."""
        for verdict in (self.ip, self.tenant):
            if verdict is not None and not verdict.allowed:
                return verdict
        return self.tenant or self.ip


def show_verdicts(scope: Scope, *, ip: Verdict | None, tenant: Verdict | None) -> None:
    """Let `RateLimitHeaders` report budgets counted outside these middlewares (public capture
    counts its own per-IP and per-key budgets in the handler). ``tenant`` None keeps the one
    already counted."""
    slot = _slot(scope)
    if slot is not None:
        slot.ip, slot.tenant = ip, tenant or slot.tenant


def _slot(scope: Scope) -> _Slot | None:
    slot = scope.get(SLOT)
    return slot if isinstance(slot, _Slot) else None


def _refuse(verdict: Verdict, who: str) -> RateLimited:
    return RateLimited(
        f"Rate limit exceeded for this {who} ({verdict.policy.limit} requests/minute, burst "
        f"{verdict.policy.burst}); retry after {verdict.retry_after_ms} ms",
        verdict.retry_after_ms,
        "ip" if who == "client IP" else "tenant",
    )


class RateLimitHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        slot = _Slot()
        scope[SLOT] = slot

        async def send_with_limits(message: Message) -> None:
            verdict = slot.shown
            if message["type"] == "http.response.start" and verdict is not None:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in HEADER_NAMES]
                message["headers"] = [*headers, *verdict.headers()]
            await send(message)

        await self.app(scope, receive, send_with_limits)


def _operation_name(scope: Scope) -> str:
    routing = scope.get("extensions", {}).get("connexion_routing", {})
    return str(routing.get("operation_id") or "").rpartition(".")[2]


class IpRateLimit:
    """Counts per client IP before authentication; also the budget of callers refused *by*
    authentication after their key was recognised (a 403 for a missing scope): they count
    against their tenant and get its headers, though Connexion never reached `TenantRateLimit`."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: Limiter,
        policy: Policy | None,
        public_operations: set[str],
        overrides: dict[str, tuple[int, int]],
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.policy = policy
        self.public = public_operations
        self.overrides = overrides

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        slot = _slot(scope)
        name = _operation_name(scope) if scope["type"] == "http" else ""
        if slot is None or not name or name in self.public:
            await self.app(scope, receive, send)
            return
        if self.policy is not None:
            client = scope.get("client")
            slot.ip = await self.limiter.hit_async(self.policy, "ip", client[0] if client else "unknown")
            if not slot.ip.allowed:
                raise _refuse(slot.ip, "client IP")
        try:
            await self.app(scope, receive, send)
        except Exception:
            known = scope.get(PRINCIPAL)
            if slot.tenant is None and isinstance(known, Principal):
                await count_tenant(self.limiter, self.overrides, known, slot)
            raise


def note_principal(request: Any, principal: Principal) -> None:
    """For the security functions: who was recognised, even if the request is then refused."""
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict):
        scope[PRINCIPAL] = principal


def _principal(scope: Scope) -> Principal | None:
    context = scope.get("extensions", {}).get("connexion_context", {})
    token_info = context.get("token_info") if isinstance(context, dict) else None
    principal = token_info.get("principal") if isinstance(token_info, dict) else None
    return principal if isinstance(principal, Principal) else None


async def count_tenant(
    limiter: Limiter, overrides: dict[str, tuple[int, int]], principal: Principal, slot: _Slot
) -> Verdict | None:
    policy = tenant_policy(principal, overrides)
    if policy is None:
        return None
    slot.tenant = await limiter.hit_async(policy, *tenant_identifiers(principal))
    return slot.tenant


class TenantRateLimit:
    def __init__(self, app: ASGIApp, limiter: Limiter, overrides: dict[str, tuple[int, int]]) -> None:
        self.app = app
        self.limiter = limiter
        self.overrides = overrides

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        slot, principal = _slot(scope), _principal(scope)
        if scope["type"] == "http" and slot is not None and principal is not None:
            verdict = await count_tenant(self.limiter, self.overrides, principal, slot)
            if verdict is not None and not verdict.allowed:
                raise _refuse(verdict, "tenant")
        await self.app(scope, receive, send)


def tenant_policy(principal: Principal, overrides: dict[str, tuple[int, int]] | None = None) -> Policy | None:
    budget = rate_limit_for(principal, overrides)
    if budget is None:
        return None
    name = principal.plan if budget.bucket == "standard" else f"{principal.plan}-{budget.bucket}"
    return Policy(name, budget.limit, budget.burst)


def tenant_identifiers(principal: Principal) -> tuple[str, ...]:
    budget = rate_limit_for(principal)
    return ("tenant", principal.tenant_id, budget.bucket if budget else "unmetered")


def public_operations(spec: dict[str, Any]) -> set[str]:
    """operationIds declared with ``security: []``: nothing to protect behind them."""
    return {
        op["operationId"]
        for methods in spec.get("paths", {}).values()
        for op in methods.values()
        if isinstance(op, dict) and "operationId" in op and op.get("security") == []
    }


def ip_policy(settings: Any) -> Policy | None:
    """The per-IP budget (`Settings.rate_limit_per_ip`), or None when it is switched off."""
    per_ip = settings.rate_limit_per_ip
    return Policy("ip", *per_ip) if per_ip else None
