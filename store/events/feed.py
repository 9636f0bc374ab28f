"""Reading the event feed: ``GET /v1/events`` (oldest first, so a poller pages forward) and
``GET /v1/events/{eventId}``. Tenant- and environment-scoped; older than the retention is gone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import peewee

from store.access.principals import Principal
from store.db import reading
from store.errors import NotFound
from store.events import retention
from store.events.models import Event
from store.pagination import CursorCodec, Keyset, PageRequest, PageResult, keyset_page


@dataclass(frozen=True)
class EventFilters:
    type: str | None = None
    resource_id: str | None = None
    since: dt.datetime | None = None


def _visible(caller: Principal) -> peewee.Expression:
    return (
        (Event.tenant_id == caller.tenant_id)
        & (Event.environment == caller.environment)
        & (Event.created_at >= retention.cutoff())
    )


@reading
def list_events(
    caller: Principal, filters: EventFilters, *, limit: int, cursor: str | None, codec: CursorCodec
) -> PageResult[Event]:
    query = Event.select().where(_visible(caller))
    if filters.type is not None:
        query = query.where(Event.type == filters.type)
    if filters.resource_id is not None:
        query = query.where(Event.resource_id == filters.resource_id)
    if filters.since is not None:
        query = query.where(Event.created_at >= filters.since)
    return keyset_page(
        query,
        PageRequest(limit, cursor, codec),
        Keyset(Event.created_at, Event.id),
        "events",
        {"env": caller.environment, **filters.__dict__},
    )


def find_event(caller: Principal, event_id: str) -> Event:
    event = Event.select().where(_visible(caller) & (Event.id == event_id)).first()
    if event is None:
        raise NotFound("Event not found")
    return event


@reading
def get_event(caller: Principal, event_id: str) -> Event:
    return find_event(caller, event_id)
