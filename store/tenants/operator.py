"""What the server's operator does from a shell (``leadpipe tenant list``, ``leadpipe key ...``).

Someone with the database at hand can do anything, but key changes still go through the
normal key rules and land in the tenant's audit log. They are recorded as made by the tenant's
owner: the operator acts for the owner who lost their key, and the audit log knows only users
and keys as actors.
"""

from __future__ import annotations

from store.access import power
from store.access.principals import ENVIRONMENTS, SCOPES, Principal
from store.db import reading
from store.errors import NotFound
from store.models import ApiKey, Tenant, User


@reading
def list_tenants() -> list[Tenant]:
    return list(Tenant.select().order_by(Tenant.created_at, Tenant.id))


@reading
def tenant_keys(tenant_id: str) -> list[ApiKey]:
    """All of a tenant's keys, both environments, newest first (no secrets: only prefixes)."""
    _tenant(tenant_id)
    query = ApiKey.select().where(ApiKey.tenant_id == tenant_id)
    return list(query.order_by(ApiKey.created_at.desc(), ApiKey.id.desc()))


def _tenant(tenant_id: str) -> Tenant:
    tenant = Tenant.get_or_none(Tenant.id == tenant_id)
    if tenant is None:
        raise NotFound(f"No tenant {tenant_id!r} (see: leadpipe tenant list)")
    return tenant


@reading
def acting_owner(tenant_id: str, environment: str) -> Principal:
    """The principal of the tenant's owner with every scope, in ``environment``."""
    if environment not in ENVIRONMENTS:
        raise NotFound(f"No environment {environment!r}")
    tenant = _tenant(tenant_id)
    owner = (
        User.select()
        .where((User.tenant_id == tenant_id) & (User.role == "owner") & (User.active == True))  # noqa: E712
        .order_by(User.created_at)
        .first()
    )
    if owner is None:
        raise NotFound(f"Tenant {tenant_id!r} has no active owner")
    held = power.Power(tenant.id, environment, frozenset(SCOPES), owner.role)
    return power.for_user(held, owner.id, plan=tenant.plan, request_id="cli")
