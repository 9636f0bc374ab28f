"""Lead versions (ETag / If-Match) and revoked session tokens (logout).

``leads.version`` starts at 1 and grows by one with every change to the lead's representation:
it is the strong validator behind a lead's ``ETag``. Existing leads start at 1.

``revoked_sessions`` holds the id (``j``) of every session token signed out before its expiry,
tenant first like every tenant-owned table; a row is useless once the token would have expired
anyway (``expires_at``), and is pruned after that.

Frozen inline models, independent of `store.models`, like every migration.
"""

import peewee


def up(migrator, db):  # type: ignore[no-untyped-def]
    migrator.migrate(migrator.add_column("leads", "version", peewee.IntegerField(default=1)))

    class RevokedSession(peewee.Model):
        tenant_id = peewee.CharField(max_length=17)
        token_id = peewee.CharField(max_length=32)
        user_id = peewee.CharField(max_length=17)
        revoked_at = peewee.DateTimeField()
        expires_at = peewee.DateTimeField()

        class Meta:
            database = db
            table_name = "revoked_sessions"
            primary_key = peewee.CompositeKey("tenant_id", "token_id")
            indexes = ((("tenant_id", "expires_at"), False),)

    db.create_tables([RevokedSession])


def down(migrator, db):  # type: ignore[no-untyped-def]
    db.execute_sql("DROP TABLE IF EXISTS revoked_sessions")
    migrator.migrate(migrator.drop_column("leads", "version"))
