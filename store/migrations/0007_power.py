"""Power invariant: rotation grace periods and replies bound to the credential that made them.

``api_keys.previous_key_hash`` / ``previous_expires_at``: the secret a rotation replaced, still
accepted until then. Unique like ``key_hash`` (the lookup that finds a tenant from a secret).

``idempotency_records.owner``: the credential that made the request; a reply is replayed to it
alone. Rows stored before this migration have none, so they are never replayed (they expire
within 24 hours). ``resource_id``: the resource the reply shows, so erasing a lead drops every
stored reply that holds it (indexed by tenant first, like every tenant-owned index).
"""

import peewee


def up(migrator, db):  # type: ignore[no-untyped-def]
    migrator.migrate(
        migrator.add_column("api_keys", "previous_key_hash", peewee.CharField(max_length=64, null=True)),
        migrator.add_column("api_keys", "previous_expires_at", peewee.DateTimeField(null=True)),
        migrator.add_index("api_keys", ("previous_key_hash",), unique=True),
        migrator.add_column("idempotency_records", "owner", peewee.CharField(max_length=64, null=True)),
        migrator.add_column("idempotency_records", "resource_id", peewee.CharField(max_length=17, null=True)),
        migrator.add_index("idempotency_records", ("tenant_id", "resource_id")),
    )


def down(migrator, db):  # type: ignore[no-untyped-def]
    migrator.migrate(
        migrator.drop_index("idempotency_records", "idempotency_records_tenant_id_resource_id"),
        migrator.drop_column("idempotency_records", "resource_id"),
        migrator.drop_column("idempotency_records", "owner"),
        migrator.drop_index("api_keys", "api_keys_previous_key_hash"),
        migrator.drop_column("api_keys", "previous_expires_at"),
        migrator.drop_column("api_keys", "previous_key_hash"),
    )
