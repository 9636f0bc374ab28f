"""The power invariant: no request leaves its caller with more power than it came with.

Power is (tenant, environment, scopes, role). Every path that yields a credential, a session, a
role or a replayed reply computes the *result's* power and calls `ensure_within` with the
caller before anything is written or returned:

| path                                   | result power checked                                   |
| -------------------------------------- | ------------------------------------------------------ |
| create a key                           | the new key: its environment, scopes, creator's role  |
| rotate a key                           | the rotated key (its new secret is handed out)         |
| create a user; grant a role; set a     | the user's sessions: live, the role's scopes, the role |
| password; reactivate                   |                                                        |
| any other user change                  | a live, scopeless power (users are tenant-wide)        |
| ``X-On-Behalf-Of``                     | `acting_for` only ever narrows                         |
| idempotent replay                      | `ensure_same_credential`: served to its maker only     |
| webhook signing secrets                | `of_webhook_secret` (for ``rotate-secret``)            |

Orders: ``live`` covers ``sandbox``; a role covers the roles ranked below it; a set of scopes
covers its subsets, and ``write:leads`` also covers ``capture:leads`` (a publishable key only
captures leads). A key acts as its creator: `key_role` refuses it at authentication when the
creator is deactivated or the creator's role no longer grants the key's scopes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from store.access.principals import CAPTURE_SCOPE, LIVE, SANDBOX, Principal
from store.access.roles import ADMIN, MEMBER, OWNER, scopes_for
from store.errors import IdempotencyConflict, PermissionDenied, Unauthenticated

RANK: dict[str | None, int] = {None: 0, MEMBER: 1, ADMIN: 2, OWNER: 3}
ENVIRONMENT_RANK = {SANDBOX: 1, LIVE: 2}
WEBHOOKS_SCOPE = "admin:webhooks"


@dataclass(frozen=True)
class Power:
    tenant_id: str
    environment: str
    scopes: frozenset[str]
    # None: no role at all (ranks below member).
    role: str | None


def power_of(principal: Principal) -> Power:
    return Power(principal.tenant_id, principal.environment, principal.scopes, principal.role)


def of_role(tenant_id: str, role: str) -> Power:
    """What a user with ``role`` holds: every session is live and carries the role's scopes."""
    return Power(tenant_id, LIVE, scopes_for(role), role)


def of_key(tenant_id: str, environment: str, scopes: frozenset[str], creator_role: str | None) -> Power:
    return Power(tenant_id, environment, scopes, creator_role)


def tenant_wide(tenant_id: str) -> Power:
    """The least power that may change something every environment shares (users)."""
    return Power(tenant_id, LIVE, frozenset(), None)


def of_webhook_secret(tenant_id: str, environment: str) -> Power:
    """A webhook endpoint: its signing secret (whoever holds it can forge the endpoint's events)
    and a standing read of lead data (events carry the lead as ``GET`` shows it, and a replay
    re-sends 30 days of them). So creating, re-pointing, rotating or replaying one needs
    ``read:leads`` beside ``admin:webhooks``: a webhooks-only key must not read leads by mail."""
    return Power(tenant_id, environment, frozenset({WEBHOOKS_SCOPE, "read:leads"}), None)


def covers(held: frozenset[str], wanted: frozenset[str]) -> bool:
    implied = {CAPTURE_SCOPE} if "write:leads" in held else set()
    return wanted <= held | implied


def lower_role(a: str | None, b: str | None) -> str | None:
    return a if RANK.get(a, 0) <= RANK.get(b, 0) else b


def ensure_within(caller: Principal, result: Power, action: str) -> None:
    """Raise `PermissionDenied` unless ``caller`` holds at least ``result`` in every dimension."""
    held = power_of(caller)
    if result.tenant_id != held.tenant_id:
        raise PermissionDenied(f"Cannot {action}: it belongs to another tenant")
    if ENVIRONMENT_RANK.get(result.environment, 3) > ENVIRONMENT_RANK.get(held.environment, 0):
        raise PermissionDenied(f"Cannot {action} with a {held.environment} credential: it needs a live one")
    if not covers(held.scopes, result.scopes):
        missing = sorted(scope for scope in result.scopes if not covers(held.scopes, frozenset({scope})))
        raise PermissionDenied(
            f"Cannot {action}: it would hold scope(s) this request lacks: {', '.join(missing)}"
        )
    if RANK.get(result.role, 0) > RANK.get(held.role, 0):
        raise PermissionDenied(f"Cannot {action}: it would act as a {result.role}, above this request's role")


def key_role(
    key_scopes: frozenset[str], *, has_creator: bool, creator_active: bool, creator_role: str | None
) -> str:
    """The role a key acts with, or `Unauthenticated` when its creator no longer backs it.

    A key with no creator (made outside any user, e.g. by the CLI) acts as an admin.
    """
    if not has_creator:
        return ADMIN
    if not creator_active or creator_role is None:
        raise Unauthenticated("API key is no longer valid: the user who created it is deactivated")
    if not covers(scopes_for(creator_role), key_scopes):
        raise Unauthenticated("API key is no longer valid: its creator's role no longer grants its scopes")
    return creator_role


def acting_for(caller: Principal, user_id: str, user_role: str) -> Principal:
    """``X-On-Behalf-Of``: the key's scopes intersected with the user's role, the lower of the two
    roles, the same environment. Never more than the key alone."""
    return dataclasses.replace(
        caller,
        user_id=user_id,
        on_behalf_of=user_id,
        scopes=caller.scopes & scopes_for(user_role),
        role=lower_role(caller.role, user_role),
    )


def credential_of(principal: Principal) -> str:
    """The credential a request came with (the key, or the signed-in user), and whom it acted for."""
    maker = f"k:{principal.api_key_id}" if principal.api_key_id is not None else f"u:{principal.actor_id}"
    return f"{maker}>{principal.on_behalf_of}" if principal.on_behalf_of else maker


def ensure_same_credential(caller: Principal, owner: str | None) -> None:
    """A stored reply may hold a secret or a lead: replay it only to the credential that made it."""
    if owner is None or owner != credential_of(caller):
        raise IdempotencyConflict("This Idempotency-Key was used by another credential")


def acting(
    held: Power,
    *,
    plan: str,
    actor_type: str,
    actor_id: str,
    api_key_id: str | None = None,
    user_id: str | None = None,
    rate_limit_tier: str = "standard",
    rate_limit: int | None = None,
    rate_burst: int | None = None,
    request_id: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    session_id: str | None = None,
) -> Principal:
    """The one way a principal is built: what it may do comes from ``held`` (`store.access.power`
    decides it), who it is from the credential. Nobody copies tenant, scopes and role by hand."""
    return Principal(
        tenant_id=held.tenant_id,
        plan=plan,
        environment=held.environment,
        scopes=held.scopes,
        actor_type=actor_type,
        actor_id=actor_id,
        api_key_id=api_key_id,
        user_id=user_id,
        rate_limit_tier=rate_limit_tier,
        rate_limit=rate_limit,
        rate_burst=rate_burst,
        role=held.role,
        request_id=request_id,
        ip=ip,
        user_agent=user_agent,
        session_id=session_id,
    )


def for_user(
    held: Power,
    user_id: str,
    *,
    plan: str,
    request_id: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    session_id: str | None = None,
) -> Principal:
    """A user acting: signed in, from a session token, or the operator CLI acting as the owner."""
    return acting(
        held,
        plan=plan,
        actor_type="user",
        actor_id=user_id,
        user_id=user_id,
        request_id=request_id,
        ip=ip,
        user_agent=user_agent,
        session_id=session_id,
    )
