"""The export's keyset batches: every matching lead exactly once, oldest first, in bounded reads."""

from __future__ import annotations

from store.db import database
from store.leads import export as lead_export
from store.leads import lifecycle as leads
from store.leads import schema as lead_schema
from store.leads.queries import LeadFilters
from tests.support import SeededTenant, lead_body, principal


def test_batches_walk_every_match_once_in_creation_order(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    with database.connection_context(), database.atomic():
        rows = [lead_schema.to_fields(lead_body(status="qualified" if i % 3 else "new")) for i in range(25)]
        created = leads.insert_leads(caller, [leads.new_values(caller, row) for row in rows])

    batches = list(lead_export.export_batches(caller, LeadFilters(), size=10))

    assert [len(batch) for batch in batches] == [10, 10, 5]
    assert [lead.id for batch in batches for lead in batch] == [lead.id for lead in created]
    qualified = list(lead_export.export_batches(caller, LeadFilters(status="qualified"), size=10))
    assert [len(batch) for batch in qualified] == [10, 6]
    assert all(lead.status == "qualified" for batch in qualified for lead in batch)


def test_an_exact_multiple_ends_without_an_empty_batch(tenant: SeededTenant) -> None:
    caller = principal(tenant.live_key)
    with database.connection_context(), database.atomic():
        leads.insert_leads(
            caller, [leads.new_values(caller, lead_schema.to_fields(lead_body())) for _ in range(4)]
        )

    assert [len(b) for b in lead_export.export_batches(caller, LeadFilters(), size=2)] == [2, 2]
    assert list(lead_export.export_batches(principal(tenant.sandbox_key), LeadFilters(), size=2)) == []
