"""Emitting events: call these inside the transaction that makes the change.

That is the whole outbox: the event row and its webhook deliveries (`store.webhooks.fanout`,
each with its durable job) commit with the change or roll back with it, so there is no
change without its event and no event without its change, and a crash between the commit and
the delivery loses nothing (the jobs are in the database).

Erasure: emitting ``lead.deleted`` first blanks the lead's earlier events (``data`` becomes
``{"object": {"id", "erased": true}, "previous": null}``); pending deliveries are rendered from
the event when sent, so they carry the blanked data too.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

from store import bulk
from store.events import objects, retention
from store.events.models import Event
from store.ids import new_id, new_ids
from store.models import Lead, LeadImport, utcnow
from store.webhooks import fanout

LEAD_CREATED, LEAD_UPDATED, LEAD_DELETED = "lead.created", "lead.updated", "lead.deleted"
LEAD_MERGED, LEAD_DUPLICATE = "lead.merged", "lead.duplicate_detected"
IMPORT_COMPLETED, IMPORT_FAILED = "import.completed", "import.failed"
WEBHOOK_TEST = "webhook.test"
# What an endpoint may subscribe to (``webhook.test`` goes only to the endpoint tested).
TYPES = (
    LEAD_CREATED,
    LEAD_UPDATED,
    LEAD_DELETED,
    LEAD_MERGED,
    LEAD_DUPLICATE,
    IMPORT_COMPLETED,
    IMPORT_FAILED,
)
# Each write also purges the tenant's expired events with this probability (like idempotency
# records); the worker purges every tenant hourly as well.
PURGE_PROBABILITY = 0.01

Changes = dict[str, list[Any]]


def _object(resource: Lead | LeadImport) -> dict[str, Any]:
    return objects.lead(resource) if isinstance(resource, Lead) else objects.lead_import(resource)


def _row(
    event_type: str,
    resource: Lead | LeadImport,
    data: dict[str, Any],
    created_at: dt.datetime,
    event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "tenant_id": resource.tenant_id,
        "id": event_id or new_id(),
        "environment": resource.environment,
        "type": event_type,
        "resource_id": resource.id,
        "data": data,
        "created_at": created_at,
    }


def _write(tenant_id: str, environment: str, rows: list[dict[str, Any]]) -> None:
    bulk.insert_rows(Event, rows)
    fanout.fan_out(tenant_id, environment, rows)
    if random.random() < PURGE_PROBABILITY:
        retention.purge_expired(tenant_id)


def emit(
    event_type: str,
    resource: Lead | LeadImport,
    *,
    changes: Changes | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One event about ``resource``; ``changes`` (``{column: [old, new]}``, as the lead history
    keeps them) becomes ``previous``: the old values of the changed fields, camelCase."""
    if event_type == LEAD_DELETED:
        erase(resource.tenant_id, resource.id)
        data: dict[str, Any] = {"object": {"id": resource.id, "deleted": True}, "previous": None}
    else:
        previous = {objects.camel(k): pair[0] for k, pair in changes.items()} if changes else None
        data = {"object": _object(resource), "previous": previous, **(extra or {})}
    row = _row(event_type, resource, data, utcnow())
    _write(resource.tenant_id, resource.environment, [row])
    return row


def emit_created(leads: Sequence[Lead]) -> None:
    """``lead.created`` for a batch of new leads of one tenant and environment (bulk imports:
    one multi-row INSERT); each event takes its lead's creation time, so the feed keeps their order."""
    if not leads:
        return
    ids = new_ids(len(leads))  # one CSPRNG draw, not one per event
    rows = [
        _row(LEAD_CREATED, lead, {"object": objects.lead(lead), "previous": None}, lead.created_at, event_id)
        for lead, event_id in zip(leads, ids, strict=True)
    ]
    _write(leads[0].tenant_id, leads[0].environment, rows)


def erase(tenant_id: str, resource_id: str) -> int:
    """Blank the personal data of a resource's events (right to erasure); the events stay."""
    blank = {"object": {"id": resource_id, "erased": True}, "previous": None}
    query = Event.update(data=blank).where(
        (Event.tenant_id == tenant_id) & (Event.resource_id == resource_id)
    )
    return int(query.execute())


def emit_test(tenant_id: str, environment: str, endpoint_id: str) -> dict[str, Any]:
    """A ``webhook.test`` event about an endpoint; the caller queues its one delivery."""
    row = {
        "tenant_id": tenant_id,
        "id": new_id(),
        "environment": environment,
        "type": WEBHOOK_TEST,
        "resource_id": endpoint_id,
        "data": {
            "object": {"endpointId": endpoint_id, "message": "A test event from Leadpipe"},
            "previous": None,
        },
        "created_at": utcnow(),
    }
    bulk.insert_rows(Event, [row])
    return row


def emit_many(event_type: str, items: Sequence[tuple[Lead, dict[str, Any]]]) -> None:
    """`emit` (without ``changes``) for many leads of one tenant and environment at once, each
    with its ``extra`` data (bulk imports' ``lead.duplicate_detected``): one multi-row INSERT and
    one fan-out instead of a statement or three per event. Their times follow the items' order
    (a microsecond apart), so the feed lists them in that order."""
    if not items:
        return
    if event_type == LEAD_DELETED:
        raise ValueError("lead.deleted erases earlier events: emit it one lead at a time")
    now, ids = utcnow(), new_ids(len(items))
    rows = [
        _row(
            event_type,
            lead,
            {"object": objects.lead(lead), "previous": None, **extra},
            now + dt.timedelta(microseconds=n),
            event_id,
        )
        for n, ((lead, extra), event_id) in enumerate(zip(items, ids, strict=True))
    ]
    _write(items[0][0].tenant_id, items[0][0].environment, rows)
