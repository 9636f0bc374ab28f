"""Lead lifecycle in the store: create, update, erase, history, tenancy and environments."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from store.errors import NotFound, ValidationFailed
from store.leads import lifecycle as leads
from store.leads import queries
from store.models import Lead, LeadEvent, LeadTag
from tests.support import SeededTenant, principal, row_counts


def fields(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "email": f"Jane.{uuid.uuid4().hex[:8]}@Example.com",
        "first_name": "Jane",
        "last_name": "Doe",
    }
    values.update(overrides)
    return values


def events(lead: Lead) -> list[LeadEvent]:
    return list(
        LeadEvent.select()
        .where((LeadEvent.tenant_id == lead.tenant_id) & (LeadEvent.lead_id == lead.id))
        .order_by(LeadEvent.occurred_at, LeadEvent.id)
    )


def tags_of(lead: Lead) -> set[str]:
    rows = LeadTag.select().where((LeadTag.tenant_id == lead.tenant_id) & (LeadTag.lead_id == lead.id))
    return {row.tag for row in rows}


def test_create_applies_defaults_and_derived_columns(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    lead = leads.create_lead(caller, fields(email="  Jane.Doe@Example.COM ", phone="+44 20 7946 0958"))

    stored = Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == lead.id))
    assert (stored.source, stored.status, stored.score) == ("api", "new", 0)
    assert (stored.custom_fields, stored.tags) == ({}, [])
    assert stored.email == "Jane.Doe@Example.COM"
    assert stored.email_normalized == "jane.doe@example.com"
    assert (stored.phone, stored.phone_e164) == ("+44 20 7946 0958", "+442079460958")
    assert (stored.tenant_id, stored.environment) == (tenant.id, "live")
    assert stored.created_at == stored.updated_at
    assert len(stored.id) == 16 and stored.id.isalnum()


def test_create_is_the_first_history_entry(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    lead = leads.create_lead(caller, fields(tags=["vip"], custom_fields={"plan": "gold"}))

    [created] = events(lead)
    assert created.action == "created"
    assert (created.actor_type, created.actor_id) == ("api_key", caller.api_key_id)
    assert created.changes["email"] == [None, lead.email]
    assert created.changes["tags"] == [None, ["vip"]]
    assert created.changes["custom_fields"] == [None, {"plan": "gold"}]
    assert "phone" not in created.changes  # nothing to record for fields left empty


def test_tags_are_deduplicated_trimmed_and_indexed(tenant: SeededTenant) -> None:
    lead = leads.create_lead(principal(tenant.live_key), fields(tags=["vip", " vip ", "hot"]))
    assert lead.tags == ["vip", "hot"]
    assert tags_of(lead) == {"vip", "hot"}


def test_update_changes_only_what_was_sent_and_records_it(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    lead = leads.create_lead(caller, fields(company="Acme", tags=["a"]))

    updated = leads.update_lead(
        caller, lead.id, {"status": "qualified", "score": 80, "company": None, "tags": ["b"]}
    )

    stored = Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == lead.id))
    assert (stored.status, stored.score, stored.company, stored.tags) == ("qualified", 80, None, ["b"])
    assert (stored.first_name, stored.email) == (lead.first_name, lead.email)
    assert stored.updated_at > stored.created_at and updated.updated_at == stored.updated_at
    assert tags_of(stored) == {"b"}
    last = events(lead)[-1]
    assert last.action == "updated"
    assert last.changes == {
        "status": ["new", "qualified"],
        "score": [0, 80],
        "company": ["Acme", None],
        "tags": [["a"], ["b"]],
    }


def test_update_without_change_writes_nothing(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    lead = leads.create_lead(caller, fields(status="contacted"))
    before = Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == lead.id)).updated_at

    leads.update_lead(caller, lead.id, {"status": "contacted"})

    assert Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == lead.id)).updated_at == before
    assert [e.action for e in events(lead)] == ["created"]


def test_update_of_email_renormalizes_and_phone_rederives(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    lead = leads.create_lead(caller, fields(phone="+44 20 7946 0958"))

    leads.update_lead(caller, lead.id, {"email": "NEW@Example.com", "phone": None})

    stored = Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == lead.id))
    assert (stored.email_normalized, stored.phone, stored.phone_e164) == ("new@example.com", None, None)


def test_invalid_update_writes_nothing(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    lead = leads.create_lead(caller, fields())
    counts = row_counts(tenant.id)

    with pytest.raises(ValidationFailed):
        leads.update_lead(caller, lead.id, {"status": "contacted", "email": "not an email"})

    assert row_counts(tenant.id) == counts
    assert Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == lead.id)).status == "new"


def test_delete_erases_lead_tags_and_history(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    lead = leads.create_lead(caller, fields(tags=["x"]))
    leads.update_lead(caller, lead.id, {"score": 5})
    kept = leads.create_lead(caller, fields(tags=["x"]))

    leads.delete_lead(caller, lead.id)

    assert not Lead.select().where((Lead.tenant_id == tenant.id) & (Lead.id == lead.id)).exists()
    assert events(lead) == [] and tags_of(lead) == set()
    assert len(events(kept)) == 1 and tags_of(kept) == {"x"}
    with pytest.raises(NotFound):
        queries.read_lead(caller, lead.id)


def test_other_tenants_lead_is_not_found(tenant: SeededTenant, other_tenant: SeededTenant) -> None:
    theirs = leads.create_lead(principal(other_tenant.live_key), fields())
    mine = principal(tenant.live_key)

    with pytest.raises(NotFound):
        queries.read_lead(mine, theirs.id)
    with pytest.raises(NotFound):
        leads.update_lead(mine, theirs.id, {"status": "contacted"})
    with pytest.raises(NotFound):
        leads.delete_lead(mine, theirs.id)

    stored = Lead.get((Lead.tenant_id == other_tenant.id) & (Lead.id == theirs.id))
    assert stored.status == "new" and len(events(stored)) == 1


def test_sandbox_and_live_leads_are_apart(tenant: SeededTenant) -> None:
    live, sandbox = principal(tenant.live_key), principal(tenant.sandbox_key)
    live_lead = leads.create_lead(live, fields())
    sandbox_lead = leads.create_lead(sandbox, fields())

    assert sandbox_lead.environment == "sandbox"
    with pytest.raises(NotFound):
        queries.read_lead(sandbox, live_lead.id)
    with pytest.raises(NotFound):
        queries.read_lead(live, sandbox_lead.id)
    assert queries.read_lead(sandbox, sandbox_lead.id).id == sandbox_lead.id


def test_assignee_must_be_a_user_of_the_tenant(tenant: SeededTenant, other_tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    lead = leads.create_lead(caller, fields(assigned_to=tenant.owner_id))
    assert lead.assigned_to == tenant.owner_id

    with pytest.raises(ValidationFailed) as caught:
        leads.update_lead(caller, lead.id, {"assigned_to": other_tenant.owner_id})
    assert [e.field for e in caught.value.errors] == ["assigned_to"]
    assert Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == lead.id)).assigned_to == tenant.owner_id

    leads.update_lead(caller, lead.id, {"assigned_to": None})
    assert Lead.get((Lead.tenant_id == tenant.id) & (Lead.id == lead.id)).assigned_to is None
