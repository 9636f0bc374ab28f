"""Idempotency records: one sealed reply per (tenant, environment, hashed Idempotency-Key).

Frozen model, independent of `store.models`, like every migration.
"""

import peewee


def up(migrator, db):  # type: ignore[no-untyped-def]
    class IdempotencyRecord(peewee.Model):
        tenant_id = peewee.CharField(max_length=17)
        environment = peewee.CharField(max_length=8)
        key_hash = peewee.CharField(max_length=64)
        fingerprint = peewee.CharField(max_length=64)
        status_code = peewee.IntegerField(null=True)
        response = peewee.TextField(null=True)
        created_at = peewee.DateTimeField()
        expires_at = peewee.DateTimeField()

        class Meta:
            database = db
            table_name = "idempotency_records"
            primary_key = peewee.CompositeKey("tenant_id", "environment", "key_hash")
            # The purge deletes a tenant's expired records by this index.
            indexes = ((("tenant_id", "expires_at"), False),)

    db.create_tables([IdempotencyRecord])


def down(migrator, db):  # type: ignore[no-untyped-def]
    db.execute_sql("DROP TABLE IF EXISTS idempotency_records")
