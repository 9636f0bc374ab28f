"""Listing a lead's detected duplicates (the pairs the detection job stored)."""

from __future__ import annotations

from store.access.principals import Principal
from store.db import reading
from store.leads import lifecycle
from store.models import Lead, LeadDuplicate
from store.pagination import CursorCodec, Keyset, PageRequest, PageResult, keyset_page


@reading
def list_duplicates(
    caller: Principal, lead_id: str, *, limit: int, cursor: str | None, codec: CursorCodec
) -> PageResult[Lead]:
    """The lead's detected duplicates, oldest first; each row carries ``reasons`` and ``detected_at``."""
    lead = lifecycle.find_lead(caller, lead_id)
    query = (
        Lead.select(Lead, LeadDuplicate.reasons, LeadDuplicate.detected_at)
        .join(
            LeadDuplicate,
            on=(LeadDuplicate.tenant_id == Lead.tenant_id) & (LeadDuplicate.duplicate_id == Lead.id),
        )
        .where((LeadDuplicate.tenant_id == lead.tenant_id) & (LeadDuplicate.lead_id == lead.id))
    )
    return keyset_page(
        query,
        PageRequest(limit, cursor, codec),
        Keyset(Lead.created_at, Lead.id),
        "lead_duplicates",
        {"lead": lead.id},
        objects=True,
    )
