"""Lead lifecycle: create, read, partial update, erase, and the history of every change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from store import audit, bulk, duplicates, lead_counts
from store.db import reading, transaction
from store.errors import NotFound
from store.events import emit as events
from store.ids import new_id
from store.lead_rules import check_fields
from store.models import Lead, LeadEvent, LeadTag, utcnow
from store.plans import check_lead_quota
from store.principals import Principal

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


def _record(caller: Principal, lead: Lead, action: str, changes: dict[str, list[Any]]) -> None:
    LeadEvent.create(**_event(caller, lead, action, changes))
    # The same changes go to the audit log, in the same transaction: history and audit agree.
    audit.record(caller, f"lead.{action}", "lead", lead.id, changes)


def _sync_tags(lead: Lead) -> None:
    LeadTag.delete().where((LeadTag.tenant_id == lead.tenant_id) & (LeadTag.lead_id == lead.id)).execute()
    rows = [
        {"tenant_id": lead.tenant_id, "environment": lead.environment, "tag": tag, "lead_id": lead.id}
        for tag in lead.tags
    ]
    if rows:
        LeadTag.insert_many(rows).execute()


def find_lead(caller: Principal, lead_id: str) -> Lead:
    lead = (
        Lead.select()
        .where(
            (Lead.tenant_id == caller.tenant_id)
            & (Lead.id == lead_id)
            & (Lead.environment == caller.environment)
        )
        .first()
    )
    if lead is None:
        raise NotFound("Lead not found")
    return lead


def new_values(caller: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    """A new lead's column values: the defaults under the client's fields, checked by the rules
    (raises `ValidationFailed`). No database write."""
    return check_fields(caller.tenant_id, {**DEFAULTS, "custom_fields": {}, "tags": [], **fields})


@transaction
def create_lead(caller: Principal, fields: dict[str, Any]) -> Lead:
    checked = new_values(caller, fields)
    check_lead_quota(caller)
    return insert_leads(caller, [checked])[0]


@transaction
def insert_leads(caller: Principal, rows: Sequence[dict[str, Any]]) -> list[Lead]:
    """Create leads from `new_values` rows, each with its tags, its "created" history entry and
    audit event, and its duplicate-detection job: a few multi-row INSERTs per table however
    many rows (bulk imports use it directly; checking the quota is the caller's part).

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
    # Committed with the leads, so no creation escapes duplicate detection (store/duplicates.py).
    duplicates.enqueue_detections(caller.tenant_id, [lead.id for lead in created])
    events.emit_created(created)  # the outbox: committed with the leads (store/events/emit.py)
    lead_counts.adjust(caller.tenant_id, caller.environment, len(created))
    return created


def _initial(lead: Lead) -> dict[str, list[Any]]:
    return {k: [None, v] for k, v in fields_of(lead).items() if v not in (None, {}, [])}


def fields_of(lead: Lead) -> dict[str, Any]:
    return {name: getattr(lead, name) for name in WRITABLE}


@reading
def get_lead(caller: Principal, lead_id: str) -> Lead:
    return find_lead(caller, lead_id)


@transaction
def update_lead(caller: Principal, lead_id: str, fields: dict[str, Any]) -> Lead:
    lead = find_lead(caller, lead_id)
    checked = check_fields(caller.tenant_id, fields)
    before = fields_of(lead)
    for name, value in checked.items():
        setattr(lead, name, value)
    changes = {k: [before[k], v] for k, v in fields_of(lead).items() if before[k] != v}
    if not changes:
        return lead
    lead.updated_at = utcnow()
    lead.save()
    if "tags" in changes:
        _sync_tags(lead)
    _record(caller, lead, "updated", changes)
    events.emit(events.LEAD_UPDATED, lead, changes=changes)
    if changes.keys() & duplicates.MATCHED_FIELDS:  # its duplicates may have changed too
        duplicates.enqueue_detection(lead)
    return lead


@transaction
def delete_lead(caller: Principal, lead_id: str) -> Lead:
    """Erase the lead with its tags and history (right to erasure: nothing personal remains)."""
    lead = find_lead(caller, lead_id)
    for model in (LeadTag, LeadEvent):
        model.delete().where((model.tenant_id == lead.tenant_id) & (model.lead_id == lead.id)).execute()
    Lead.delete().where((Lead.tenant_id == lead.tenant_id) & (Lead.id == lead.id)).execute()
    lead_counts.adjust(lead.tenant_id, lead.environment, -1)
    duplicates.forget(lead.tenant_id, [lead.id])
    # The audit trail keeps who did what and when, but not the erased lead's values.
    audit.erase_values(lead.tenant_id, "lead", lead.id)
    audit.record(caller, "lead.deleted", "lead", lead.id)
    events.emit(events.LEAD_DELETED, lead)  # also erases the lead's earlier events
    return lead
