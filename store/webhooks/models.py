"""Webhook tables (migration 0009): endpoints, deliveries (one per event and endpoint) and the
attempts of each delivery."""

from __future__ import annotations

import peewee

from store.models import BaseModel, utcnow


class WebhookEndpoint(BaseModel):
    tenant_id = peewee.CharField(max_length=17)
    id = peewee.CharField(max_length=17)
    environment = peewee.CharField(max_length=8)
    url = peewee.TextField()
    events = peewee.JSONField()
    # camelCase lead fields: a ``lead.updated`` is delivered only when one of them changed.
    fields = peewee.JSONField(null=True)
    description = peewee.TextField(null=True)
    enabled = peewee.BooleanField(default=True)
    disabled_reason = peewee.TextField(null=True)
    disabled_at = peewee.DateTimeField(null=True)
    # AES-GCM under a key derived from LEADPIPE_SECRET_KEY (`store.webhooks.secrets`): the
    # server must compute HMACs with it, so it cannot be hashed, and must not rest in clear.
    secret_sealed = peewee.TextField()
    previous_secret_sealed = peewee.TextField(null=True)
    previous_secret_until = peewee.DateTimeField(null=True)
    # Start of the current run of failures (None after a success): 5 days of it disables.
    failing_since = peewee.DateTimeField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "webhook_endpoints"
        primary_key = peewee.CompositeKey("tenant_id", "id")


class WebhookDelivery(BaseModel):
    """An event on its way to one endpoint: ``pending`` -> ``succeeded`` | ``failed``."""

    tenant_id = peewee.CharField(max_length=17)
    id = peewee.CharField(max_length=17)
    endpoint_id = peewee.CharField(max_length=17)
    event_id = peewee.CharField(max_length=17)
    environment = peewee.CharField(max_length=8)
    status = peewee.CharField(max_length=10)
    attempt_count = peewee.IntegerField(default=0)
    # Bumped on every (re)scheduling: only the job carrying the current generation may send.
    generation = peewee.IntegerField(default=0)
    next_attempt_at = peewee.DateTimeField(null=True)
    # Set while a worker is sending: the per-endpoint concurrency bound counts these.
    sending_until = peewee.DateTimeField(null=True)
    last_status_code = peewee.IntegerField(null=True)
    last_error = peewee.TextField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)
    finished_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "webhook_deliveries"
        primary_key = peewee.CompositeKey("tenant_id", "id")


class WebhookAttempt(BaseModel):
    tenant_id = peewee.CharField(max_length=17)
    id = peewee.CharField(max_length=17)
    delivery_id = peewee.CharField(max_length=17)
    attempted_at = peewee.DateTimeField(default=utcnow)
    status_code = peewee.IntegerField(null=True)
    duration_ms = peewee.IntegerField(default=0)
    error = peewee.TextField(null=True)
    response_body = peewee.TextField(null=True)
    next_attempt_at = peewee.DateTimeField(null=True)

    class Meta:
        table_name = "webhook_attempts"
        primary_key = peewee.CompositeKey("tenant_id", "id")
