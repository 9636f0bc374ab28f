"""Merging duplicates: fold sources into a target (listing: `queries`; onDuplicate at creation: `policy`).

Merge rules (``merge_leads``), applied to the target with the sources in the order given:

- single-valued fields (phone, company, title, industry, message, assignedTo): the target's
  value wins where set; where it is empty, the first source that has one fills it. email,
  names, status and source are always the target's (they are required or describe the
  target's own path through the pipeline); ``score`` is the highest of all (a merged lead is as
  hot as its hottest part);
- ``customFields``: the union, the target's value winning per key, then the sources' in order;
- ``tags``: the union, target's first, in order, without repeats;
- history is kept: the sources' history entries move to the target, and a ``merged`` entry
  records the field changes plus ``mergedLeadIds``. The sources are then removed (with their
  duplicate pairs), and a new dedup job re-checks the merged target.

Concurrency: a merge locks the tenant's lead counter, then the target and the sources one by
one in id order, so two merges over the same leads (even crosswise: A into B and B into A)
wait for each other instead of deadlocking; the later one finds its source gone (404). A PATCH
of a source waits for the merge too, and then finds no lead: no acknowledged write is folded
away unseen.
"""

from __future__ import annotations

from typing import Any

from store.access.principals import Principal
from store.audit import log as audit
from store.db import transaction
from store.duplicates import detection
from store.errors import FieldError, ValidationFailed
from store.events import emit as events
from store.idempotency import replays as idempotency
from store.leads import lifecycle
from store.limits import quotas
from store.models import Lead, LeadEvent, LeadTag

FILLABLE = ("company", "title", "industry", "message", "assigned_to")


def _fold(target: Lead, sources: list[Lead]) -> None:
    if not target.phone:  # the phone and its derived E.164 form travel together
        donor = next((s for s in sources if s.phone), None)
        target.phone, target.phone_e164 = (donor.phone, donor.phone_e164) if donor else (None, None)
    for name in FILLABLE:
        if getattr(target, name) in (None, ""):
            filled = next((getattr(s, name) for s in sources if getattr(s, name) not in (None, "")), None)
            setattr(target, name, filled)
    target.score = max([target.score, *(s.score for s in sources)])
    custom: dict[str, Any] = {}
    for lead in reversed([target, *sources]):
        custom.update(lead.custom_fields or {})
    target.custom_fields = custom
    target.tags = list(dict.fromkeys(tag for lead in (target, *sources) for tag in lead.tags or []))


def _lock_all(caller: Principal, lead_id: str, source_ids: list[str]) -> tuple[Lead, list[Lead]]:
    """Target and sources, each row locked, taken in id order (one order for every merge)."""
    quotas.lock(caller.tenant_id, caller.environment)
    wanted = dict.fromkeys([lead_id, *source_ids])
    found = {key: lifecycle.find_lead(caller, key, lock=True) for key in sorted(wanted)}
    return found[lead_id], [found[key] for key in source_ids]


@transaction
def merge_leads(caller: Principal, lead_id: str, source_ids: list[str]) -> Lead:
    if lead_id in source_ids:
        lifecycle.find_lead(caller, lead_id)  # another tenant's id stays a 404
        raise ValidationFailed([FieldError("source_ids", "Must not contain the target lead")])
    target, sources = _lock_all(caller, lead_id, list(dict.fromkeys(source_ids)))
    before = lifecycle.fields_of(target)
    _fold(target, sources)
    changes: dict[str, list[Any]] = {
        k: [before[k], v] for k, v in lifecycle.fields_of(target).items() if before[k] != v
    }
    lifecycle.save_change(target)
    lifecycle.sync_tags(target)
    ids = [source.id for source in sources]
    # History kept: the sources' timelines become part of the target's.
    LeadEvent.update(lead_id=target.id).where(
        (LeadEvent.tenant_id == target.tenant_id) & LeadEvent.lead_id.in_(ids)
    ).execute()
    LeadTag.delete().where((LeadTag.tenant_id == target.tenant_id) & LeadTag.lead_id.in_(ids)).execute()
    removed = Lead.delete().where((Lead.tenant_id == target.tenant_id) & Lead.id.in_(ids)).execute()
    quotas.adjust(target.tenant_id, target.environment, -removed)
    detection.forget(target.tenant_id, ids)
    idempotency.forget_resources(target.tenant_id, ids)  # merged away: their replies go too
    lifecycle.record_change(caller, target, "merged", {**changes, "merged_lead_ids": [[], ids]})
    for source_id in ids:  # the audit trail says where each removed lead went
        audit.record(caller, "lead.merged_into", "lead", source_id, {"merged_into": [None, target.id]})
    detection.enqueue_detection(target)
    merged = Lead.get((Lead.tenant_id == target.tenant_id) & (Lead.id == target.id))
    events.emit(events.LEAD_MERGED, merged, changes=changes, extra={"mergedLeadIds": ids})
    return merged
