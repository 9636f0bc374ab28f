"""What duplicate detection left for a tenant, comparable across tenants (ids differ)."""

from __future__ import annotations

from typing import Any

from store.events import emit as events
from store.events.models import Event
from store.models import Lead, LeadDuplicate


def duplicate_outcome(tenant_id: str) -> dict[str, Any]:
    """Pairs with their reasons, every lead's ``duplicateOf`` and the ``lead.duplicate_detected``
    events (lead, its pointer then, the duplicates named), leads named by creation order."""
    ordered = list(Lead.select().where(Lead.tenant_id == tenant_id).order_by(Lead.created_at, Lead.id))
    place = {lead.id: n for n, lead in enumerate(ordered)}
    pairs = {
        (place[p.lead_id], place[p.duplicate_id], tuple(p.reasons))
        for p in LeadDuplicate.select().where(LeadDuplicate.tenant_id == tenant_id)
    }
    found = Event.select().where((Event.tenant_id == tenant_id) & (Event.type == events.LEAD_DUPLICATE))
    news = sorted(
        (
            place[event.resource_id],
            event.data["object"]["duplicateOf"] and place[event.data["object"]["duplicateOf"]],
            tuple(sorted((place[d["leadId"]], tuple(d["reasons"])) for d in event.data["duplicates"])),
        )
        for event in found
    )
    return {
        "pairs": pairs,
        "pointers": [lead.duplicate_of and place[lead.duplicate_of] for lead in ordered],
        "events": news,
    }
