"""The lead counter moves with every path that adds or removes leads, per environment."""

from __future__ import annotations

import uuid
from typing import Any

from store.duplicates import merge
from store.imports import rows
from store.leads import lifecycle as leads
from store.limits import quotas
from store.models import Lead
from tests.support import SeededTenant, principal


def fields(**overrides: Any) -> dict[str, Any]:
    return {
        "email": f"c.{uuid.uuid4().hex[:8]}@example.com",
        "first_name": "C",
        "last_name": "D",
        **overrides,
    }


def stored(tenant_id: str, environment: str) -> int:
    return int(Lead.select().where((Lead.tenant_id == tenant_id) & (Lead.environment == environment)).count())


def test_counter_follows_create_import_merge_and_delete(tenant: SeededTenant) -> None:
    live, sandbox = principal(tenant.live_key), principal(tenant.sandbox_key)

    first, second, third = (leads.create_lead(live, fields()) for _ in range(3))
    leads.create_lead(sandbox, fields())
    outcomes = rows.import_items(
        live, [{"email": "imp@example.com", "firstName": "I", "lastName": "M"}, {"email": "bad"}], "allow"
    )
    assert [o.status for o in outcomes].count("created") == 1
    assert quotas.current(tenant.id, "live") == 4

    merge.merge_leads(live, first.id, [second.id, third.id])
    leads.delete_lead(live, first.id)

    assert quotas.current(tenant.id, "live") == stored(tenant.id, "live") == 1
    assert quotas.current(tenant.id, "sandbox") == stored(tenant.id, "sandbox") == 1


def test_a_tenant_without_leads_counts_zero(tenant: SeededTenant) -> None:
    assert quotas.current(tenant.id, "live") == 0
