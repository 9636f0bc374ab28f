"""Bulk CSV imports: the import record and its uploaded file, stored in chunks.

The file lives in the database (not on a local disk) so that any worker process on any host
can read it, and a crash or restart between upload and processing loses nothing. Frozen
inline models, independent of `store.models`.
"""

import peewee


def up(migrator, db):  # type: ignore[no-untyped-def]
    class Base(peewee.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class LeadImport(Base):
        tenant_id = peewee.CharField(max_length=17)
        id = peewee.CharField(max_length=17)
        environment = peewee.CharField(max_length=8)
        status = peewee.CharField(max_length=12)
        on_duplicate = peewee.CharField(max_length=8)
        actor = peewee.JSONField()
        job_id = peewee.CharField(max_length=17, null=True)
        size_bytes = peewee.BigIntegerField(default=0)
        bytes_done = peewee.BigIntegerField(default=0)
        rows_done = peewee.IntegerField(default=0)
        created_count = peewee.IntegerField(default=0)
        updated_count = peewee.IntegerField(default=0)
        failed_count = peewee.IntegerField(default=0)
        errors = peewee.JSONField()
        error_count = peewee.IntegerField(default=0)
        message = peewee.TextField(null=True)
        created_at = peewee.DateTimeField()
        updated_at = peewee.DateTimeField()
        started_at = peewee.DateTimeField(null=True)
        finished_at = peewee.DateTimeField(null=True)

        class Meta:
            table_name = "lead_imports"
            primary_key = peewee.CompositeKey("tenant_id", "id")
            indexes = ((("tenant_id", "status", "created_at"), False),)

    class ImportChunk(Base):
        tenant_id = peewee.CharField(max_length=17)
        import_id = peewee.CharField(max_length=17)
        seq = peewee.IntegerField()
        data = peewee.BlobField()

        class Meta:
            table_name = "import_chunks"
            primary_key = peewee.CompositeKey("tenant_id", "import_id", "seq")

    db.create_tables([LeadImport, ImportChunk])
