"""`inserts.insert_new_leads` (an import chunk's new leads as plain rows) writes exactly what
`leads.insert_leads` writes for the same rows: the leads, their tag index rows, the "created"
history entry, the audit row and the ``lead.created`` event, with the same values.

Two tenants get the same rows, one through each path. Rows are compared with the tenant, the
ids (leads named by creation order) and the times left out; the times are checked on their own:
creation order follows the rows, and each row's history, audit and event fall within its chunk's
transaction."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.db import transaction
from store.errors import QuotaExceeded
from store.events.models import Event
from store.imports import inserts, rows
from store.leads import lifecycle as leads
from store.limits.plans import LEAD_QUOTAS
from store.models import AuditEvent, Lead, LeadEvent, LeadTag
from tests.support import SeededTenant, make_tenant, principal

# No NUL: an upload with one is refused (PostgreSQL cannot store it in text).
row_spec = st.fixed_dictionaries(
    {"email": st.sampled_from(("pat@example.com", " Kim.Ode@Example.com ", "a+b@gmail.com"))},
    optional={
        "firstName": st.sampled_from(("Pat", "Zoë")),
        "lastName": st.sampled_from(("Lee", "O'Neil")),
        "phone": st.sampled_from(("+44 20 7946 0958", "020 7946 0958")),
        "company": st.sampled_from(("Acme, Inc.", "")),
        "title": st.just("CTO"),
        "industry": st.just("Retail"),
        "message": st.just("Call me\nlater"),
        "source": st.sampled_from(("web", "import")),
        "status": st.sampled_from(("new", "qualified")),
        "score": st.integers(min_value=0, max_value=100),
        "tags": st.lists(st.sampled_from(("vip", "eu", "b2b")), unique=True, max_size=3),
        "customFields": st.dictionaries(
            st.sampled_from(("plan", "seats")),
            st.one_of(
                st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=5),
                st.integers(),
                st.none(),
            ),
        ),
    },
)


def _values(caller: Any, spec: dict[str, Any]) -> dict[str, Any] | None:
    item = {"firstName": "Jo", "lastName": "Doe", **spec}
    prepared = rows.prepare(item)
    if not isinstance(prepared, dict):
        return None
    return leads.new_values(caller, {"source": rows.IMPORT_SOURCE, **prepared})


@transaction
def _write(tenant: SeededTenant, specs: list[dict[str, Any]], bulk: bool) -> None:
    caller = principal(tenant.live_key)
    values = [v for v in (_values(caller, s) for s in specs) if v is not None]
    if bulk:
        inserts.insert_new_leads(caller, values)
    else:
        leads.insert_leads(caller, values, detect_later=False)


def _written(tenant: SeededTenant) -> dict[str, Any]:
    """Every row of the tenant in the five tables, ids as creation places, the caller's ids as
    ``caller``, no tenant or times."""
    tenant_id, caller = tenant.id, principal(tenant.live_key)
    own = {caller.actor_id, caller.api_key_id} - {None}
    ordered = list(Lead.select().where(Lead.tenant_id == tenant_id).order_by(Lead.created_at, Lead.id))
    place = {lead.id: n for n, lead in enumerate(ordered)}
    skip = {"tenant_id", "id", "created_at", "updated_at", "occurred_at"}

    def plain(row: Any, **named: Any) -> dict[str, Any]:
        kept = {
            k: "caller" if isinstance(v, str) and v in own else v
            for k, v in row.__data__.items()
            if k not in skip
        }
        return {**kept, **named}

    def lead_object(data: dict[str, Any]) -> dict[str, Any]:
        kept = {
            k: v for k, v in data["object"].items() if k not in ("id", "tenantId", "createdAt", "updatedAt")
        }
        return {**data, "object": kept}

    history = LeadEvent.select().where(LeadEvent.tenant_id == tenant_id)
    audit = AuditEvent.select().where(AuditEvent.tenant_id == tenant_id)
    events = Event.select().where(Event.tenant_id == tenant_id)
    return {
        "leads": [plain(lead) for lead in ordered],
        "tags": sorted(
            (place[t.lead_id], t.tag, t.environment)
            for t in LeadTag.select().where(LeadTag.tenant_id == tenant_id)
        ),
        "history": sorted((place[h.lead_id], repr(plain(h, lead_id=None))) for h in history),
        "audit": sorted(
            (place[a.resource_id], repr(plain(a, resource_id=None, request_id=None))) for a in audit
        ),
        "events": sorted(
            (place[e.resource_id], e.type, e.environment, repr(lead_object(e.data))) for e in events
        ),
    }


def _times_hold(tenant_id: str) -> None:
    ordered = list(Lead.select().where(Lead.tenant_id == tenant_id).order_by(Lead.created_at, Lead.id))
    assert all(lead.created_at == lead.updated_at for lead in ordered)
    assert len({lead.created_at for lead in ordered}) == len(ordered)  # a microsecond apart, in order
    created = {lead.id: lead.created_at for lead in ordered}
    for event in Event.select().where(Event.tenant_id == tenant_id):
        assert event.created_at == created[event.resource_id]
    for entry in LeadEvent.select().where(LeadEvent.tenant_id == tenant_id):
        assert entry.occurred_at >= created[entry.lead_id]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(row_spec, min_size=1, max_size=6))
def test_plain_rows_write_what_insert_leads_writes(app: Any, specs: list[dict[str, Any]]) -> None:
    reference, imported = make_tenant(), make_tenant()
    _write(reference, specs, bulk=False)
    _write(imported, specs, bulk=True)

    assert _written(imported) == _written(reference)
    _times_hold(imported.id)


def test_the_quota_refuses_a_chunk_whole(app: Any) -> None:
    tenant = make_tenant("free")
    caller = principal(tenant.live_key)
    values = [leads.new_values(caller, {"email": f"q{i}@example.com", "first_name": "Q", "last_name": "R"})
              for i in range(int(LEAD_QUOTAS["free"] or 0) + 1)]  # fmt: skip
    with pytest.raises(QuotaExceeded):
        transaction(inserts.insert_new_leads)(caller, values)
    assert Lead.select().where(Lead.tenant_id == tenant.id).count() == 0
