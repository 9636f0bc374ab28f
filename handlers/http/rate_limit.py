"""Rate limiting as ASGI middleware: per client IP before authentication, per tenant after it.

Two layers, because Connexion's layers each see a different part of the request, and a hook:

- `IpRateLimit` sits before security: a flood of bad keys is refused before any key lookup
  touches the database. Operations declared with ``security: []`` (health, readiness) are
  not counted. It opens the request's slot (in the ASGI scope) where the verdicts are left,
  and registers `write_headers` with `handlers.http.request_context.on_response_start`, so
  the headers reach every response, error envelopes and 429s included: `RequestContext`
  sits outside the exception handling and wraps ``send`` once for every layer that needs it
  (this hook was a middleware of its own, with its own ``send`` wrapper, before).
- `TenantRateLimit` sits after security, where Connexion has put our security function's
  ``token_info`` (with its `Principal`) in the request context; the budget follows the plan,
  the tenant's own enterprise limits and the key's ``rateLimitTier``. A principal that is
  only a hint (`handlers.http.credentials`) is not counted here: `count_deferred` counts it in
  the handler's thread once `handlers.http.security.principal_of` has confirmed it, so a
  stopped key spends and reads no tenant budget, and a new plan governs that very request.

All three count a tenant through `TenantBudget`, the one implementation of it.

Refusals raise `store.errors.RateLimited`, which `handlers.http.errors` turns into the 429 envelope
with ``retryAfterMs`` and ``Retry-After``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handlers.http.context import UNCONFIRMED
from handlers.http.limiter import Limiter, Policy, Verdict
from handlers.http.request_context import StartHook, on_response_start
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


@dataclass(frozen=True)
class TenantBudget:
    """Counting one request of a principal against its tenant's budget: the only place it is done
    (`TenantRateLimit`, `IpRateLimit` for refused callers, `count_deferred` for hints)."""

    limiter: Limiter
    overrides: dict[str, tuple[int, int]]

    def count(self, principal: Principal, slot: _Slot) -> Verdict | None:
        """Sync: on the loop for memory (microseconds), in a thread for Redis (`count_async`)
        or in the handler's own thread (`count_deferred`)."""
        policy = tenant_policy(principal, self.overrides)
        if policy is None:
            return None
        slot.tenant = self.limiter.hit(policy, *tenant_identifiers(principal))
        return slot.tenant

    async def count_async(self, principal: Principal, slot: _Slot) -> Verdict | None:
        if self.limiter.remote:
            verdict: Verdict | None = await anyio.to_thread.run_sync(self.count, principal, slot)
            return verdict
        return self.count(principal, slot)


@dataclass
class _Slot:
    ip: Verdict | None = None
    tenant: Verdict | None = None
    # Left by `TenantRateLimit` for a principal still unconfirmed: `count_deferred` counts it once.
    deferred: TenantBudget | None = None

    @property
    def shown(self) -> Verdict | None:
        """A refusal explains itself; otherwise the tenant's budget is the one clients plan by."""
        for verdict in (self.ip, self.tenant):
            if verdict is not None and not verdict.allowed:
                return verdict
        return self.tenant or self.ip


def show_verdicts(scope: Scope, *, ip: Verdict | None, tenant: Verdict | None) -> None:
    """Let `write_headers` report budgets counted outside these middlewares (public capture
    counts its own per-IP and per-key budgets in the handler). ``tenant`` None keeps the one
    already counted."""
    slot = _slot(scope)
    if slot is not None:
        slot.ip, slot.tenant = ip, tenant or slot.tenant


def _slot(scope: Scope) -> _Slot | None:
    slot = scope.get(SLOT)
    return slot if isinstance(slot, _Slot) else None


def slot_of(scope: Any) -> _Slot | None:
    """The request's rate-limit slot (for the security functions, which see the ASGI scope)."""
    return _slot(scope) if isinstance(scope, dict) else None


def tenant_refusal(verdict: Verdict | None) -> RateLimited | None:
    """The 429 to raise for a tenant verdict, or None when the request may go on."""
    return _refuse(verdict, "tenant") if verdict is not None and not verdict.allowed else None


def count_deferred(slot: _Slot | None, principal: Principal) -> Verdict | None:
    """For `principal_of`, in the handler's thread: count a principal that `TenantRateLimit`
    left uncounted (a hint), now confirmed by the database. Once per request; None when there
    was nothing deferred (no limiter on this app, an unmetered key, already counted)."""
    budget = slot.deferred if slot is not None else None
    if slot is None or budget is None:
        return None
    slot.deferred = None
    return budget.count(principal, slot)


def _refuse(verdict: Verdict, who: str) -> RateLimited:
    return RateLimited(
        f"Rate limit exceeded for this {who} ({verdict.policy.limit} requests/minute, burst "
        f"{verdict.policy.burst}); retry after {verdict.retry_after_ms} ms",
        verdict.retry_after_ms,
        "ip" if who == "client IP" else "tenant",
    )


def write_headers(slot: _Slot) -> StartHook:
    """The X-RateLimit-* headers of the verdict shown, on the response start (any previous
    ones replaced)."""

    def hook(message: Message) -> None:
        verdict = slot.shown
        if verdict is not None:
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in HEADER_NAMES]
            message["headers"] = [*headers, *verdict.headers()]

    return hook


def open_slot(scope: Scope) -> _Slot | None:
    """The request's slot, opened by the first rate-limit layer to see it; None if nothing
    would write its headers (no `RequestContext` outside)."""
    slot = _slot(scope)
    if slot is None:
        slot = _Slot()
        if not on_response_start(scope, write_headers(slot)):
            return None
        scope[SLOT] = slot
    return slot


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
        self.budget = TenantBudget(limiter, overrides)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        slot = open_slot(scope) if scope["type"] == "http" else None
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
                await self.budget.count_async(known, slot)
            raise


def note_principal(request: Any, principal: Principal) -> None:
    """For the security functions: who was recognised, even if the request is then refused.
    Only a principal the database gave (never a hint): the log and `IpRateLimit` trust it."""
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict):
        scope[PRINCIPAL] = principal


def _token_info(scope: Scope) -> dict[str, Any] | None:
    context = scope.get("extensions", {}).get("connexion_context", {})
    token_info = context.get("token_info") if isinstance(context, dict) else None
    return token_info if isinstance(token_info, dict) else None


class TenantRateLimit:
    def __init__(self, app: ASGIApp, limiter: Limiter, overrides: dict[str, tuple[int, int]]) -> None:
        self.app = app
        self.budget = TenantBudget(limiter, overrides)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        slot, token_info = _slot(scope), _token_info(scope)
        principal = token_info.get("principal") if token_info is not None else None
        if scope["type"] == "http" and slot is not None and isinstance(principal, Principal):
            if token_info is not None and UNCONFIRMED in token_info:
                slot.deferred = self.budget  # counted by principal_of, on the confirmed principal
            else:
                refused = tenant_refusal(await self.budget.count_async(principal, slot))
                if refused is not None:
                    raise refused
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
