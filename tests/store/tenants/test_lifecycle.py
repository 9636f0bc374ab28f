"""Tenant provisioning: the tenant, its owner, and two admin keys with every scope."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from store.access.principals import PLANS, SCOPES
from store.errors import NotFound, ValidationFailed
from store.keys import api_keys
from store.models import ApiKey, Tenant, User
from store.tenants import lifecycle as tenants


@pytest.mark.parametrize("plan", PLANS)
def test_create_tenant_provisions_owner_and_keys(app: Any, plan: str) -> None:
    email = f"Owner-{uuid.uuid4().hex[:6]}@Example.com"
    provisioned = tenants.create_tenant(
        "  Acme  ", plan=plan, owner_email=email, owner_password="s3cret-pass"
    )

    tenant = Tenant.get(Tenant.id == provisioned.tenant.id)
    assert (tenant.name, tenant.plan) == ("Acme", plan)
    owner = User.get((User.tenant_id == tenant.id) & (User.id == provisioned.owner.id))
    assert (owner.email, owner.role, owner.active) == (email.lower(), "owner", True)
    assert "s3cret-pass" not in owner.password_hash

    live = api_keys.authenticate(provisioned.live_key)
    sandbox = api_keys.authenticate(provisioned.sandbox_key)
    assert provisioned.live_key.startswith("lp_live_sk_") and provisioned.sandbox_key.startswith(
        "lp_sandbox_sk_"
    )
    for caller, environment in ((live, "live"), (sandbox, "sandbox")):
        assert (caller.tenant_id, caller.environment, caller.plan) == (tenant.id, environment, plan)
        assert caller.scopes == frozenset(SCOPES)
        assert caller.user_id == owner.id
    assert ApiKey.select().where(ApiKey.tenant_id == tenant.id).count() == 2
    assert tenants.get_tenant(tenant.id).id == tenant.id


@pytest.mark.parametrize(
    ("name", "plan", "email", "password", "field"),
    [
        ("Acme", "platinum", "o@example.com", "long-enough", "plan"),
        ("   ", "pro", "o@example.com", "long-enough", "name"),
        ("x" * 121, "pro", "o@example.com", "long-enough", "name"),
        ("Acme", "pro", "not-an-email", "long-enough", "ownerEmail"),
        ("Acme", "pro", "o@example.com", "short", "ownerPassword"),
    ],
)
def test_invalid_tenant_writes_nothing(
    app: Any, name: str, plan: str, email: str, password: str, field: str
) -> None:
    before = (Tenant.select().count(), User.select().count(), ApiKey.select().count())
    with pytest.raises(ValidationFailed) as caught:
        tenants.create_tenant(name, plan=plan, owner_email=email, owner_password=password)
    assert [e.field for e in caught.value.errors] == [field]
    assert (Tenant.select().count(), User.select().count(), ApiKey.select().count()) == before


def test_tenant_count_and_unknown_tenant(app: Any) -> None:
    before = tenants.tenant_count()
    tenants.create_tenant("Counted", plan="free", owner_email="c@example.com", owner_password="long-enough")
    assert tenants.tenant_count() == before + 1
    with pytest.raises(NotFound):
        tenants.get_tenant("NoSuchTenant0000")
