"""Public capture: recent submissions per publishable key, to collapse repeated posts.

Frozen inline model, independent of `store.models`. Shares number 0004 (this feature's block)
with the job queue; the runner applies files by name, so existing databases get it too.
"""

import peewee


def up(migrator, db):  # type: ignore[no-untyped-def]
    class CaptureSubmission(peewee.Model):
        tenant_id = peewee.CharField(max_length=17)
        api_key_id = peewee.CharField(max_length=17)
        payload_hash = peewee.CharField(max_length=64)
        lead_id = peewee.CharField(max_length=17)
        created_at = peewee.DateTimeField()

        class Meta:
            database = db
            table_name = "capture_submissions"
            primary_key = peewee.CompositeKey("tenant_id", "api_key_id", "payload_hash")
            indexes = ((("tenant_id", "api_key_id", "created_at"), False),)

    db.create_tables([CaptureSubmission])
