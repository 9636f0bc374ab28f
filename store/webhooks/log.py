"""The delivery log of an endpoint, replays, and test events.

Replays re-arm the one delivery an event has per endpoint (its attempts stay in the log) or
create it; a delivery still pending is already on its way and is left alone. The delivery
keeps the event's id as ``webhook-id``, so a receiver that de-duplicates sees a replay as the
same message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from store.access.principals import Principal
from store.db import reading, transaction
from store.errors import Conflict, FieldError, NotFound, ValidationFailed
from store.events import emit, retention
from store.events.models import Event
from store.jobs import queue as jobs
from store.models import utcnow
from store.pagination import CursorCodec, Keyset, PageRequest, PageResult, keyset_page
from store.webhooks import access, fanout
from store.webhooks.endpoints import find_endpoint
from store.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

MAX_REPLAY = 1000


@dataclass(frozen=True)
class DeliveryView:
    delivery: WebhookDelivery
    event_type: str | None
    attempts: list[WebhookAttempt]


@reading
def list_deliveries(
    caller: Principal,
    endpoint_id: str,
    *,
    status: str | None,
    limit: int,
    cursor: str | None,
    codec: CursorCodec,
) -> PageResult[DeliveryView]:
    """Newest first, each with its attempts (oldest first) and its event's type."""
    endpoint = find_endpoint(caller, endpoint_id)
    query = WebhookDelivery.select().where(
        (WebhookDelivery.tenant_id == endpoint.tenant_id) & (WebhookDelivery.endpoint_id == endpoint.id)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    page = keyset_page(
        query,
        PageRequest(limit, cursor, codec),
        Keyset(WebhookDelivery.created_at, WebhookDelivery.id, descending=True),
        "webhook_deliveries",
        {"endpoint": endpoint.id, "status": status},
    )
    return PageResult(_views(endpoint.tenant_id, page.items), page.next_cursor)


def _views(tenant_id: str, deliveries: list[WebhookDelivery]) -> list[DeliveryView]:
    ids = [d.id for d in deliveries]
    attempts: dict[str, list[WebhookAttempt]] = {}
    if ids:
        for attempt in (
            WebhookAttempt.select()
            .where((WebhookAttempt.tenant_id == tenant_id) & WebhookAttempt.delivery_id.in_(ids))
            .order_by(WebhookAttempt.attempted_at, WebhookAttempt.id)
        ):
            attempts.setdefault(attempt.delivery_id, []).append(attempt)
    event_ids = [d.event_id for d in deliveries]
    types = (
        {
            e.id: e.type
            for e in Event.select(Event.id, Event.type).where(
                (Event.tenant_id == tenant_id) & Event.id.in_(event_ids)
            )
        }
        if event_ids
        else {}
    )
    return [DeliveryView(d, types.get(d.event_id), attempts.get(d.id, [])) for d in deliveries]


def _replayable(endpoint: WebhookEndpoint, event: Event) -> bool:
    if event.type == emit.WEBHOOK_TEST:
        return bool(event.resource_id == endpoint.id)
    return fanout.subscribes(endpoint, event.type, event.data)


def _arm(endpoint: WebhookEndpoint, events: Sequence[Event]) -> list[str]:
    """Queue a delivery of each event to the endpoint; returns the delivery ids queued."""
    existing = (
        {
            d.event_id: d
            for d in WebhookDelivery.select().where(
                (WebhookDelivery.tenant_id == endpoint.tenant_id)
                & (WebhookDelivery.endpoint_id == endpoint.id)
                & WebhookDelivery.event_id.in_([e.id for e in events])
            )
        }
        if events
        else {}
    )
    fresh, queued, now = [], [], utcnow()
    for event in events:
        delivery = existing.get(event.id)
        if delivery is None:
            fresh.append(fanout.delivery_row(endpoint, event.id))
        elif delivery.status != fanout.PENDING:
            generation = delivery.generation + 1
            WebhookDelivery.update(
                status=fanout.PENDING,
                generation=generation,
                next_attempt_at=now,
                finished_at=None,
                sending_until=None,
                updated_at=now,
            ).where(
                (WebhookDelivery.tenant_id == endpoint.tenant_id) & (WebhookDelivery.id == delivery.id)
            ).execute()
            payload = {"deliveryId": delivery.id, "generation": generation}
            jobs.enqueue(endpoint.tenant_id, fanout.KIND, payload, max_attempts=fanout.JOB_ATTEMPTS)
            queued.append(delivery.id)
    fanout.queue(endpoint.tenant_id, fresh)
    return queued + [row["id"] for row in fresh]


def _enabled(caller: Principal, endpoint_id: str) -> WebhookEndpoint:
    endpoint = find_endpoint(caller, endpoint_id)
    if not endpoint.enabled:
        raise Conflict("The endpoint is disabled: enable it (PATCH enabled: true) before replaying")
    return endpoint


@transaction
def replay(
    caller: Principal,
    endpoint_id: str,
    *,
    event_ids: list[str] | None = None,
    since: dt.datetime | None = None,
) -> list[str]:
    """Deliver the named events again, or every subscribed event since a time (oldest first,
    at most `MAX_REPLAY`). Another tenant's or environment's event is 404."""
    endpoint = _enabled(caller, endpoint_id)
    access.ensure_can_manage(caller, endpoint.tenant_id, endpoint.environment)  # re-sends lead data
    visible = (
        (Event.tenant_id == caller.tenant_id)
        & (Event.environment == endpoint.environment)
        & (Event.created_at >= retention.cutoff())
    )
    if event_ids is not None:
        wanted = list(dict.fromkeys(event_ids))
        found = {e.id: e for e in Event.select().where(visible & Event.id.in_(wanted))}
        missing = [i for i in wanted if i not in found]
        if missing:
            raise NotFound(f"Event not found: {', '.join(missing[:10])}")
        refused = [i for i in wanted if not _replayable(endpoint, found[i])]
        if refused:
            message = f"The endpoint does not subscribe to these events: {', '.join(refused[:10])}"
            raise ValidationFailed([FieldError("eventIds", message)])
        return _arm(endpoint, [found[i] for i in wanted])
    assert since is not None
    query = Event.select().where(visible & (Event.created_at >= since)).order_by(Event.created_at, Event.id)
    chosen: list[Event] = []
    for event in query.iterator():
        if _replayable(endpoint, event):
            chosen.append(event)
            if len(chosen) == MAX_REPLAY:
                break
    return _arm(endpoint, chosen)


@transaction
def send_test(caller: Principal, endpoint_id: str) -> DeliveryView:
    """A ``webhook.test`` event, delivered to this endpoint only (even if not subscribed)."""
    endpoint = _enabled(caller, endpoint_id)
    event = emit.emit_test(endpoint.tenant_id, endpoint.environment, endpoint.id)
    row = fanout.delivery_row(endpoint, event["id"])
    fanout.queue(endpoint.tenant_id, [row])
    delivery = WebhookDelivery.get(
        (WebhookDelivery.tenant_id == endpoint.tenant_id) & (WebhookDelivery.id == row["id"])
    )
    return _views(endpoint.tenant_id, [delivery])[0]
