"""Who is calling: derived from the credential only, never from a header the client controls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.access.power import Power

LIVE, SANDBOX = "live", "sandbox"
ENVIRONMENTS = (LIVE, SANDBOX)

SCOPES = (
    "read:leads",
    "write:leads",
    "admin:api_keys",
    "admin:users",
    "read:audit",
    "admin:webhooks",
)
CAPTURE_SCOPE = "capture:leads"
PLANS = ("free", "starter", "pro", "team", "enterprise")


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    plan: str
    environment: str
    scopes: frozenset[str]
    actor_type: str  # "api_key" or "user"
    actor_id: str
    api_key_id: str | None
    user_id: str | None
    rate_limit_tier: str = "standard"
    # An enterprise tenant's own limits (requests/minute, burst); None means the plan's.
    rate_limit: int | None = None
    rate_burst: int | None = None
    on_behalf_of: str | None = None
    # The role it acts with (its user's, or for a key its creator's); None: no role (see
    # `store.access.power`, which owns every rule about what a principal may yield).
    role: str | None = None
    # Where the request came from, for history and audit rows.
    request_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    # The session token's id when the caller signed in with one (`store.sessions`), else None.
    session_id: str | None = None

    def has_scopes(self, required: list[str] | tuple[str, ...]) -> bool:
        return set(required) <= self.scopes


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
