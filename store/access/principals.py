"""Who is calling: derived from the credential only, never from a header the client controls."""

from __future__ import annotations

from dataclasses import dataclass

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
