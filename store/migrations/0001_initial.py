"""Initial schema: tenants, users, API keys, leads, lead tags, lead history.

The models here are a frozen copy, deliberately independent of `store.models`, so this
migration keeps creating exactly this schema however the application models evolve.
"""

import peewee


def up(migrator, db):  # type: ignore[no-untyped-def]
    class Base(peewee.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Tenant(Base):
        id = peewee.CharField(max_length=17, primary_key=True)
        name = peewee.CharField(max_length=120)
        plan = peewee.CharField(max_length=16)
        rate_limit = peewee.IntegerField(null=True)
        rate_burst = peewee.IntegerField(null=True)
        created_at = peewee.DateTimeField()

        class Meta:
            table_name = "tenants"

    class User(Base):
        tenant_id = peewee.CharField(max_length=17)
        id = peewee.CharField(max_length=17)
        email = peewee.CharField(max_length=254)
        name = peewee.CharField(max_length=120)
        role = peewee.CharField(max_length=16)
        password_hash = peewee.CharField(max_length=255)
        active = peewee.BooleanField(default=True)
        session_version = peewee.IntegerField(default=1)
        created_at = peewee.DateTimeField()
        updated_at = peewee.DateTimeField()

        class Meta:
            table_name = "users"
            primary_key = peewee.CompositeKey("tenant_id", "id")
            indexes = ((("tenant_id", "email"), True), (("email",), False))

    class ApiKey(Base):
        tenant_id = peewee.CharField(max_length=17)
        id = peewee.CharField(max_length=17)
        key_hash = peewee.CharField(max_length=64, unique=True)
        prefix = peewee.CharField(max_length=24)
        type = peewee.CharField(max_length=12)
        environment = peewee.CharField(max_length=8)
        name = peewee.CharField(max_length=120)
        description = peewee.TextField(null=True)
        scopes = peewee.JSONField()
        rate_limit_tier = peewee.CharField(max_length=12)
        allowed_origins = peewee.JSONField(null=True)
        created_by = peewee.CharField(max_length=17, null=True)
        expires_at = peewee.DateTimeField(null=True)
        revoked_at = peewee.DateTimeField(null=True)
        last_used_at = peewee.DateTimeField(null=True)
        created_at = peewee.DateTimeField()

        class Meta:
            table_name = "api_keys"
            primary_key = peewee.CompositeKey("tenant_id", "id")

    class Lead(Base):
        tenant_id = peewee.CharField(max_length=17)
        id = peewee.CharField(max_length=17)
        environment = peewee.CharField(max_length=8)
        email = peewee.CharField(max_length=254)
        email_normalized = peewee.CharField(max_length=254)
        first_name = peewee.CharField(max_length=100)
        last_name = peewee.CharField(max_length=100)
        phone = peewee.CharField(max_length=40, null=True)
        phone_e164 = peewee.CharField(max_length=20, null=True)
        company = peewee.CharField(max_length=200, null=True)
        title = peewee.CharField(max_length=200, null=True)
        industry = peewee.CharField(max_length=100, null=True)
        message = peewee.TextField(null=True)
        source = peewee.CharField(max_length=12)
        status = peewee.CharField(max_length=12)
        score = peewee.IntegerField(default=0)
        assigned_to = peewee.CharField(max_length=17, null=True)
        custom_fields = peewee.JSONField()
        tags = peewee.JSONField()
        created_at = peewee.DateTimeField()
        updated_at = peewee.DateTimeField()

        class Meta:
            table_name = "leads"
            primary_key = peewee.CompositeKey("tenant_id", "id")
            # Every list sort/filter is served by one of these, keyset-paginated on
            # (sort column, id): no OFFSET scan, no COUNT(*).
            indexes = (
                (("tenant_id", "environment", "created_at", "id"), False),
                (("tenant_id", "environment", "updated_at", "id"), False),
                (("tenant_id", "environment", "score", "id"), False),
                (("tenant_id", "environment", "last_name", "id"), False),
                (("tenant_id", "environment", "status", "created_at", "id"), False),
                (("tenant_id", "environment", "source", "created_at", "id"), False),
                (("tenant_id", "environment", "assigned_to", "created_at", "id"), False),
                (("tenant_id", "environment", "email_normalized"), False),
                (("tenant_id", "environment", "phone_e164"), False),
            )

    class LeadTag(Base):
        tenant_id = peewee.CharField(max_length=17)
        environment = peewee.CharField(max_length=8)
        tag = peewee.CharField(max_length=50)
        lead_id = peewee.CharField(max_length=17)

        class Meta:
            table_name = "lead_tags"
            primary_key = peewee.CompositeKey("tenant_id", "environment", "tag", "lead_id")
            indexes = ((("tenant_id", "lead_id"), False),)

    class LeadEvent(Base):
        tenant_id = peewee.CharField(max_length=17)
        id = peewee.CharField(max_length=17)
        lead_id = peewee.CharField(max_length=17)
        action = peewee.CharField(max_length=32)
        actor_type = peewee.CharField(max_length=12)
        actor_id = peewee.CharField(max_length=17)
        on_behalf_of = peewee.CharField(max_length=17, null=True)
        changes = peewee.JSONField()
        request_id = peewee.CharField(max_length=128, null=True)
        occurred_at = peewee.DateTimeField()

        class Meta:
            table_name = "lead_events"
            primary_key = peewee.CompositeKey("tenant_id", "id")
            indexes = ((("tenant_id", "lead_id", "occurred_at", "id"), False),)

    db.create_tables([Tenant, User, ApiKey, Lead, LeadTag, LeadEvent])
    # Names are unique among a tenant's *active* keys only: revoked keys free their name.
    db.execute_sql(
        "CREATE UNIQUE INDEX api_keys_active_name ON api_keys (tenant_id, name) WHERE revoked_at IS NULL"
    )
    db.execute_sql("CREATE INDEX api_keys_tenant_created ON api_keys (tenant_id, created_at, id)")
