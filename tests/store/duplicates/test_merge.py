"""Merge and create-time duplicate policies in the store (the HTTP tests cover the field rules)."""

from __future__ import annotations

import pytest

from store.duplicates import merge, policy
from store.errors import Conflict
from store.leads import lifecycle as leads
from store.models import AuditEvent, Lead
from tests.support import SeededTenant, principal


def _fields(email: str, **extra: object) -> dict[str, object]:
    return {"email": email, "first_name": "Max", "last_name": "Muster", **extra}


def test_find_by_email_uses_the_normalized_key_and_the_oldest_lead(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    oldest = leads.create_lead(caller, _fields("max.muster@gmail.com"))
    leads.create_lead(caller, _fields("maxmuster@gmail.com"))
    found = policy.find_by_email(caller, " Max.Muster+crm@GoogleMail.com ")
    assert found is not None and found.id == oldest.id
    assert policy.find_by_email(principal(tenant.sandbox_key), "max.muster@gmail.com") is None


def test_create_policies(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    lead, created = policy.create_lead(caller, _fields("p@example.com"), "reject")
    assert created
    with pytest.raises(Conflict) as caught:
        policy.create_lead(caller, _fields("P@example.com"), "reject")
    assert lead.id in caught.value.message
    updated, created = policy.create_lead(caller, _fields("p@example.com", title="CEO"), "update")
    assert (updated.id, updated.title, created) == (lead.id, "CEO", False)
    _, created = policy.create_lead(caller, _fields("p@example.com"), "allow")
    assert created
    assert Lead.select().where(Lead.tenant_id == tenant.id).count() == 2


def test_merge_is_audited_for_target_and_sources(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    target = leads.create_lead(caller, _fields("t@example.com"))
    source = leads.create_lead(caller, _fields("s@example.com", company="Acme"))
    merged = merge.merge_leads(caller, target.id, [source.id])
    assert merged.company == "Acme"
    actions = {
        (row.action, row.resource_id) for row in AuditEvent.select().where(AuditEvent.tenant_id == tenant.id)
    }
    assert {("lead.merged", target.id), ("lead.merged_into", source.id)} <= actions
