"""The audit log: an append-only trail of every mutation, and its filtered, paginated reader.

`record` is called from inside the store's own mutation functions, so the event commits or
rolls back together with the change it describes. Nothing here updates or deletes an event,
with one deliberate exception: erasing a lead blanks the *values* in its events' ``changes``
(right to erasure), keeping who did what and when.

Secrets never reach a row: values of fields named like a secret are replaced by a marker
before they are stored, so a password change shows as changed without showing the password.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import peewee

from store import bulk
from store.access.principals import SANDBOX, Principal
from store.db import reading
from store.ids import new_id, new_ids
from store.models import AuditEvent, utcnow
from store.pagination import CursorCodec, Keyset, PageRequest, PageResult, keyset_page

REDACTED = "[redacted]"
ERASED = "[erased]"
SECRET_FIELDS = frozenset({"password", "password_hash", "key", "key_hash", "token", "secret", "plaintext"})


def _scrub(changes: dict[str, Any]) -> dict[str, Any]:
    return {name: [REDACTED, REDACTED] if name in SECRET_FIELDS else pair for name, pair in changes.items()}


# Values `_json_safe` returns as they are: checked by exact type first, as most are (an import
# writes ~25 of them per row), before the isinstance chain that the rest need.
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _json_safe(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [item if type(item) in _PLAIN else _json_safe(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    return value


def safe_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` as the audit log stores them: secrets redacted (`_scrub`), datetimes as ISO
    text (`_json_safe`); one pass, the same result as ``_json_safe(_scrub(changes))``."""
    return {
        name: [REDACTED, REDACTED]
        if name in SECRET_FIELDS
        else [item if type(item) in _PLAIN else _json_safe(item) for item in pair]
        if type(pair) is list
        else _json_safe(pair)
        for name, pair in changes.items()
    }


def record(
    caller: Principal,
    action: str,
    resource_type: str,
    resource_id: str,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event; call it inside the transaction that makes the change."""
    return AuditEvent.create(**_row(caller, action, resource_type, resource_id, changes, utcnow()))


def record_many(
    caller: Principal, action: str, resource_type: str, entries: Sequence[tuple[str, dict[str, Any]]]
) -> None:
    """`record` for many resources at once, ``(resource_id, changes)`` each (bulk imports):
    a few multi-row INSERTs instead of one statement per event."""
    now, ids = utcnow(), new_ids(len(entries))  # one CSPRNG draw, not one per event
    rows = [
        _row(caller, action, resource_type, rid, changes, now, event_id)
        for (rid, changes), event_id in zip(entries, ids, strict=True)
    ]
    bulk.insert_rows(AuditEvent, rows)


def _row(
    caller: Principal,
    action: str,
    resource_type: str,
    resource_id: str,
    changes: dict[str, Any] | None,
    now: dt.datetime,
    event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "tenant_id": caller.tenant_id,
        "id": event_id or new_id(),
        "environment": caller.environment,
        "action": action,
        "actor_type": caller.actor_type,
        "actor_id": caller.actor_id,
        "on_behalf_of": caller.on_behalf_of,
        "api_key_id": caller.api_key_id,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "request_id": caller.request_id,
        "ip": caller.ip,
        "user_agent": (caller.user_agent or "")[:512] or None,
        "changes": safe_changes(changes or {}),
        "occurred_at": now,
    }


def erase_values(tenant_id: str, resource_type: str, *resource_ids: str) -> None:
    """Blank the personal values of erased resources' events; keep the trail itself."""
    events = AuditEvent.select(AuditEvent.id, AuditEvent.changes).where(
        (AuditEvent.tenant_id == tenant_id)
        & (AuditEvent.resource_type == resource_type)
        & AuditEvent.resource_id.in_(resource_ids)
    )
    for event in events:
        blanked = {name: [ERASED, ERASED] for name in event.changes}
        if blanked == event.changes:
            continue
        (
            AuditEvent.update(changes=blanked)
            .where((AuditEvent.tenant_id == tenant_id) & (AuditEvent.id == event.id))
            .execute()
        )


@dataclass(frozen=True)
class AuditFilters:
    action: str | None = None
    actor_id: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _where(caller: Principal, filters: AuditFilters) -> peewee.Expression:
    condition = AuditEvent.tenant_id == caller.tenant_id
    # As with API keys: live credentials see the whole tenant's trail, sandbox ones only sandbox.
    if caller.environment == SANDBOX:
        condition &= AuditEvent.environment == SANDBOX
    exact = {
        AuditEvent.action: filters.action,
        AuditEvent.actor_id: filters.actor_id,
        AuditEvent.resource_type: filters.resource_type,
        AuditEvent.resource_id: filters.resource_id,
    }
    for column, value in exact.items():
        if value is not None:
            condition &= column == value
    if filters.since is not None:
        condition &= AuditEvent.occurred_at >= filters.since
    if filters.until is not None:
        condition &= AuditEvent.occurred_at < filters.until
    return condition


@reading
def list_events(
    caller: Principal, filters: AuditFilters, *, limit: int, cursor: str | None, codec: CursorCodec
) -> PageResult[AuditEvent]:
    """Newest first, keyset-paginated on (occurred_at, id); a cursor is bound to its filters."""
    return keyset_page(
        AuditEvent.select().where(_where(caller, filters)),
        PageRequest(limit, cursor, codec),
        Keyset(AuditEvent.occurred_at, AuditEvent.id, descending=True),
        "audit_events",
        {"env": caller.environment, **filters.__dict__},
    )
