"""Durable job queue, detected duplicate pairs, and ``leads.duplicate_of``.

Frozen inline models, independent of `store.models`.
"""

import peewee


def up(migrator, db):  # type: ignore[no-untyped-def]
    class Base(peewee.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Job(Base):
        tenant_id = peewee.CharField(max_length=17)
        id = peewee.CharField(max_length=17)
        kind = peewee.CharField(max_length=32)
        payload = peewee.JSONField()
        state = peewee.CharField(max_length=10)
        attempts = peewee.IntegerField(default=0)
        max_attempts = peewee.IntegerField(default=5)
        run_at = peewee.DateTimeField()
        locked_by = peewee.CharField(max_length=64, null=True)
        locked_until = peewee.DateTimeField(null=True)
        last_error = peewee.TextField(null=True)
        result = peewee.JSONField(null=True)
        created_at = peewee.DateTimeField()
        updated_at = peewee.DateTimeField()
        finished_at = peewee.DateTimeField(null=True)

        class Meta:
            table_name = "jobs"
            primary_key = peewee.CompositeKey("tenant_id", "id")
            indexes = ((("tenant_id", "state", "run_at"), False),)

    class LeadDuplicate(Base):
        tenant_id = peewee.CharField(max_length=17)
        lead_id = peewee.CharField(max_length=17)
        duplicate_id = peewee.CharField(max_length=17)
        environment = peewee.CharField(max_length=8)
        reasons = peewee.JSONField()
        detected_at = peewee.DateTimeField()

        class Meta:
            table_name = "lead_duplicates"
            primary_key = peewee.CompositeKey("tenant_id", "lead_id", "duplicate_id")
            indexes = ((("tenant_id", "duplicate_id"), False),)

    db.create_tables([Job, LeadDuplicate])
    # The one index not led by tenant_id: workers claim due jobs across all tenants (the queue
    # is shared infrastructure, like the key-hash lookup that finds a tenant). Partial, so it
    # holds only unfinished jobs and stays small however many jobs are done.
    db.execute_sql("CREATE INDEX jobs_due ON jobs (state, run_at, id) WHERE state IN ('queued', 'running')")
    migrator.migrate(migrator.add_column("leads", "duplicate_of", peewee.CharField(max_length=17, null=True)))
    # Duplicate matching by name (case-insensitive), then company, without a partition scan.
    db.execute_sql(
        "CREATE INDEX leads_name_match ON leads (tenant_id, environment, lower(last_name), lower(first_name))"
    )
