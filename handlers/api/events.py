"""``GET /v1/events`` and ``GET /v1/events/{eventId}``: the event feed (scope ``read:leads``)."""

from __future__ import annotations

from typing import Any

from handlers.api import timestamps
from handlers.http import envelope
from handlers.http.context import app_state
from handlers.http.security import principal_of
from store.events import feed
from store.events.models import Event


def present(row: Event) -> dict[str, Any]:
    return {
        "id": row.id,
        "type": row.type,
        "createdAt": envelope.timestamp(row.created_at),
        "environment": row.environment,
        "resourceId": row.resource_id,
        "data": row.data,
    }


def list_events(
    token_info: dict[str, Any],
    type_: str | None = None,
    resource_id: str | None = None,
    since: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> envelope.Reply:
    filters = feed.EventFilters(type=type_, resource_id=resource_id, since=timestamps.parse(since, "since"))
    result = feed.list_events(
        principal_of(token_info), filters, limit=limit, cursor=cursor, codec=app_state().cursors
    )
    return envelope.page(result, present, limit=limit)


def get_event(event_id: str, token_info: dict[str, Any]) -> envelope.Reply:
    return envelope.ok(present(feed.get_event(principal_of(token_info), event_id)))
