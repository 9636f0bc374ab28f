"""The audit log, read-only: there is no route that changes or deletes an event."""

from __future__ import annotations

from typing import Any

from handlers.api import timestamps
from handlers.http import envelope
from handlers.http.context import app_state
from handlers.http.names import to_camel
from handlers.http.security import principal_of
from store.audit import log as audit
from store.models import AuditEvent


def present(row: AuditEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "action": row.action,
        "actor": {"type": row.actor_type, "id": row.actor_id},
        "onBehalfOf": row.on_behalf_of,
        "apiKeyId": row.api_key_id,
        "resourceType": row.resource_type,
        "resourceId": row.resource_id,
        "requestId": row.request_id,
        "ip": row.ip,
        "userAgent": row.user_agent,
        "changes": {to_camel(name): pair for name, pair in row.changes.items()},
        "occurredAt": envelope.timestamp(row.occurred_at),
    }


def list_audit_events(
    token_info: dict[str, Any],
    action: str | None = None,
    actor_id: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> envelope.Reply:
    filters = audit.AuditFilters(
        action=action,
        actor_id=actor_id,
        resource_type=resource_type,
        resource_id=resource_id,
        since=timestamps.parse(since, "since"),
        until=timestamps.parse(until, "until"),
    )
    result = audit.list_events(
        principal_of(token_info), filters, limit=limit, cursor=cursor, codec=app_state().cursors
    )
    return envelope.page(result, present, limit=limit)
