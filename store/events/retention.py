"""How long events (and finished deliveries with their attempts) are kept:
``LEADPIPE_EVENT_RETENTION_DAYS``, default 30. Purged on write (`store.events.emit`) and hourly
by the worker; the feed also hides anything older, purged or not."""

from __future__ import annotations

import datetime as dt

from store.db import transaction
from store.events.models import Event
from store.models import utcnow
from store.webhooks import config
from store.webhooks.models import WebhookAttempt, WebhookDelivery

PENDING = "pending"


def cutoff(now: dt.datetime | None = None) -> dt.datetime:
    return (now or utcnow()) - config.current().event_retention


def purge_expired(tenant_id: str, now: dt.datetime | None = None) -> int:
    """Delete one tenant's expired events, finished deliveries and their attempts. A pending
    delivery is never purged (retries span days, not weeks); its event stays until it ends."""
    before = cutoff(now)
    old = WebhookDelivery.select(WebhookDelivery.id).where(
        (WebhookDelivery.tenant_id == tenant_id)
        & (WebhookDelivery.created_at < before)
        & (WebhookDelivery.status != PENDING)
    )
    ids = [row.id for row in old]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        WebhookAttempt.delete().where(
            (WebhookAttempt.tenant_id == tenant_id) & WebhookAttempt.delivery_id.in_(chunk)
        ).execute()
        WebhookDelivery.delete().where(
            (WebhookDelivery.tenant_id == tenant_id) & WebhookDelivery.id.in_(chunk)
        ).execute()
    pending = WebhookDelivery.select(WebhookDelivery.event_id).where(
        (WebhookDelivery.tenant_id == tenant_id) & (WebhookDelivery.status == PENDING)
    )
    query = Event.delete().where(
        (Event.tenant_id == tenant_id) & (Event.created_at < before) & Event.id.not_in(pending)
    )
    return int(query.execute())


@transaction
def purge_all_expired() -> int:
    """Every tenant's, tenant by tenant (the worker's hourly maintenance)."""
    tenants = [
        row.tenant_id for row in Event.select(Event.tenant_id).where(Event.created_at < cutoff()).distinct()
    ]
    return sum(purge_expired(tenant_id) for tenant_id in tenants)
