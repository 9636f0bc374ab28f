"""Lead lifecycle: create, read, partial update, erase, and the history of every change.

Concurrency: every read-modify-write reads the lead with `find_lead(..., lock=True)` (``SELECT
... FOR UPDATE`` on PostgreSQL; SQLite's writers are serialised), so two PATCHes of one lead
apply one after the other, each history entry starts from the value it actually replaced, and
a PATCH racing a DELETE either lands before the erasure (and is erased with the lead) or finds
no lead (404). A transaction that also needs the tenant's lead counter locks it *before* any
lead row (`store.limits.quotas` explains the order). ``version`` grows with every change: it is the
lead's ``ETag``, and ``If-Match`` (`check_precondition`) makes a write conditional on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from store import bulk
from store.access.principals import Principal
from store.audit import log as audit
from store.db import locked, transaction
from store.duplicates import detection as duplicates
from store.errors import NotFound, PreconditionFailed
from store.events import emit as events
from store.idempotency import replays as idempotency
from store.ids import new_id
from store.leads.rules import check_fields
from store.limits import quotas
from store.limits.plans import reserve_leads
from store.models import CaptureSubmission, Lead, LeadEvent, LeadTag, utcnow

# Columns a client may write; everything else (id, tenant, environment, timestamps, derived
# columns) is the server's.
WRITABLE = (
    "email",
    "first_name",
    "last_name",
    "phone",
    "company",
    "title",
    "industry",
    "message",
    "source",
    "status",
    "score",
    "assigned_to",
    "custom_fields",
    "tags",
)
DEFAULTS: dict[str, Any] = {"source": "api", "status": "new", "score": 0}


def _event(caller: Principal, lead: Lead, action: str, changes: dict[str, list[Any]]) -> dict[str, Any]:
    return {
        "tenant_id": lead.tenant_id,
        "id": new_id(),
        "lead_id": lead.id,
        "action": action,
        "actor_type": caller.actor_type,
        "actor_id": caller.actor_id,
        "on_behalf_of": caller.on_behalf_of,
        "changes": changes,
        "request_id": caller.request_id,
        "occurred_at": utcnow(),
    }


def record_change(caller: Principal, lead: Lead, action: str, changes: dict[str, list[Any]]) -> None:
    """Write one history entry for ``lead`` and the matching audit row, in the caller's
    transaction: every path that changes a lead (update, merge) records it the same way."""
    LeadEvent.create(**_event(caller, lead, action, changes))
    # The same changes go to the audit log, in the same transaction: history and audit agree.
    audit.record(caller, f"lead.{action}", "lead", lead.id, changes)


def sync_tags(lead: Lead) -> None:
    """Rewrite the lead's tag index rows (`LeadTag`, what tag filters query) from ``lead.tags``."""
    LeadTag.delete().where((LeadTag.tenant_id == lead.tenant_id) & (LeadTag.lead_id == lead.id)).execute()
    rows = [
        {"tenant_id": lead.tenant_id, "environment": lead.environment, "tag": tag, "lead_id": lead.id}
        for tag in lead.tags
    ]
    if rows:
        LeadTag.insert_many(rows).execute()


def find_lead(caller: Principal, lead_id: str, *, lock: bool = False) -> Lead:
    """The caller's lead, or `NotFound`; ``lock`` holds its row until the transaction ends."""
    query = Lead.select().where(
        (Lead.tenant_id == caller.tenant_id) & (Lead.id == lead_id) & (Lead.environment == caller.environment)
    )
    lead = (locked(query) if lock else query).first()
    if lead is None:
        raise NotFound("Lead not found")
    return lead


def etag(lead_id: str, version: int) -> str:
    """The lead's strong entity tag (quotes included), as sent in ``ETag``."""
    return f'"{lead_id}.{version}"'


def check_precondition(lead: Lead, if_match: Sequence[str] | None) -> None:
    """``If-Match``: None (no header) or ``*`` always pass; else the current tag must be listed."""
    if if_match is None or "*" in if_match or etag(lead.id, lead.version) in if_match:
        return
    raise PreconditionFailed("The lead has changed since it was read: GET it again, then retry")


