"""Audit log and login-failure throttle.

``audit_events`` is tenant-owned: ``tenant_id`` leads its primary key and every index, and
each index ends in ``(occurred_at, id)`` so a filtered, newest-first page is one range scan.

``login_failures`` is the one table keyed without a tenant: a failed login for an unknown
email has no tenant, and the per-IP limit spans tenants. It holds only a SHA-256 of the
throttle key (``account:<email>`` or ``ip:<address>``), never an email or password.

Frozen inline models, independent of `store.models`, as in 0001.
"""

import peewee


def up(migrator, db):  # type: ignore[no-untyped-def]
    class Base(peewee.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class AuditEvent(Base):
        tenant_id = peewee.CharField(max_length=17)
        id = peewee.CharField(max_length=17)
        environment = peewee.CharField(max_length=8)
        action = peewee.CharField(max_length=48)
        actor_type = peewee.CharField(max_length=12)
        actor_id = peewee.CharField(max_length=17)
        on_behalf_of = peewee.CharField(max_length=17, null=True)
        api_key_id = peewee.CharField(max_length=17, null=True)
        resource_type = peewee.CharField(max_length=32)
        resource_id = peewee.CharField(max_length=17)
        request_id = peewee.CharField(max_length=128, null=True)
        ip = peewee.CharField(max_length=64, null=True)
        user_agent = peewee.CharField(max_length=512, null=True)
        changes = peewee.JSONField()
        occurred_at = peewee.DateTimeField()

        class Meta:
            table_name = "audit_events"
            primary_key = peewee.CompositeKey("tenant_id", "id")
            indexes = (
                (("tenant_id", "occurred_at", "id"), False),
                (("tenant_id", "action", "occurred_at", "id"), False),
                (("tenant_id", "actor_id", "occurred_at", "id"), False),
                (("tenant_id", "resource_type", "resource_id", "occurred_at", "id"), False),
            )

    class LoginFailure(Base):
        key_hash = peewee.CharField(max_length=64)
        id = peewee.CharField(max_length=17)
        occurred_at = peewee.DateTimeField()

        class Meta:
            table_name = "login_failures"
            primary_key = peewee.CompositeKey("key_hash", "id")
            indexes = ((("key_hash", "occurred_at"), False),)

    db.create_tables([AuditEvent, LoginFailure])
