"""`sets.detect_created` (an import batch's duplicates, found in the batch's own transaction)
leaves exactly what one dedup job per new lead, run in creation order after the batch, leaves:
the same pairs with the same reasons, the same ``duplicateOf`` on every lead, and
``lead.duplicate_detected`` events for the same leads naming the same duplicates.

Two tenants get the same leads: stored ones (checked by their own jobs), then one batch. The
reference tenant creates the batch with `insert_leads` and runs `detection.detect` per lead;
the other imports it (`rows.apply_batch`, onDuplicate ``allow`` so that every row is created).
Leads are compared by their place in creation order (their ids differ)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.db import transaction
from store.duplicates import detection
from store.imports import rows
from store.leads import lifecycle as leads
from tests.dedup_support import duplicate_outcome
from tests.support import SeededTenant, make_tenant, principal

EMAILS = ("pat@example.com", " PAT@example.com", "pat+x@example.com", "p.a.t@gmail.com", "kim@example.com")
PHONES = (None, "+44 20 7946 0958", "+442079460958", "+44 20 7946 0959")
FIRST = ("Pat", "pat", "Kim")
LAST = ("Lee", "LEE", "Ode")
COMPANIES = (None, "Acme, Inc.", "ACME", "Globex GmbH")

lead_spec = st.fixed_dictionaries(
    {
        "email": st.sampled_from(EMAILS),
        "phone": st.sampled_from(PHONES),
        "firstName": st.sampled_from(FIRST),
        "lastName": st.sampled_from(LAST),
        "company": st.sampled_from(COMPANIES),
    }
)


def _item(spec: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in spec.items() if value is not None}


def _fields(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as checked store fields (what an import row becomes)."""
    prepared = rows.prepare(_item(spec))
    assert isinstance(prepared, dict), prepared
    return prepared


def _stored(tenant: SeededTenant, caller: Any, specs: list[dict[str, Any]], sandbox: list[bool]) -> None:
    for spec, in_sandbox in zip(specs, sandbox, strict=True):
        who = principal(tenant.sandbox_key) if in_sandbox else caller
        lead = leads.create_lead(who, _fields(spec))
        detection.detect(tenant.id, lead.id)  # its job


@transaction
def _reference_batch(caller: Any, specs: list[dict[str, Any]]) -> None:
    values = [leads.new_values(caller, {"source": rows.IMPORT_SOURCE, **_fields(s)}) for s in specs]
    created = leads.insert_leads(caller, values, detect_later=False)  # its jobs are run here:
    for lead in created:  # in creation order, after the batch
        detection.detect(caller.tenant_id, lead.id)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=st.lists(st.tuples(lead_spec, st.booleans()), max_size=5),
    batch=st.lists(lead_spec, min_size=1, max_size=8),
)
def test_a_batch_finds_what_one_job_per_lead_finds(
    app: Any, before: list[tuple[dict[str, Any], bool]], batch: list[dict[str, Any]]
) -> None:
    reference, imported = make_tenant(), make_tenant()
    for tenant in (reference, imported):
        _stored(tenant, principal(tenant.live_key), [s for s, _ in before], [b for _, b in before])

    _reference_batch(principal(reference.live_key), batch)
    outcomes = rows.apply_batch(
        principal(imported.live_key), [rows.prepare(_item(s)) for s in batch], "allow"
    )

    assert [outcome.status for outcome in outcomes] == [rows.CREATED] * len(batch)
    assert duplicate_outcome(imported.id) == duplicate_outcome(reference.id)