def new_values(caller: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    """A new lead's column values: the defaults under the client's fields, checked by the rules
    (raises `ValidationFailed`). No database write."""
    return check_fields(caller.tenant_id, {**DEFAULTS, "custom_fields": {}, "tags": [], **fields})


@transaction
def create_lead(caller: Principal, fields: dict[str, Any]) -> Lead:
    checked = new_values(caller, fields)
    return insert_leads(caller, [checked])[0]


@transaction
def insert_leads(
    caller: Principal, rows: Sequence[dict[str, Any]], *, detect_later: bool = True
) -> list[Lead]:
    """Create leads from `new_values` rows, each with its tags, its "created" history entry and
    audit event, and its duplicate-detection job: a few multi-row INSERTs per table however
    many rows (bulk imports use it directly). The plan's quota is checked and the counter moved
    atomically (`reserve_leads`) after the rows are written, before the events: `QuotaExceeded`
    rolls everything back, so it still leaves nothing written. Late, because on PostgreSQL that
    UPDATE locks the tenant's counter row until the commit and every create of the tenant
    queues on it: taken first, it was held across every insert. The inserts before it lock
    nothing another transaction can wait on (new rows, invisible until the commit); the events
    come after it because their write may purge (lock) the tenant's expired events, and
    `store.limits.quotas` orders the counter before any existing row.

    ``detect_later=False`` enqueues no dedup jobs: the caller (a bulk import) runs
    `store.duplicates.sets.detect_created` over the new leads in this same transaction instead.

    Creation times follow the rows' order (a microsecond apart), so an import keeps its file's
    order in every list sorted by creation.
    """
    now = utcnow()
    created = [
        Lead(
            tenant_id=caller.tenant_id,
            id=new_id(),
            environment=caller.environment,
            created_at=now + dt.timedelta(microseconds=offset),
            updated_at=now + dt.timedelta(microseconds=offset),
            **row,
        )
        for offset, row in enumerate(rows)
    ]
    tags = [
        {"tenant_id": lead.tenant_id, "environment": lead.environment, "tag": tag, "lead_id": lead.id}
        for lead in created
        for tag in lead.tags
    ]
    changes = [(lead, _initial(lead)) for lead in created]
    for model, values in (
        # Every column in every row: a multi-row INSERT takes its columns from the first row.
        (Lead, [{f.name: getattr(lead, f.name) for f in Lead._meta.sorted_fields} for lead in created]),
        (LeadTag, tags),
        (LeadEvent, [_event(caller, lead, "created", change) for lead, change in changes]),
    ):
        bulk.insert_rows(model, values)
    # The same changes go to the audit log, in the same transaction: history and audit agree.
    audit.record_many(caller, "lead.created", "lead", [(lead.id, change) for lead, change in changes])
    # Committed with the leads, so no creation escapes duplicate detection (store/duplicates/detection.py).
    if detect_later:
        duplicates.enqueue_detections(caller.tenant_id, [lead.id for lead in created])
    reserve_leads(caller, len(rows))  # after the rows, before the events: see the docstring
    events.emit_created(created)  # the outbox: committed with the leads (store/events/emit.py)
    return created


def _initial(lead: Lead) -> dict[str, list[Any]]:
    return {k: [None, v] for k, v in fields_of(lead).items() if v not in (None, {}, [])}


def fields_of(lead: Lead) -> dict[str, Any]:
    return {name: getattr(lead, name) for name in WRITABLE}


@transaction
def update_lead(
    caller: Principal, lead_id: str, fields: dict[str, Any], *, if_match: Sequence[str] | None = None
) -> Lead:
    lead = find_lead(caller, lead_id, lock=True)
    check_precondition(lead, if_match)
    checked = check_fields(caller.tenant_id, fields)
    before = fields_of(lead)
    for name, value in checked.items():
        setattr(lead, name, value)
    changes = {k: [before[k], v] for k, v in fields_of(lead).items() if before[k] != v}
    if not changes:
        return lead
    save_change(lead)
    if "tags" in changes:
        sync_tags(lead)
    record_change(caller, lead, "updated", changes)
    events.emit(events.LEAD_UPDATED, lead, changes=changes)
    if changes.keys() & duplicates.MATCHED_FIELDS:  # its duplicates may have changed too
        duplicates.enqueue_detection(lead)
    return lead


def save_change(lead: Lead) -> None:
    """Write a locked lead's changed columns, with a new ``updated_at`` and ``version``."""
    lead.updated_at = utcnow()
    lead.version += 1
    lead.save(only=lead.dirty_fields)


def merged_into(lead: Lead) -> list[str]:
    """Every lead ever merged into ``lead``, transitively: a merge moves the sources' history,
    their own ``merged`` entries included, to the target."""
    entries = LeadEvent.select(LeadEvent.changes).where(
        (LeadEvent.tenant_id == lead.tenant_id)
        & (LeadEvent.lead_id == lead.id)
        & (LeadEvent.action == "merged")
    )
    return [source for entry in entries for source in (entry.changes.get("merged_lead_ids") or [[], []])[1]]


@transaction
def delete_lead(caller: Principal, lead_id: str, *, if_match: Sequence[str] | None = None) -> Lead:
    """Erase the lead with its tags and history (right to erasure: nothing personal remains),
    and the audit values of every lead merged into it, whose data it carried."""
    quotas.lock(caller.tenant_id, caller.environment)
    lead = find_lead(caller, lead_id, lock=True)
    check_precondition(lead, if_match)
    erased = [lead.id, *merged_into(lead)]
    for model in (LeadTag, LeadEvent):
        model.delete().where((model.tenant_id == lead.tenant_id) & (model.lead_id == lead.id)).execute()
    Lead.delete().where((Lead.tenant_id == lead.tenant_id) & (Lead.id == lead.id)).execute()
    CaptureSubmission.delete().where(
        (CaptureSubmission.tenant_id == lead.tenant_id) & CaptureSubmission.lead_id.in_(erased)
    ).execute()
    quotas.adjust(lead.tenant_id, lead.environment, -1)
    duplicates.forget(lead.tenant_id, [lead.id])
    idempotency.forget_resources(lead.tenant_id, [lead.id])
    # The audit trail keeps who did what and when, but not the erased lead's values.
    audit.erase_values(lead.tenant_id, "lead", *erased)
    audit.record(caller, "lead.deleted", "lead", lead.id)
    events.emit(events.LEAD_DELETED, lead)  # also erases the lead's earlier events
    return lead
