"""The ``events`` table (migration 0009): the transactional outbox and the public feed."""

from __future__ import annotations

import peewee

from store.models import BaseModel, utcnow


class Event(BaseModel):
    """One change, as the feed and the webhooks show it; ``data`` holds ``object`` and
    ``previous`` (and per-type extras). Kept `LEADPIPE_EVENT_RETENTION_DAYS`."""

    tenant_id = peewee.CharField(max_length=17)
    id = peewee.CharField(max_length=17)
    environment = peewee.CharField(max_length=8)
    type = peewee.CharField(max_length=40)
    resource_id = peewee.CharField(max_length=17)
    data = peewee.JSONField()
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "events"
        primary_key = peewee.CompositeKey("tenant_id", "id")
