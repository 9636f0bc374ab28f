"""Tenants and their bootstrap: an owner user and a live and a sandbox key with every scope."""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from store.access.principals import LIVE, PLANS, SANDBOX, SCOPES
from store.db import reading, transaction
from store.errors import Conflict, FieldError, NotFound, ValidationFailed
from store.ids import new_id
from store.keys.api_keys import SECRET, insert_key
from store.models import Tenant, User
from store.users.passwords import hash_password


@dataclass(frozen=True)
class ProvisionedTenant:
    tenant: Tenant
    owner: User
    live_key: str
    sandbox_key: str


@transaction
def create_tenant(
    name: str, *, plan: str, owner_email: str, owner_password: str, owner_name: str = "Owner"
) -> ProvisionedTenant:
    errors = []
    if plan not in PLANS:
        errors.append(FieldError("plan", f"Must be one of {', '.join(PLANS)}"))
    if not name.strip() or len(name) > 120:
        errors.append(FieldError("name", "Must be 1-120 characters"))
    if len(owner_password) < 8:
        errors.append(FieldError("ownerPassword", "Must be at least 8 characters"))
    if "@" not in owner_email:
        errors.append(FieldError("ownerEmail", "Invalid email format"))
    if errors:
        raise ValidationFailed(errors)
    tenant = Tenant.create(id=new_id(), name=name.strip(), plan=plan)
    try:
        owner = User.create(
            tenant_id=tenant.id,
            id=new_id(),
            email=owner_email.strip().lower(),
            name=owner_name,
            role="owner",
            password_hash=hash_password(owner_password),
        )
    except peewee.IntegrityError as exc:
        raise Conflict("That owner email is already in use") from exc
    keys = {
        environment: insert_key(
            tenant.id,
            name=f"Owner {environment} key",
            scopes=list(SCOPES),
            key_type=SECRET,
            environment=environment,
            description="Created with the tenant",
            rate_limit_tier="standard",
            expires_at=None,
            created_by=owner.id,
        ).plaintext
        for environment in (LIVE, SANDBOX)
    }
    return ProvisionedTenant(tenant, owner, keys[LIVE], keys[SANDBOX])


@reading
def tenant_count() -> int:
    return Tenant.select().count()


@reading
def get_tenant(tenant_id: str) -> Tenant:
    tenant = Tenant.get_or_none(Tenant.id == tenant_id)
    if tenant is None:
        raise NotFound("Tenant not found")
    return tenant
