"""Lead counts per tenant and environment, so the plan quota check is one row read instead of
a COUNT over up to millions of leads on every create. Backfilled from the leads table.

Frozen model, independent of `store.models`, like every migration.
"""

import peewee


def up(migrator, db):  # type: ignore[no-untyped-def]
    class LeadCount(peewee.Model):
        tenant_id = peewee.CharField(max_length=17)
        environment = peewee.CharField(max_length=8)
        count = peewee.BigIntegerField(default=0)

        class Meta:
            database = db
            table_name = "lead_counts"
            primary_key = peewee.CompositeKey("tenant_id", "environment")

    db.create_tables([LeadCount])
    db.execute_sql(
        "INSERT INTO lead_counts (tenant_id, environment, count) "
        "SELECT tenant_id, environment, COUNT(*) FROM leads GROUP BY tenant_id, environment"
    )


def down(migrator, db):  # type: ignore[no-untyped-def]
    db.execute_sql("DROP TABLE IF EXISTS lead_counts")
