"""The event log (outbox + feed) and webhook endpoints, deliveries and attempts.

Frozen inline models, independent of `store.events.models` / `store.webhooks.models`. Every
index leads with ``tenant_id``.
"""

import peewee


def up(migrator, db):  # type: ignore[no-untyped-def]
    class Base(peewee.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Event(Base):
        tenant_id = peewee.CharField(max_length=17)
        id = peewee.CharField(max_length=17)
        environment = peewee.CharField(max_length=8)
        type = peewee.CharField(max_length=40)
        resource_id = peewee.CharField(max_length=17)
        data = peewee.JSONField()
        created_at = peewee.DateTimeField()

        class Meta:
            table_name = "events"
            primary_key = peewee.CompositeKey("tenant_id", "id")
            indexes = (
                (("tenant_id", "environment", "created_at", "id"), False),
                (("tenant_id", "resource_id"), False),
                (("tenant_id", "created_at"), False),
            )

    class WebhookEndpoint(Base):
        tenant_id = peewee.CharField(max_length=17)
        id = peewee.CharField(max_length=17)
        environment = peewee.CharField(max_length=8)
        url = peewee.TextField()
        events = peewee.JSONField()
        fields = peewee.JSONField(null=True)
        description = peewee.TextField(null=True)
        enabled = peewee.BooleanField(default=True)
        disabled_reason = peewee.TextField(null=True)
        disabled_at = peewee.DateTimeField(null=True)
        secret_sealed = peewee.TextField()
        previous_secret_sealed = peewee.TextField(null=True)
        previous_secret_until = peewee.DateTimeField(null=True)
        failing_since = peewee.DateTimeField(null=True)
        created_at = peewee.DateTimeField()
        updated_at = peewee.DateTimeField()

        class Meta:
            table_name = "webhook_endpoints"
            primary_key = peewee.CompositeKey("tenant_id", "id")
            indexes = ((("tenant_id", "environment", "created_at"), False),)

    class WebhookDelivery(Base):
        tenant_id = peewee.CharField(max_length=17)
        id = peewee.CharField(max_length=17)
        endpoint_id = peewee.CharField(max_length=17)
        event_id = peewee.CharField(max_length=17)
        environment = peewee.CharField(max_length=8)
        status = peewee.CharField(max_length=10)
        attempt_count = peewee.IntegerField(default=0)
        generation = peewee.IntegerField(default=0)
        next_attempt_at = peewee.DateTimeField(null=True)
        sending_until = peewee.DateTimeField(null=True)
        last_status_code = peewee.IntegerField(null=True)
        last_error = peewee.TextField(null=True)
        created_at = peewee.DateTimeField()
        updated_at = peewee.DateTimeField()
        finished_at = peewee.DateTimeField(null=True)

        class Meta:
            table_name = "webhook_deliveries"
            primary_key = peewee.CompositeKey("tenant_id", "id")
            indexes = (
                # One delivery per event and endpoint: a replay re-arms it, never duplicates it.
                (("tenant_id", "endpoint_id", "event_id"), True),
                (("tenant_id", "endpoint_id", "created_at"), False),
                (("tenant_id", "event_id"), False),
            )

    class WebhookAttempt(Base):
        tenant_id = peewee.CharField(max_length=17)
        id = peewee.CharField(max_length=17)
        delivery_id = peewee.CharField(max_length=17)
        attempted_at = peewee.DateTimeField()
        status_code = peewee.IntegerField(null=True)
        duration_ms = peewee.IntegerField(default=0)
        error = peewee.TextField(null=True)
        response_body = peewee.TextField(null=True)
        next_attempt_at = peewee.DateTimeField(null=True)

        class Meta:
            table_name = "webhook_attempts"
            primary_key = peewee.CompositeKey("tenant_id", "id")
            indexes = ((("tenant_id", "delivery_id", "attempted_at"), False),)

    db.create_tables([Event, WebhookEndpoint, WebhookDelivery, WebhookAttempt])


def down(migrator, db):  # type: ignore[no-untyped-def]
    for table in ("webhook_attempts", "webhook_deliveries", "webhook_endpoints", "events"):
        db.execute_sql(f"DROP TABLE IF EXISTS {table}")
